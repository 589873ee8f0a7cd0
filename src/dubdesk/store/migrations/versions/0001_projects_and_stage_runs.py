"""projects and stage runs

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
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('folder', sa.String(length=500), nullable=False),
    sa.Column('source_name', sa.String(length=500), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('target_languages', sa.JSON(), nullable=False),
    sa.Column('commercial', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('folder')
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_source_sha256'), ['source_sha256'], unique=False)

    op.create_table('stage_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('engine', sa.JSON(), nullable=True),
    sa.Column('output', sa.String(length=500), nullable=True),
    sa.Column('output_sha256', sa.String(length=64), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'stage', 'key')
    )
    with op.batch_alter_table('stage_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_runs_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stage_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_runs_project_id'))

    op.drop_table('stage_runs')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_source_sha256'))

    op.drop_table('projects')
