"""issue 16: drill schedules in the read model (`drill_schedules`), listed by their next drill

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'drill_schedules',
        sa.Column('schedule_id', sa.String(length=100), nullable=False),
        sa.Column('building_id', sa.String(length=32), nullable=False),
        sa.Column('drill_type', sa.String(length=16), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('next_deadline', _AT, nullable=True),
        sa.Column('next_action', _AT, nullable=True),
        sa.Column('view', sa.JSON(), nullable=False),
        sa.Column('created_at', _AT, nullable=False),
        sa.Column('updated_at', _AT, nullable=False),
        sa.PrimaryKeyConstraint('schedule_id'),
    )
    for column in ('building_id', 'drill_type', 'next_deadline', 'next_action'):
        op.create_index(f'ix_drill_schedules_{column}', 'drill_schedules', [column])


def downgrade() -> None:
    op.drop_table('drill_schedules')
