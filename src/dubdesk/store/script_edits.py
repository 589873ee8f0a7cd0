"""A project's script edits as rows: recorded in order, read back as `script_edits.LineEdit`s, and
the takes an edit made obsolete marked as retired by it. The one place edits become rows."""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..script_edits import LineEdit, edit_from_json
from .models import Clip, ScriptEdit


def recorded_edits(session: Session, project_id: int) -> list[LineEdit]:
    """The project's script edits in the order they were made."""
    rows = session.scalars(select(ScriptEdit).where(ScriptEdit.project_id == project_id).order_by(ScriptEdit.id))
    return [edit_from_json(row.edit) for row in rows]


def record_edit(session: Session, project_id: int, edit: LineEdit) -> int:
    """Add the edit at the end of the project's list (in `session`'s transaction); its number."""
    row = ScriptEdit(project_id=project_id, line_id=edit.line_id, edit=edit.to_json(), actor=edit.by)
    session.add(row)
    session.flush()
    return row.id


def retire_takes(session: Session, project_id: int, line_ids: Collection[str], edit_number: int) -> int:
    """Every take of these lines, in every language, no longer current (store.takes skips them): the line
    they were spoken for changed. Returns how many were retired."""
    done = session.execute(update(Clip).where(Clip.project_id == project_id, Clip.line_id.in_(line_ids),
                                              Clip.retired_by.is_(None)).values(retired_by=edit_number)
                           .execution_options(synchronize_session=False))
    return done.rowcount
