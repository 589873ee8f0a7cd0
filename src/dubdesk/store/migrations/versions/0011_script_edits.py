"""a person's edits of the script, and the takes each one retired

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'script_edits',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=False,
                  index=True),
        sa.Column('line_id', sa.String(40), nullable=False),
        sa.Column('edit', sa.JSON(), nullable=False),
        sa.Column('actor', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    # a plain ADD COLUMN (no table rebuild), so the triggers of 0007 on other tables are untouched
    op.add_column('clips', sa.Column('retired_by', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.drop_column('retired_by')
    op.drop_table('script_edits')
