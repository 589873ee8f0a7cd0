"""Fitting: each line's current take into its slot (see fit.py), toward the length it aims at (see
pacing.py). Lip-sync bounds apply only where the picture shows the speaker's face; a line off screen,
and every line of an audio-only source (no lips to match: a voice-over), gets the voice-over bounds.
A take already fitted to the same slot, aim and bounds keeps its fit, and so the decisions made on it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from ..context import Context, Progress, no_progress
from ..core import Fit, Line, Script
from ..files import sha256_file
from ..fit import bounds_for, fit_clip, speech_share
from ..store import Project
from ..store.models import Clip
from ..takes import fit_body
from ..translate import slot_durations
from .pacing import LineAim, line_aims
from .scripting import script as script_of
from .speech import current_clips


@dataclass(frozen=True)
class FitRun:
    """Each line's fit, and which lines were fitted anew in this run (the others' fits stood)."""

    fits: dict[str, Fit]
    fitted_now: frozenset[str]


def fit(ctx: Context, project: Project, language: str, progress: Progress = no_progress) -> FitRun:
    """Fit every line's current clip into its slot."""
    script = script_of(ctx, project)
    clips = current_clips(ctx, project, language)
    aims = line_aims(ctx, project, script, {line_id: clip.text for line_id, clip in clips.items()}, language)
    fits, fitted_now = {}, set()
    for index, (line, slot) in enumerate(zip(script.lines, slot_durations(script))):
        progress("fit", index, len(script.lines))
        if line.id in clips:
            fits[line.id], fresh = _fit_line(ctx, project, line, slot, aims[line.id], clips[line.id])
            if fresh:
                fitted_now.add(line.id)
    return FitRun(fits, frozenset(fitted_now))


def fit_line(ctx: Context, project: Project, script: Script, line_id: str, language: str) -> Fit:
    """Fit one line's current clip (after it was spoken again)."""
    index = next(i for i, line in enumerate(script.lines) if line.id == line_id)
    clip = current_clips(ctx, project, language)[line_id]
    aim = line_aims(ctx, project, script, {line_id: clip.text}, language)[line_id]
    fitted, _ = _fit_line(ctx, project, script.lines[index], slot_durations(script)[index], aim, clip)
    return fitted


def _fit_line(ctx: Context, project: Project, line: Line, slot: float, line_aim: LineAim, clip: Clip) -> tuple[Fit, bool]:
    """The clip's fit, and whether it was made now (False: the sealed fit for this slot and aim stood)."""
    shown = line_aim.on_screen
    folder, speed = ctx.folder(project), clip.settings.get("speed", 1.0)
    share = clip.settings.get("speech_share")  # a take spoken before takes kept it: measured now
    aim = line_aim.length(share if share is not None else speech_share(*sf.read(folder / clip.path, dtype="float32")))
    if _fit_stands(clip, folder, line, slot, aim, bounds_for(ctx.settings.fit, shown, speed)):
        return clip.fitted, False
    fitted = fit_clip(folder / clip.path, folder, line.start, line.duration, slot, ctx.settings.fit, shown, speed, aim)
    with ctx.sessions() as session:
        row = session.get(Clip, clip.id)
        row.fit = fitted.to_json()
        row.fit_seal = ctx.seal.sign("fit", fit_body(row))
        session.commit()
    return fitted, True


def fits(ctx: Context, project: Project, language: str) -> dict[str, Fit]:
    """The stored fit of each line's current clip (lines not fitted yet are left out)."""
    return {line_id: clip.fitted for line_id, clip in current_clips(ctx, project, language).items() if clip.fit}


def _fit_stands(clip: Clip, folder: Path, line: Line, slot: float, aim: float, bounds: tuple[float, float]) -> bool:
    """The clip's sealed fit is for this slot, aim and these bounds, and its fitted file is intact."""
    fit = clip.fitted
    if fit is None or not clip.fit_seal:
        return False
    same = (fit.start, fit.source_s, fit.slot_s, fit.aim_s, fit.bounds) == (line.start, line.duration, slot, aim, bounds)
    fitted = folder / fit.path
    return same and fitted.is_file() and sha256_file(fitted) == fit.sha256
