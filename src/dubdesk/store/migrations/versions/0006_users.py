"""users with roles; voice profiles owned by a user

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(120), nullable=False, unique=True),
        sa.Column('password_hash', sa.String(300), nullable=False),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table('voice_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('voice_profiles', schema=None) as batch_op:
        batch_op.drop_column('owner')
    op.drop_table('users')
