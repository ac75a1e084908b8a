"""issue 15: the staff app: sign-in codes, app notices, photos (placeholder until filled)

Revision ID: 0006
Revises: 0005
"""

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
