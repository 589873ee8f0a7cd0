"""A person's fixes to the script (the script stage's): a line split at a word, merged with a later
line, retimed, or moved to another speaker. The edits and their line ids are in script_edits.

Each edit is checked against the script as it is now, added to the project's ordered edit list and
audited (who, when, what) in one transaction. The script every stage reads is the machine's with
that list applied (scripting.edited_script), so the edit survives every rebuild.

What was made for a line as it was no longer stands for it as it is: every take of a changed or
ended line is retired (the next run speaks, fits and checks it anew, and its old approval no longer
counts), and so is the take of an untouched line whose slot (its room up to the next line) the edit
changed, whose fit, and so its decision, would not hold. A line whose words changed or ended loses
its translations too (the next run translates it; a person's text is kept in the audit log); a
retimed or moved line keeps its translation, its words being the same. Lines nobody touched keep
their translations, takes and decisions.

Like edit_translation, these check no role: a face calls them for a person it has let edit the script
(in the browser, the localization role).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..context import Context
from ..core import Line, Script
from ..errors import ScriptEditError
from ..script_edits import EditedScript, LineEdit, Merge, Move, Retime, Split, find_line, new_line_id, word_at
from ..store import Project
from ..store.audit import audit
from ..store.models import LineTranslation
from ..store.script_edits import record_edit, retire_takes
from ..translate import slot_durations
from .scripting import edited_script

AUDITED = {"split": "line split", "merge": "lines merged", "retime": "line retimed", "move": "line moved"}


@dataclass(frozen=True)
class LineChange:
    """What one edit did: the lines it made or changed (in script order), the lines it ended, and every
    line whose takes no longer count (those, and an untouched line whose slot changed)."""

    edit: LineEdit
    lines: tuple[Line, ...]
    gone: tuple[str, ...]
    to_speak_again: tuple[str, ...]
    retired_takes: int


def split_line(ctx: Context, project: Project, line_id: str, *, at_word: int | None = None,
               at_time: float | None = None, by: str) -> LineChange:
    """The line in two: the new line starts at its word number `at_word` (counted from 1), or at the
    first word that starts at `at_time` seconds or later. The first part keeps the id; the second gets
    the next id under it no line has had (L0005 -> L0005 and L0005.2, then L0005.3: see script_edits)."""
    edited = edited_script(ctx, project)
    line = find_line(edited.script, line_id)
    if (at_word is None) == (at_time is None):
        raise ScriptEditError(f"say where to split line {line_id}: at a word or at a time, one of the two")
    word = at_word if at_word is not None else word_at(line, at_time)
    new_id = new_line_id(line.id, {other.id for other in edited.script.lines} | _split_ids(edited))
    return _make(ctx, project, edited.script, Split(by, line.id, line.text, word, new_id))


def merge_lines(ctx: Context, project: Project, first_id: str, second_id: str, *, speaker: str | None = None,
                by: str) -> LineChange:
    """A line and a later one as one line under the first's id; `speaker` (one of theirs) says who
    speaks it when the two have different speakers."""
    script = edited_script(ctx, project).script
    first, second = find_line(script, first_id), find_line(script, second_id)
    return _make(ctx, project, script, Merge(by, first.id, first.text, second.id, second.text, speaker))


def retime_line(ctx: Context, project: Project, line_id: str, start: float, end: float, *, by: str) -> LineChange:
    """The line from `start` to `end` seconds: inside the programme, at least script.MIN_LINE_S long,
    clear of the lines its speaker says before and after it."""
    script = edited_script(ctx, project).script
    line = find_line(script, line_id)
    return _make(ctx, project, script, Retime(by, line.id, line.text, start, end))


def move_line(ctx: Context, project: Project, line_id: str, speaker: str, *, by: str) -> LineChange:
    """The line given to `speaker` (a known speaker, or a new one the diarizer missed), clear of that
    speaker's own lines."""
    script = edited_script(ctx, project).script
    line = find_line(script, line_id)
    return _make(ctx, project, script, Move(by, line.id, line.text, speaker.strip()))


def _split_ids(edited: EditedScript) -> set[str]:
    """Every id a split of this project has given, applied or not: never given again to another line."""
    edits = (*edited.applied, *(unapplied.edit for unapplied in edited.unapplied))
    return {edit.new_id for edit in edits if isinstance(edit, Split)}


def _make(ctx: Context, project: Project, before: Script, edit: LineEdit) -> LineChange:
    """Apply the edit to `before` (refused, saying why, if it cannot be made), then record it, retire
    the takes and translations it made obsolete and audit it, in one transaction."""
    if not edit.by.strip():
        raise ScriptEditError(f"{edit}: an edit of the script must name the person who made it")
    after = edit.apply(before)
    old, new = {line.id: line for line in before.lines}, {line.id: line for line in after.lines}
    changed = tuple(line for line in after.lines if old.get(line.id) != line)
    gone = tuple(line_id for line_id in old if line_id not in new)
    reworded = [line.id for line in changed if line.id in old and old[line.id].text != line.text] + list(gone)
    to_speak_again = tuple(sorted({line.id for line in changed} | set(gone) | _slots_changed(before, after)))
    with ctx.sessions() as session:
        number = record_edit(session, project.id, edit)
        retired = retire_takes(session, project.id, to_speak_again, number)
        dropped = _drop_translations(session, project, reworded)
        audit(session, edit.by, AUDITED[edit.kind], project.id, edit.line_id, edit=edit.to_json(),
              lines=[line.id for line in changed], gone=list(gone), retired_takes=retired, dropped_translations=dropped)
        session.commit()
    return LineChange(edit, changed, gone, to_speak_again, retired)


def _slots_changed(before: Script, after: Script) -> set[str]:
    """Lines in both scripts whose slot differs: a line now starting earlier shortens the slot before it."""
    was = dict(zip((line.id for line in before.lines), slot_durations(before)))
    return {line.id for line, slot in zip(after.lines, slot_durations(after)) if line.id in was and was[line.id] != slot}


def _drop_translations(session: Session, project: Project, line_ids: list[str]) -> list[dict[str, str]]:
    """Remove these lines' texts in every language; what they said (for the audit log)."""
    chosen = (LineTranslation.project_id == project.id, LineTranslation.line_id.in_(line_ids))
    dropped = [{"line": row.line_id, "language": row.language, "origin": row.origin, "text": row.text}
               for row in session.scalars(select(LineTranslation).where(*chosen))]
    session.execute(delete(LineTranslation).where(*chosen).execution_options(synchronize_session=False))
    return dropped
