"""The sealed-take attacks: the rows and files tests/test_trust.py forges under the approved takes with
raw access to the database; the mix must refuse each and write nothing.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from ...audio import RATE
from ...context import Context
from ...errors import TamperedError
from ...services import delivery, desk, speech
from ...store.models import Clip
from ...voices.registry import ConsentError
from .common import LANGUAGE, REVIEWER, VOICE, Attempt, refused


@contextmanager
def _database(ctx: Context) -> Iterator[Callable[..., None]]:
    """A raw connection to the data folder's database (what an attacker with the file has): yields `sql`."""
    connection = sqlite3.connect(ctx.settings.home / "dubdesk.db")

    def sql(statement: str, parameters: tuple = ()) -> None:
        connection.execute(statement, parameters)
        connection.commit()

    try:
        yield sql
    finally:
        connection.rollback()
        connection.close()


def take_tamperings(ctx: Context, project, scratch: Path) -> list[Attempt]:
    """The rows and files tests/test_trust.py forges under the approved takes; the mix must refuse each
    (and write nothing), each undone before the next."""
    clips = speech.current_clips(ctx, project, LANGUAGE)
    first, second, third = list(clips)[:3]
    out = scratch / "refused mix"
    out.mkdir()

    def mix() -> Path:
        return delivery.deliver(ctx, project, LANGUAGE, out)

    with _database(ctx) as sql:
        sql("UPDATE clips SET profile_id = 'stock-pico-it-it' WHERE id = ?", (clips[first].id,))
        attempts = [refused("takes", "relabel a take with another voice", mix, ConsentError, "never had")]
        sql("UPDATE clips SET profile_id = ?, text = 'Otra cosa.' WHERE id = ?", (VOICE, clips[first].id))
        attempts.append(refused("takes", "edit a take's text", mix, TamperedError, "does not match its seal"))
        sql("UPDATE clips SET text = ? WHERE id = ?", (clips[first].text, clips[first].id))
        attempts.append(_replaced_fitted_file(ctx, project, clips[second], mix))
        desk.review(ctx, project, third, LANGUAGE, REVIEWER, approve=False, note="too flat")
        sql("INSERT INTO reviews (clip_id, decision, reviewer, created_at) VALUES (?, 'approved', ?, CURRENT_TIMESTAMP)",
            (clips[third].id, REVIEWER))
        attempts.append(refused("takes", "insert an approval with no seal", mix, TamperedError, "approval carries no seal"))
        sql("UPDATE qc_results SET verdict = 'pass', reason = 'fine' WHERE clip_id = ?", (clips[third].id,))
        attempts.append(refused("takes", "forge a QC verdict, then approve", lambda: desk.review(ctx,
            project, third, LANGUAGE, REVIEWER, approve=True), TamperedError, "QC verdicts does not match its seal"))
        attempts.append(refused("takes", "delete a decision", lambda: sql("DELETE FROM reviews WHERE clip_id = ?", (clips[third].id,)),
                                sqlite3.DatabaseError, "append-only"))
    written = sorted(p.name for p in out.iterdir())
    attempts.append(Attempt("takes", "leave files behind from a refused mix", "broken" if written else "held",
                            f"written: {written}" if written else "the refused mixes wrote nothing"))
    return attempts


def _replaced_fitted_file(ctx: Context, project, clip: Clip, mix: Callable[[], Path]) -> Attempt:
    fitted = ctx.folder(project) / clip.fitted.path
    kept = fitted.read_bytes()
    sf.write(fitted, np.zeros(RATE, np.float32), RATE)  # another recording over the generated line
    try:
        return refused("takes", "replace a fitted clip's file", mix, TamperedError, "the fitted clip .* was replaced")
    finally:
        fitted.write_bytes(kept)
