"""The review desk's service functions: pages of lines with everything a reviewer needs, one line
regenerated after an edit, the source segment to play, the mix gate, a voice's usage log.

Each reads what a page shows in a few queries, so paging stays fast on programmes of 1,000+
lines. The web UI calls these (and the Workbench), as do the tests and the benchmark.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
from sqlalchemy import select

from .audio import RATE
from .errors import ProjectError
from .export.timecode import timecode_in, timecode_out
from .qc.runner import LineQC, store_results
from .shelf import shelf
from .store import Project
from .store.models import Clip, LineTranslation, QCResult, Review
from .translate.edits import TextEdit
from .workbench import Workbench

SHOW = ("all", "pending", "failed QC", "approved", "rejected")


@dataclass(frozen=True)
class ReviewRow:
    line_id: str
    speaker: str
    start: float
    end: float
    timecode_in: str
    timecode_out: str
    source_text: str
    text: str  # the dub's words (empty before translation)
    version: int  # of the text, for refusing a stale edit
    clip_path: str | None  # the fitted clip (or the raw one before fitting), relative to the project folder
    qc: dict[str, tuple[str, str]]  # check -> (verdict, reason)
    decision: str  # pending | approved | rejected | blocked
    clip_id: int | None  # the take shown, so a decision on it can be refused once the line has a newer one

    @property
    def worst(self) -> str:
        verdicts = [v for v, _ in self.qc.values()]
        return next((v for v in ("fail", "warn", "pass") if v in verdicts), "-")


def review_rows(workbench: Workbench, project: Project, language: str, only: set[str] | None = None) -> list[ReviewRow]:
    """Every line of the script (or the lines `only` names) with its text, clip, verdicts and latest
    decision, read in a few queries."""
    lines = [line for line in workbench.script(project).lines if only is None or line.id in only]
    rate = workbench.settings.script.frame_rate
    some_texts = [] if only is None else [LineTranslation.line_id.in_(only)]
    some_clips = [] if only is None else [Clip.line_id.in_(only)]
    with workbench.sessions() as session:
        texts = {row.line_id: row for row in session.scalars(select(LineTranslation).where(
            LineTranslation.project_id == project.id, LineTranslation.language == language, *some_texts))}
        clips = {}
        for clip in session.scalars(select(Clip).where(Clip.project_id == project.id, Clip.language == language,
                                                       *some_clips).order_by(Clip.id)):
            clips[clip.line_id] = clip
        ids = [clip.id for clip in clips.values()]
        verdicts = defaultdict(dict)
        for result in session.scalars(select(QCResult).where(QCResult.clip_id.in_(ids))):
            verdicts[result.clip_id][result.check] = (result.verdict, result.reason)
        decisions = {}
        for review in session.scalars(select(Review).where(Review.clip_id.in_(ids)).order_by(Review.id)):
            decisions[review.clip_id] = review.decision
    rows = []
    for line in lines:
        clip, text = clips.get(line.id), texts.get(line.id)
        decision = "pending" if clip is None else ("blocked" if clip.status == "blocked" else decisions.get(clip.id, "pending"))
        rows.append(ReviewRow(line.id, line.speaker, line.start, line.end, timecode_in(line.start, rate),
                              timecode_out(line.end, rate), line.text, text.text if text else "",
                              text.version if text else 0,
                              (clip.fit or {}).get("path", clip.path) if clip else None,
                              verdicts.get(clip.id, {}) if clip else {}, decision, clip.id if clip else None))
    return rows


def review_page(workbench: Workbench, project: Project, language: str, page: int = 1, size: int = 50,
                show: str = "all", speaker: str | None = None) -> tuple[list[ReviewRow], int]:
    """One page of lines matching the filter, and how many pages there are."""
    rows = [row for row in review_rows(workbench, project, language)
            if (speaker in (None, "", "all") or row.speaker == speaker) and _shown(row, show)]
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return rows[(page - 1) * size:page * size], pages


def _shown(row: ReviewRow, show: str) -> bool:
    if show == "pending":
        return row.decision == "pending"
    if show == "failed QC":
        return row.worst == "fail"
    if show in ("approved", "rejected"):
        return row.decision == show
    return True


def regenerate_line(workbench: Workbench, project: Project, line_id: str, language: str, text: str, editor: str,
                    expected_version: int) -> ReviewRow:
    """Speak a person's edit again in the line's cast voice (consent is checked now) and save the text
    and the clip together: refused whole if the line changed since they opened it or the voice may
    not speak it. Then fit it: this line only. Its QC follows (`check_line`)."""
    previous = workbench.current_clips(project, language).get(line_id)
    if previous is None:
        raise LookupError(f"line {line_id} has no {language} clip to regenerate; run synthesis first")
    workbench.synthesize(project, line_id, text.strip(), language, previous.profile_id, previous.settings.get("use", "dubbing"),
                         edit=TextEdit(line_id, language, text, editor, expected_version), by=editor)
    workbench.fit_line(project, workbench.script(project), line_id, language)
    return review_row(workbench, project, language, line_id)


def adapt_lines(workbench: Workbench, project: Project, language: str, texts: dict[str, str], editor: str) -> list[ReviewRow]:
    """A person's words for several lines (an adapter's script): each line whose text differs is spoken
    again, fitted and checked, as if edited on its own; lines already saying these words are left be."""
    current, rows = workbench.translations(project, language), []
    unknown = sorted(set(texts) - set(current))
    if unknown:
        raise ProjectError(f"no {language} text to replace for line(s) {', '.join(unknown)}; translate first, and check the ids")
    for line_id, text in texts.items():
        if current[line_id].text != text:
            regenerate_line(workbench, project, line_id, language, text, editor, current[line_id].version)
            rows.append(check_line(workbench, project, line_id, language))
    return rows


def check_line(workbench: Workbench, project: Project, line_id: str, language: str) -> ReviewRow:
    """Every QC check on one line's current clip, stored with it."""
    clip = workbench.current_clips(project, language)[line_id]
    checks = LineQC(workbench, project, language, workbench.script(project), {line_id: clip}).run(lambda *_: None)
    store_results(workbench.sessions, workbench.seal, {line_id: clip}, checks)
    return review_row(workbench, project, language, line_id)


