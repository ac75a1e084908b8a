"""issue 22: messages left on the service centre's phone (`call_recordings`)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_recordings',
        sa.Column('sid', sa.String(length=40), nullable=False),
        sa.Column('call_sid', sa.String(length=40), nullable=False),
        sa.Column('from_number', sa.String(length=20), nullable=False),
        sa.Column('case_id', sa.String(length=100), nullable=True),
        sa.Column('media_type', sa.String(length=32), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('duration', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sid'),
    )
    op.create_index('ix_call_recordings_call_sid', 'call_recordings', ['call_sid'])
    op.create_index('ix_call_recordings_case_id', 'call_recordings', ['case_id'])


def downgrade() -> None:
    op.drop_index('ix_call_recordings_case_id', table_name='call_recordings')
    op.drop_index('ix_call_recordings_call_sid', table_name='call_recordings')
    op.drop_table('call_recordings')
