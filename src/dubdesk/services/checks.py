"""Quality checks: every QC check on each line's current, fitted take (see qc/), verdicts stored
sealed per take. QC judges what will be heard; it never fits or speaks on its own."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..context import Context, Progress, no_progress
from ..core import Line, Take
from ..errors import ProjectError, TamperedError, listed
from ..qc import CheckResult
from ..qc.runner import LineQC, TakeReading, store_results
from ..review import qc_results as stored_results
from ..store import Project
from ..store.models import Clip, QCResult, Review
from ..store.takes import current_takes, newest_clips
from ..takes import check_verdicts
from ..translate import TranslatedLine
from .projects import source_audio
from .scripting import face_track
from .scripting import script as script_of
from .speech import current_clips
from .translation import translations


def qc(ctx: Context, project: Project, language: str, progress: Progress = no_progress,
       again: bool = False) -> dict[str, list[CheckResult]]:
    """Every check on each line's current clip, which must be fitted; verdicts are stored per clip.
    Clips checked before keep their verdicts; with `again`, those nobody has decided on yet are
    checked anew (a decision stands on the verdicts it was made on)."""
    clips = current_clips(ctx, project, language)
    unfitted = sorted(line_id for line_id, clip in clips.items() if clip.fit is None)
    if unfitted:
        raise ProjectError(f"{len(unfitted)} line(s) not fitted yet ({listed(unfitted)}): fit them first (dubdesk fit)")
    with ctx.sessions() as session:
        decided = set(session.scalars(select(Review.clip_id).where(Review.clip_id.in_([c.id for c in clips.values()]))))
    unchecked = {line_id: clip for line_id, clip in clips.items()
                 if clip.qc_seal is None or (again and clip.id not in decided)}
    if unchecked:
        check_clips(ctx, project, language, unchecked, progress)
    with ctx.sessions() as session:
        return {line_id: list(take.verdicts) for line_id, take in current_takes(session, project.id, language).items()}


def check_clips(ctx: Context, project: Project, language: str, clips: dict[str, Clip],
                progress: Progress = no_progress) -> None:
    """Run every check on these takes (line id -> clip) and store the verdicts and readings, sealed."""
    store_results(ctx.sessions, ctx.seal, clips, _checker(ctx, project, language, clips).run(progress))


def run_checks(ctx: Context, project: Project, language: str, clips: dict[str, Clip],
               progress: Progress = no_progress) -> dict[str, list[CheckResult]]:
    """Every check on these takes (line id -> clip); nothing stored."""
    return {line_id: take.verdicts for line_id, take in _checker(ctx, project, language, clips).run(progress).items()}


def _checker(ctx: Context, project: Project, language: str, clips: dict[str, Clip]) -> LineQC:
    """QC of these takes (line id -> clip), with the inputs it needs read here."""
    others = _others_read(ctx, project, language, clips)
    profiles = {clip.profile_id for clip in clips.values()} | {profile for profile, _ in others.values()}
    machine = {line_id: TranslatedLine(row.text, tuple(row.untranslated), tuple(row.dropped))
               for line_id, row in translations(ctx, project, language).items() if row.origin == "machine"}
    return LineQC(ctx.settings, ctx.folder(project), script_of(ctx, project), language, clips,
                  face_track(ctx, project), lambda start, end: source_audio(ctx, project, start, end),
                  {profile: _references(ctx, profile) for profile in profiles}, machine, others)


def _others_read(ctx: Context, project: Project, language: str, clips: dict[str, Clip]) -> dict[str, tuple[str, TakeReading]]:
    """Each other current take of the language that QC has read: its voice profile and reading. A reading
    whose seal does not hold is left out (its take is refused by name at approval and mix), as are takes
    checked before readings were kept, until checked again."""
    with ctx.sessions() as session:
        others = {line_id: clip for line_id, clip in newest_clips(session, project.id, language).items()
                  if line_id not in clips and clip.qc_reading is not None}
        results = defaultdict(list)
        for row in session.scalars(select(QCResult).where(QCResult.clip_id.in_([c.id for c in others.values()]))
                                   .order_by(QCResult.id)):
            results[row.clip_id].append(row)
    return {line_id: (clip.profile_id, TakeReading.from_json(clip.qc_reading)) for line_id, clip in others.items()
            if _sealed(ctx, clip, results[clip.id])}


def _sealed(ctx: Context, clip: Clip, results: list[QCResult]) -> bool:
    try:
        check_verdicts(ctx.seal, clip, results)
    except TamperedError:
        return False
    return True


def _references(ctx: Context, profile_id: str) -> list[Path]:
    """A profile's consented reference recordings (none for a stock voice)."""
    record = ctx.registry.current(profile_id)
    return ctx.registry.reference_paths(record) if record.references else []


def qc_results(ctx: Context, project: Project, language: str) -> dict[str, list[QCResult]]:
    """The stored verdicts of each line's current clip."""
    with ctx.sessions() as session:
        return {line_id: stored_results(session, clip.id) for line_id, clip in current_clips(ctx, project, language).items()}


@dataclass(frozen=True)
class LineVerdicts:
    """One script line with its current take (None before it was spoken): what `qc --json` prints."""

    line: Line
    take: Take | None

    def to_json(self) -> dict[str, Any]:
        take = self.take
        return {"line": self.line.id, "speaker": self.line.speaker, "start": round(self.line.start, 3),
                "end": round(self.line.end, 3), "source_text": self.line.text, "text": take.text if take else None,
                "voice_profile": take.voice_profile if take else None,
                "fit": take.fit.to_json() if take and take.fit else None,
                "checks": [check.to_json() for check in take.verdicts] if take else [],
                "decision": take.state if take else "pending"}


def line_verdicts(ctx: Context, project: Project, language: str) -> list[LineVerdicts]:
    """Every line of the script with its current take, fit, verdicts and decision, in script order."""
    with ctx.sessions() as session:
        takes = current_takes(session, project.id, language)
    return [LineVerdicts(line, takes.get(line.id)) for line in script_of(ctx, project).lines]

