"""A person's text for one line, changed only if nobody changed it since they opened it.

The version check and the change are one conditional UPDATE, so of two people saving the same
version exactly one wins, whatever the processes or servers; the other is told who did. The
caller's session may hold more in the same transaction (the line spoken again), so the text and
the clip change together or not at all.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import BadInputError, ProjectError
from ..phonemes import syllable_counts
from ..store.models import LineTranslation, utcnow


class StaleEditError(ProjectError):
    """The line changed since the person opened it: their edit is refused, not lost silently."""


@dataclass(frozen=True)
class TextEdit:
    line_id: str
    language: str
    text: str
    editor: str  # a person, or the engine that offered a shorter wording
    expected_version: int  # the version the editor saw
    origin: str = "human"  # "machine": applies only while no person has written the line


def apply_edit(session: Session, project_id: int, edit: TextEdit) -> None:
    """Write the edit in `session`'s transaction, or raise (the caller rolls back)."""
    text = edit.text.strip()
    values = {"text": text, "origin": edit.origin, "version": LineTranslation.version + 1, "updated_at": utcnow(),
              "over_budget": LineTranslation.budget_syllables < syllable_counts([text], edit.language)[0],
              "untranslated": [], "dropped": []}
    if edit.origin == "human":
        values["edited_by"] = edit.editor
    done = session.execute(
        update(LineTranslation)
        .where(LineTranslation.project_id == project_id, LineTranslation.line_id == edit.line_id,
               LineTranslation.language == edit.language, LineTranslation.version == edit.expected_version,
               LineTranslation.origin.in_(("human", "machine") if edit.origin == "human" else ("machine",)))
        .values(**values)
        .execution_options(synchronize_session=False))
    if done.rowcount == 1:
        return
    row = session.scalar(select(LineTranslation).where(
        LineTranslation.project_id == project_id, LineTranslation.line_id == edit.line_id,
        LineTranslation.language == edit.language))
    if row is None:
        raise ProjectError(f"line {edit.line_id} has no {edit.language} text yet; translate first")
    raise StaleEditError(f"line {edit.line_id} ({edit.language}) was changed by {row.edited_by or 'the machine'} since "
                         f"you opened it (version {row.version}, yours {edit.expected_version}); reload it")


ADAPTATION_COLUMNS = ("line", "source", "dub")


def read_adaptation(path: Path) -> dict[str, str]:
    """An adapter's script: a UTF-8 TSV with the columns line, source (for the reader) and dub, one row
    per line to write by hand; line id -> the dub's words."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadInputError(path, f"cannot be read as a UTF-8 TSV ({error})") from error
    if not rows or set(ADAPTATION_COLUMNS) - set(rows[0]):
        raise BadInputError(path, f"needs a header row with the columns {', '.join(ADAPTATION_COLUMNS)} and one row per line")
    empty = [row["line"] for row in rows if not (row["dub"] or "").strip()]
    if empty:
        raise BadInputError(path, f"no dub text for {', '.join(empty)}")
    return {row["line"].strip(): row["dub"].strip() for row in rows}