def review_row(workbench: Workbench, project: Project, language: str, line_id: str) -> ReviewRow:
    """One line's row; LookupError when the script has no such line."""
    found = review_rows(workbench, project, language, only={line_id})
    if not found:
        raise LookupError(f"no line {line_id}")
    return found[0]


def source_segment(workbench: Workbench, project: Project, line_id: str, margin_s: float = 0.3) -> Path:
    """The source line (with a little room either side) as a file a player can load; made once."""
    line = next(line for line in workbench.script(project).lines if line.id == line_id)
    target = workbench.folder(project) / "review" / f"{line_id} source.wav"
    if not target.exists():
        segment = workbench.source_audio(project, max(0.0, line.start - margin_s), line.end + margin_s)
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, segment, RATE, subtype="PCM_16")
    return target


def unapproved(workbench: Workbench, project: Project, language: str) -> list[str]:
    """The lines that keep the mix closed (not approved, blocked, or never spoken)."""
    return [row.line_id for row in review_rows(workbench, project, language) if row.decision != "approved"]


def mix_gate(workbench: Workbench, project: Project, language: str) -> str | None:
    """Why the mix is closed, naming the lines (the first 20); None when every line is approved."""
    waiting = unapproved(workbench, project, language)
    if not waiting:
        return None
    return f"Mix unavailable: {len(waiting)} line(s) not approved: " + ", ".join(waiting[:20]) + (" …" if len(waiting) > 20 else "")


def deliver_to_shelf(workbench: Workbench, project: Project, language: str, by: str) -> Path:
    """Mix and deliver onto the deliveries shelf, where the browser lists packages."""
    return workbench.deliver(project, language, shelf(workbench.settings), by=by)


@dataclass(frozen=True)
class Usage:
    when: str
    project: str
    line_id: str
    language: str
    text: str
    path: Path
    status: str


def usage_log(workbench: Workbench, profile_id: str) -> list[Usage]:
    """Every line generated in this voice, newest first, by project and date, with its clip."""
    projects = {p.id: p for p in workbench.projects()}
    return [Usage(clip.created_at.strftime("%Y-%m-%d %H:%M"), projects[clip.project_id].name, clip.line_id, clip.language,
                  clip.text, workbench.folder(projects[clip.project_id]) / clip.path, clip.status)
            for clip in reversed(workbench.clips(profile_id=profile_id)) if clip.project_id in projects]
