"""casting, translations, series

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('castings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('profile_id', sa.String(length=80), nullable=False),
    sa.Column('series', sa.String(length=200), nullable=True),
    sa.Column('character', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['voice_profiles.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'speaker', 'language')
    )
    with op.batch_alter_table('castings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_castings_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_castings_series'), ['series'], unique=False)

    op.create_table('line_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('text', sa.String(length=4000), nullable=False),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('engine', sa.JSON(), nullable=True),
    sa.Column('budget_chars', sa.Integer(), nullable=False),
    sa.Column('over_budget', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('edited_by', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'line_id', 'language')
    )
    with op.batch_alter_table('line_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_line_translations_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('characters', sa.JSON(), nullable=False, server_default='{}'))



def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('characters')
        batch_op.drop_column('series')

    with op.batch_alter_table('line_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_line_translations_project_id'))

    op.drop_table('line_translations')
    with op.batch_alter_table('castings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_castings_series'))
        batch_op.drop_index(batch_op.f('ix_castings_project_id'))

    op.drop_table('castings')
