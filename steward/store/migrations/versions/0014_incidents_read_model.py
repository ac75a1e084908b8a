"""issue 22: building-wide incidents in the read model (`incidents`); the placeholder 0012 stays empty

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('incident_id', sa.String(length=100), nullable=False),
        sa.Column('building_id', sa.String(length=32), nullable=False),
        sa.Column('units', sa.JSON(), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('opened_at', _AT, nullable=False),
        sa.Column('expected_restoration', _AT, nullable=False),
        sa.Column('restored_at', _AT, nullable=True),
        sa.Column('root_cause', sa.Text(), nullable=True),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.Column('breached', sa.Boolean(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('incident_id'),
    )
    for column in ('building_id', 'category', 'status', 'opened_at'):
        op.create_index(f'ix_incidents_{column}', 'incidents', [column])


def downgrade() -> None:
    op.drop_table('incidents')
