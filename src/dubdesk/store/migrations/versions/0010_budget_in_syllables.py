"""a line's translation budget in syllables, not characters

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Syllables per character of each language's usual speech (its syllable rate over the character rate
# used before), to carry budgets already written across; the next translation run writes exact ones.
SYLLABLES_PER_CHAR = {"en": 0.41, "es": 0.47, "pt": 0.49, "fr": 0.45, "it": 0.44, "de": 0.40, "ja": 0.98}
DEFAULT = 0.43


def _scale(column: str, inverse: bool) -> None:
    """Multiply each row's budget by its language's factor (divide, if `inverse`), at least 1."""
    factors = {language: 1 / ratio if inverse else ratio for language, ratio in SYLLABLES_PER_CHAR.items()}
    cases = " ".join(f"WHEN '{language}' THEN {factor:.4f}" for language, factor in factors.items())
    scaled = f"CAST(ROUND({column} * (CASE language {cases} ELSE {1 / DEFAULT if inverse else DEFAULT:.4f} END)) AS INTEGER)"
    op.execute(f"UPDATE line_translations SET {column} = CASE WHEN {scaled} < 1 THEN 1 ELSE {scaled} END")


def upgrade() -> None:
    # RENAME COLUMN rewrites no table, so the triggers of 0007 stay as they are
    op.execute("ALTER TABLE line_translations RENAME COLUMN budget_chars TO budget_syllables")
    _scale("budget_syllables", inverse=False)


def downgrade() -> None:
    _scale("budget_syllables", inverse=True)
    op.execute("ALTER TABLE line_translations RENAME COLUMN budget_syllables TO budget_chars")
