"""directory, tokens and case read model

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_subject'), ['subject'], unique=False)

    op.create_table('buildings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('device_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', name='uq_case_events_case_seq')
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_events_event'), ['event'], unique=False)

    op.create_table('cases',
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('building_id', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('resident_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('handler_id', sa.String(length=32), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warned', sa.Boolean(), nullable=False),
    sa.Column('response_breached', sa.Boolean(), nullable=False),
    sa.Column('resolution_breached', sa.Boolean(), nullable=False),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.String(length=20), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_handler_id'), ['handler_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=20), nullable=False),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('sid')
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_from_number'), ['from_number'], unique=False)

    op.create_table('notifications',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.String(length=100), nullable=False),
    sa.Column('to', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=True),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key'),
    sa.UniqueConstraint('sid')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_to'), ['to'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('buildings', sa.JSON(), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_phone'), ['phone'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('building_id', sa.String(length=32), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_building_id'), ['building_id'], unique=False)

    op.create_table('residents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('household_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('preferred_channel', sa.String(length=8), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('bad_channels', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residents_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residents_phone'), ['phone'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residents_phone'))
        batch_op.drop_index(batch_op.f('ix_residents_household_id'))

    op.drop_table('residents')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_building_id'))

    op.drop_table('households')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_phone'))

    op.drop_table('staff')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_to'))
        batch_op.drop_index(batch_op.f('ix_notifications_case_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_from_number'))
        batch_op.drop_index(batch_op.f('ix_inbound_messages_case_id'))

    op.drop_table('inbound_messages')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_resident_id'))
        batch_op.drop_index(batch_op.f('ix_cases_owner_id'))
        batch_op.drop_index(batch_op.f('ix_cases_kind'))
        batch_op.drop_index(batch_op.f('ix_cases_handler_id'))
        batch_op.drop_index(batch_op.f('ix_cases_category'))
        batch_op.drop_index(batch_op.f('ix_cases_building_id'))

    op.drop_table('cases')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_event'))
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    op.drop_table('buildings')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_subject'))

    op.drop_table('api_tokens')
