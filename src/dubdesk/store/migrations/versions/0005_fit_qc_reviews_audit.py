"""clip fit, QC results, reviews, audit log

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fit', sa.JSON(), nullable=True))
    op.create_table(
        'qc_results',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('clip_id', sa.Integer(), sa.ForeignKey('clips.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('check', sa.String(40), nullable=False),
        sa.Column('verdict', sa.String(8), nullable=False),
        sa.Column('numbers', sa.JSON(), nullable=False),
        sa.Column('reason', sa.String(500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('clip_id', 'check'),
    )
    op.create_table(
        'reviews',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('clip_id', sa.Integer(), sa.ForeignKey('clips.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('decision', sa.String(12), nullable=False),
        sa.Column('reviewer', sa.String(200), nullable=False),
        sa.Column('note', sa.String(2000), nullable=True),
        sa.Column('override_reason', sa.String(2000), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False, index=True),
        sa.Column('actor', sa.String(200), nullable=False),
        sa.Column('action', sa.String(40), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=True, index=True),
        sa.Column('line_id', sa.String(40), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('audit_log')
    op.drop_table('reviews')
    op.drop_table('qc_results')
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.drop_column('fit')
