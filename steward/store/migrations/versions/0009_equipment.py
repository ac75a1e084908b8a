"""issue 21: equipment records, plans, device alarms — left empty: it landed empty; 0013 makes the tables

Revision ID: 0009
Revises: 0008
"""

from steward.store.no_schema_change import downgrade, upgrade  # noqa: F401

revision, down_revision = "0009", "0008"
branch_labels = depends_on = None
