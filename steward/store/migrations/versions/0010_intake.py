"""issue 22: phone and SMS intake — an empty placeholder that landed: never fill it, add a new revision

Revision ID: 0010
Revises: 0009
"""

from steward.store.no_schema_change import downgrade, upgrade  # noqa: F401

revision, down_revision = "0010", "0009"
branch_labels = depends_on = None
