"""every kind in the read model, deadlines for the board: the cases' next deadline (indexed, kept by
the projection so the board and /at-risk read SQL, not each workflow), hearings and drills

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('next_deadline', _AT, nullable=True))
        batch_op.add_column(sa.Column('next_deadline_kind', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('subject_staff_id', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_cases_next_deadline', ['next_deadline', 'case_id'])
        batch_op.create_index('ix_cases_status_submitted', ['status', 'submitted_at', 'case_id'])
    op.create_table(
        'hearings',
        sa.Column('hearing_id', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('building_ids', sa.JSON(), nullable=False),
        sa.Column('hearing_at', _AT, nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', _AT, nullable=False),
        sa.Column('objections', sa.Integer(), nullable=False),
        sa.Column('objections_open', sa.Integer(), nullable=False),
        sa.Column('next_answer_due', _AT, nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('decided_at', _AT, nullable=True),
        sa.Column('callbacks_pending', sa.Integer(), nullable=False),
        sa.Column('next_deadline', _AT, nullable=True),
        sa.Column('next_deadline_kind', sa.String(length=32), nullable=True),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hearing_id'),
    )
    op.create_index('ix_hearings_status', 'hearings', ['status'])
    op.create_index('ix_hearings_next_deadline', 'hearings', ['next_deadline'])
    op.create_table(
        'drills',
        sa.Column('drill_id', sa.String(length=100), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('drill_type', sa.String(length=16), nullable=False),
        sa.Column('building_id', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('schedule_id', sa.String(length=100), nullable=True),
        sa.Column('scheduled_at', _AT, nullable=False),
        sa.Column('start_due', _AT, nullable=False),
        sa.Column('started_at', _AT, nullable=True),
        sa.Column('completed_at', _AT, nullable=True),
        sa.Column('participation', sa.Integer(), nullable=True),
        sa.Column('steps_done', sa.Integer(), nullable=False),
        sa.Column('steps_total', sa.Integer(), nullable=False),
        sa.Column('findings', sa.Integer(), nullable=False),
        sa.Column('report_due', _AT, nullable=True),
        sa.Column('reported_at', _AT, nullable=True),
        sa.Column('start_missed', sa.Boolean(), nullable=False),
        sa.Column('report_missed', sa.Boolean(), nullable=False),
        sa.Column('survey_asked', sa.Integer(), nullable=False),
        sa.Column('survey_heard', sa.Integer(), nullable=False),
        sa.Column('survey_not_heard', sa.Integer(), nullable=False),
        sa.Column('closed_at', _AT, nullable=True),
        sa.Column('next_deadline', _AT, nullable=True),
        sa.Column('next_deadline_kind', sa.String(length=32), nullable=True),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('drill_id'),
    )
    for column in ('drill_type', 'building_id', 'status', 'schedule_id', 'next_deadline'):
        op.create_index(f'ix_drills_{column}', 'drills', [column])


def downgrade() -> None:
    op.drop_table('drills')
    op.drop_table('hearings')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_submitted')
        batch_op.drop_index('ix_cases_next_deadline')
        batch_op.drop_column('subject_staff_id')
        batch_op.drop_column('next_deadline_kind')
        batch_op.drop_column('next_deadline')
        batch_op.drop_column('paused')
        batch_op.drop_column('title')
