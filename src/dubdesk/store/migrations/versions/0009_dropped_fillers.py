"""fillers left out of each line before translating

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild), so the triggers of 0007 on other tables are untouched
    op.add_column('line_translations', sa.Column('dropped', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('line_translations', schema=None) as batch_op:
        batch_op.drop_column('dropped')
