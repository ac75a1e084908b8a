"""issue 14: objection texts and answers kept in the database (a hearing's carried state stays small
with thousands of objections); abuse limits use 0003's rate_hits

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'hearing_objections',
        sa.Column('hearing_id', sa.String(length=100), nullable=False),
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('resident_id', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_by', sa.String(length=32), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('hearing_id', 'number'),
    )
    op.create_index('ix_hearing_objections_resident_id', 'hearing_objections', ['resident_id'])


def downgrade() -> None:
    op.drop_index('ix_hearing_objections_resident_id', table_name='hearing_objections')
    op.drop_table('hearing_objections')
