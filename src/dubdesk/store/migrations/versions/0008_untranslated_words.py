"""untranslated words per line text

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild), so the triggers of 0007 on other tables are untouched
    op.add_column('line_translations', sa.Column('untranslated', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('line_translations', schema=None) as batch_op:
        batch_op.drop_column('untranslated')
