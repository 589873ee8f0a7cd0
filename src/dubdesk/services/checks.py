"""Quality checks: every QC check on each line's current, fitted take (see qc/), verdicts stored
sealed per take. QC judges what will be heard; it never fits or speaks on its own."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..context import Context, Progress, no_progress
from ..core import Line, Take
from ..errors import ProjectError, listed
from ..qc import CheckResult
from ..qc.runner import LineQC, store_results
from ..review import qc_results as stored_results
from ..store import Project
from ..store.models import Clip, QCResult, Review
from ..store.takes import current_takes
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
    """Run every check on these takes (line id -> clip) and store the verdicts, sealed."""
    store_results(ctx.sessions, ctx.seal, clips, run_checks(ctx, project, language, clips, progress))


def run_checks(ctx: Context, project: Project, language: str, clips: dict[str, Clip],
               progress: Progress = no_progress) -> dict[str, list[CheckResult]]:
    """Every check on these takes (line id -> clip), with the inputs QC needs read here; nothing stored."""
    references = {profile: _references(ctx, profile) for profile in {clip.profile_id for clip in clips.values()}}
    machine = {line_id: TranslatedLine(row.text, tuple(row.untranslated), tuple(row.dropped))
               for line_id, row in translations(ctx, project, language).items() if row.origin == "machine"}
    checker = LineQC(ctx.settings, ctx.folder(project), script_of(ctx, project), language, clips,
                     face_track(ctx, project), lambda start, end: source_audio(ctx, project, start, end), references,
                     machine)
    return checker.run(progress)


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

