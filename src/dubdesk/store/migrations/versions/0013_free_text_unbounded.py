"""free text without a length limit: notes, reasons, line texts

PostgreSQL enforces a VARCHAR's length where SQLite never did, so a long override reason, a QC reason
naming many words or a long line stopped a stage there alone. SQLite is left as it is.

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# (table, column, its length before)
WIDENED = (("projects", "purpose", 2000), ("stage_runs", "error", 2000), ("clips", "text", 4000),
           ("clips", "blocked_reason", 500), ("line_translations", "text", 4000), ("qc_results", "reason", 500),
           ("reviews", "note", 2000), ("reviews", "override_reason", 2000), ("input_rights", "note", 2000))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, _ in WIDENED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # a longer text is cut to the old length
        for table, column, length in WIDENED:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR({length}) USING left({column}, {length})")
