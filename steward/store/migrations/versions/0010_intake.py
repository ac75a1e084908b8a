"""issue 22: phone and SMS intake — an empty placeholder that landed: never fill it, add a new revision

Revision ID: 0010
Revises: 0009
"""

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
