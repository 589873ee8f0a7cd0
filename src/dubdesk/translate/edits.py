"""A person's text for one line, changed only if nobody changed it since they opened it.

The version check and the change are one conditional UPDATE, so of two people saving the same
version exactly one wins, whatever the processes or servers; the other is told who did. The
caller's session may hold more in the same transaction (the line spoken again), so the text and
the clip change together or not at all.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..core import Line, Span
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


SUBTITLE_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa")


def read_subtitles(path: Path, lines: Sequence[Line]) -> dict[str, str]:
    """A translator's subtitles in the target language: each cue's words go to the line its time overlaps
    most (a line's cues joined in order); line id -> the dub's words. A cue over no line is refused,
    naming its time, so no words are dropped silently."""
    try:
        cues = [cue for cue in pysubs2.load(str(path), encoding="utf-8") if cue.plaintext.strip()]
    except (OSError, UnicodeDecodeError, pysubs2.exceptions.Pysubs2Error) as error:
        raise BadInputError(path, f"cannot be read as UTF-8 subtitles ({error})") from error
    if not cues:
        raise BadInputError(path, "has no subtitle cues with text")
    texts: dict[str, list[str]] = {}
    for cue in sorted(cues, key=lambda cue: cue.start):
        span = Span(cue.start / 1000, cue.end / 1000)
        line = max(lines, key=lambda line: line.span.overlap(span), default=None)
        if line is None or line.span.overlap(span) == 0:
            raise BadInputError(path, f"the cue at {span.start:.2f}-{span.end:.2f} s lies over no line of the script")
        texts.setdefault(line.id, []).append(" ".join(cue.plaintext.split()))
    return {line_id: " ".join(words) for line_id, words in texts.items()}


def read_adapter_file(path: Path, lines: Sequence[Line]) -> dict[str, str]:
    """An adapter's TSV (by line id) or a translator's subtitles (by time): line id -> the dub's words."""
    return read_subtitles(path, lines) if path.suffix.lower() in SUBTITLE_SUFFIXES else read_adaptation(path)
