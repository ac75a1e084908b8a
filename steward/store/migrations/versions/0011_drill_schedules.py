"""issue 16: drill schedules in the read model — left empty: it landed empty; 0013 makes the table

Revision ID: 0011
Revises: 0010
"""

from steward.store.no_schema_change import downgrade, upgrade  # noqa: F401

revision, down_revision = "0011", "0010"
branch_labels = depends_on = None
