"""notification content: locale, params, rendered body and keypad menu

The voice webhook renders its TwiML from the stored notification and the staff app reads app
notices, so the row keeps what was said, not only which template.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('gather', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('gather')
        batch_op.drop_column('body')
        batch_op.drop_column('params')
        batch_op.drop_column('locale')
