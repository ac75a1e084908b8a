"""rate hits: the shared sliding-window counters behind abuse limits and sign-in codes

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_hits',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rate_hits_key_at', 'rate_hits', ['key', 'at'])


def downgrade() -> None:
    op.drop_index('ix_rate_hits_key_at', table_name='rate_hits')
    op.drop_table('rate_hits')
