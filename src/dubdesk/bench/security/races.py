"""The race attacks: two processes (each a reviewer) save edits made from one version of a line, round
after round; held when one edit is saved with its take and the other refused as stale, leaving no take.
"""
from __future__ import annotations

import multiprocessing
import queue

from sqlalchemy import select

from ...config import Settings
from ...context import Context
from ...errors import DubdeskError
from ...services import projects, speech, translation
from ...services.desk import regenerate_line
from ...store.models import Clip
from ...translate.edits import StaleEditError
from .common import LANGUAGE, Attempt

RACERS = ("ana", "bruno")


def race_edits(settings: Settings, project_id: int, line_id: str, name: str, rounds: int, barrier, outcomes) -> None:
    """One reviewer in a process of their own: each round, read the line's version, wait for the other,
    then save an edit; puts (round, name, 'saved' | 'refused') on `outcomes`."""
    ctx = Context(settings)
    project = projects.project(ctx, project_id)
    for round_ in range(rounds):
        barrier.wait()
        version = translation.translations(ctx, project, LANGUAGE)[line_id].version
        barrier.wait()  # both hold the same version now
        try:
            regenerate_line(ctx, project, line_id, LANGUAGE, edit_text(round_, name), name, version)
            outcomes.put((round_, name, "saved"))
        except StaleEditError:
            outcomes.put((round_, name, "refused"))


def edit_text(round_: int, name: str) -> str:
    return f"Versión {round_} de {name}."


def race(ctx: Context, project, line_id: str, rounds: int) -> list[tuple[int, str, str]]:
    """Two processes editing `line_id` from the same version `rounds` times; every (round, name, outcome)."""
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(2), context.Queue()
    racers = [context.Process(target=race_edits, args=(ctx.settings, project.id, line_id, name, rounds, barrier, outcomes))
              for name in RACERS]
    for racer in racers:
        racer.start()
    results = []
    while len(results) < 2 * rounds:
        try:
            results.append(outcomes.get(timeout=5))
        except queue.Empty:
            _refuse_failed(racers)
    for racer in racers:
        racer.join(60)
    _refuse_failed(racers)
    return results


def _refuse_failed(racers) -> None:
    """A racer that died cannot answer the other's barrier: stop both and say so."""
    failed = [racer for racer in racers if racer.exitcode not in (None, 0)]
    if failed:
        for racer in racers:
            racer.kill()
        raise DubdeskError(f"racing process {failed[0].name} ended with exit code {failed[0].exitcode}; "
                           f"nothing was measured")


def race_trials(ctx: Context, project, rounds: int) -> list[Attempt]:
    """Held rounds: one edit saved with its take, the other refused as stale and leaving no take."""
    line_id = next(iter(speech.current_clips(ctx, project, LANGUAGE)))
    results = race(ctx, project, line_id, rounds)
    with ctx.sessions() as session:
        takes = set(session.scalars(select(Clip.text).where(Clip.line_id == line_id, Clip.project_id == project.id)))
    return [_round(round_, {name: outcome for r, name, outcome in results if r == round_}, takes) for round_ in range(rounds)]


def _round(round_: int, outcomes: dict[str, str], takes: set[str]) -> Attempt:
    saved = [name for name, outcome in outcomes.items() if outcome == "saved"]
    lost = [name for name in saved if edit_text(round_, name) not in takes]
    leftover = [name for name, outcome in outcomes.items() if outcome == "refused" and edit_text(round_, name) in takes]
    attack = f"round {round_ + 1}: {' and '.join(RACERS)} save edits made from one version"
    if len(saved) == 1 and not lost and not leftover:
        return Attempt("races", attack, "held", f"{saved[0]} saved with a take; the other refused as stale, no take left")
    return Attempt("races", attack, "lost", f"saved: {saved or 'none'}; saved without a take: {lost}; "
                                            f"refused but left a take: {leftover}")
