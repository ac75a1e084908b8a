#!/bin/sh
# First start of an empty data volume only (the postgres image runs /docker-entrypoint-initdb.d once):
# one role and database for Steward, one role for Temporal, which creates its two databases itself.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v steward_password="$POSTGRES_STEWARD_PASSWORD" -v temporal_password="$POSTGRES_TEMPORAL_PASSWORD" <<'SQL'
CREATE ROLE steward LOGIN PASSWORD :'steward_password';
CREATE DATABASE steward OWNER steward;
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
