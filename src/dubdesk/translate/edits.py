"""A person's text for one line, changed only if nobody changed it since they opened it.

The version check and the change are one conditional UPDATE, so of two people saving the same
version exactly one wins, whatever the processes or servers; the other is told who did. The
caller's session may hold more in the same transaction (the line spoken again), so the text and
the clip change together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import ProjectError
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
              "over_budget": LineTranslation.budget_chars < len(text)}
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
