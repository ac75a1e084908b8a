"""issues 21 and 16: equipment records (设备档案), the device a repair case is about, device alarm
signatures; drill schedules in the read model (`drill_schedules`)

Their placeholders 0009 and 0011 had landed empty, so a database already past them gets these tables
only from a revision after them: this one.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'equipment',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('equipment_type', sa.String(length=16), nullable=False),
        sa.Column('building_id', sa.String(length=32), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.Column('model', sa.String(length=200), nullable=False),
        sa.Column('installed_on', sa.Date(), nullable=True),
        sa.Column('contractor', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('alarm_key', sa.String(length=64), nullable=False),
        sa.Column('heartbeat_seconds', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['building_id'], ['buildings.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'device_signatures',
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.String(length=32), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('signature'),
    )
    op.create_index('ix_device_signatures_received_at', 'device_signatures', ['received_at'])
    for column in ('equipment_type', 'building_id', 'status'):
        op.create_index(f'ix_equipment_{column}', 'equipment', [column])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('equipment_id', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_cases_equipment_id', ['equipment_id'])
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
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_equipment_id')
        batch_op.drop_column('equipment_id')
    op.drop_table('device_signatures')
    op.drop_table('equipment')
