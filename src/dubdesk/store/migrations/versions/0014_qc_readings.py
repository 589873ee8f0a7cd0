"""what QC read of each take (voice embedding, prosody), sealed with its verdicts

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild), so the triggers of 0007 are untouched
    op.add_column('clips', sa.Column('qc_reading', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.drop_column('qc_reading')
