"""The pipeline: the stages of a dub in the order they run. Read this first.

    ingest      projects.create_project       the source into its own folder, checked and hashed
    script      scripting.script              transcription, diarization, lines (a person's edits on top)
    translate   translation.translate         each line's text in the target language
    cast        casting.cast                  a consented voice for each speaker
    synthesize  speech.synthesize_language    each line spoken, consent checked at that moment
    fit         fitting.fit                   each take into its slot
    shorten     shorten (below)               a shorter machine wording for a take that does not fit
    qc          checks.qc                     every check on each fitted take
    review      desk.review                   a person approves or rejects each line
    deliver     delivery.deliver              the approved lines mixed, labelled, signed
    verify      delivery.verify               a package or file checked as a recipient would

`prepare_dub` runs every stage up to review; approval and delivery stay with people.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..context import SYSTEM, Context, Progress, no_progress
from ..core import Fit
from ..qc import CheckResult
from ..script_edits import Unapplied
from ..store import Project
from ..translate.edits import StaleEditError
from . import casting, checks, fitting, speech, translation
from .scripting import edited_script
from .scripting import script as script_of

Timed = Callable[[str, Callable], object]  # timed(stage, run): runs a stage, timing it (benchmarks)


@dataclass(frozen=True)
class DubReport:
    """What `prepare_dub` left for review: each line's verdicts, each line not spoken, with why, and each
    hand edit of the script that no longer applies to it (its line changed or is gone), with why."""

    results: dict[str, list[CheckResult]]
    refused: dict[str, str]
    unapplied_edits: tuple[Unapplied, ...]


def prepare_dub(ctx: Context, project: Project, language: str, voice: str, progress: Progress = no_progress,
                timed: Timed | None = None, by: str = SYSTEM) -> DubReport:
    """Every stage up to review: script, translation, every uncast speaker cast to `voice`, speech,
    fit (shorter wording where a take does not fit) and QC. Approval stays with a person. Run again,
    it redoes only what changed, and the decisions on unchanged lines stand."""
    timed = timed or (lambda stage, run: run())
    edited = timed("script", lambda: edited_script(ctx, project, progress))
    script = edited.script
    timed("translate", lambda: translation.translate(ctx, project, language, by))
    cast = casting.castings(ctx, project, language)
    timed("cast", lambda: [casting.cast(ctx, project, speaker, language, voice, by) for speaker in script.speakers
                           if speaker not in cast])
    _, refused = timed("synthesize", lambda: speech.synthesize_language(ctx, project, language, progress, by=by))
    run = timed("fit", lambda: fitting.fit(ctx, project, language, progress))
    timed("shorten", lambda: shorten(ctx, project, language, run))
    return DubReport(timed("qc", lambda: checks.qc(ctx, project, language, progress)), refused, edited.unapplied)


def fit_lines(ctx: Context, project: Project, language: str, progress: Progress = no_progress) -> dict[str, Fit]:
    """Fit every take, then shorten those that do not fit where the engine can; each line's fit."""
    run = fitting.fit(ctx, project, language, progress)
    return {**run.fits, **shorten(ctx, project, language, run)}


def shorten(ctx: Context, project: Project, language: str, run: fitting.FitRun) -> dict[str, Fit]:
    """Each take fitted now that does not fit, in machine text, spoken again in the engine's shorter
    wording and fitted; returns the new fits. A person's text is never replaced, not even one
    saved a moment ago (the wording is refused as stale)."""
    script, clips = script_of(ctx, project), speech.current_clips(ctx, project, language)
    shortened = {}
    for line in script.lines:
        fitted = run.fits.get(line.id)
        if line.id not in run.fitted_now or fitted is None or fitted.fits:
            continue
        clip = clips[line.id]
        wording = translation.shorter_wording(ctx, project, script, line, language, clip.text, fitted)
        if wording is None:
            continue
        try:
            speech.synthesize(ctx, project, line.id, wording.text, language, clip.profile_id,
                              clip.settings.get("use", "dubbing"), edit=wording)
        except StaleEditError:
            continue
        shortened[line.id] = fitting.fit_line(ctx, project, script, line.id, language)
    return shortened
