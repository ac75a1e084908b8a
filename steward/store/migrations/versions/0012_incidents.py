"""issue 22: building-wide incidents — an empty placeholder that landed: never fill it, add a revision

Revision ID: 0012
Revises: 0011
"""

from steward.store.no_schema_change import downgrade, upgrade  # noqa: F401

revision, down_revision = "0012", "0011"
branch_labels = depends_on = None
