"""The review desk: a person's decision on each line, pages of lines with everything a reviewer
needs, one line regenerated after an edit, the source segment to play, the mix gate, a voice's
usage log.

Each reads what a page shows in a few queries, so paging stays fast on programmes of 1,000+
lines. The web UI calls these, as do the CLI, the tests and the benchmark.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
from sqlalchemy import select

from ..audio import RATE
from ..context import Context
from ..core import Fit
from ..errors import DubdeskError, ProjectError
from ..export.timecode import timecode_in, timecode_out
from ..phonemes import syllable_counts
from ..review import decide
from ..store import Project
from ..store.audit import audit
from ..store.models import LineTranslation, Review
from ..store.takes import current_takes
from ..translate.edits import TextEdit
from . import rights
from .casting import castings
from .checks import check_clips
from .fitting import fit_line
from .projects import projects, source_audio
from .scripting import script as script_of
from .speech import clips, current_clip, current_clips, synthesize
from .translation import edit_translation, label_of, translations

SHOW = ("all", "pending", "failed QC", "approved", "rejected")
VERDICTS = ("all", "pass", "warn", "fail", "-")  # a line's worst verdict; "-" before QC


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
    voice: str | None  # the voice profile the take is spoken in
    budget_syllables: int | None  # what the dub may say in the source line's time (from translation)
    fit: Fit | None  # how the take sits in its slot: the rate it needs, the bound, whether it fits
    text_label: str = "to write"  # whose text it is: to write, human, machine (draft / good / production)

    @property
    def worst(self) -> str:
        return worst_verdict(v for v, _ in self.qc.values())


def worst_verdict(verdicts: Iterable[str]) -> str:
    """The worst of a take's verdicts (fail, warn, pass), or "-" before QC: what a line is filtered and coloured by."""
    found = set(verdicts)
    return next((v for v in ("fail", "warn", "pass") if v in found), "-")


def review(ctx: Context, project: Project, line_id: str, language: str, reviewer: str, approve: bool,
           note: str | None = None, override_reason: str | None = None, expected_clip_id: int | None = None) -> Review:
    """Approve or reject a line's current clip (see review.decide). With `expected_clip_id` (the clip
    the reviewer heard) the decision is refused when the line has been regenerated since."""
    clip = current_clip(ctx, project, language, line_id)
    if clip is None:
        raise ProjectError(f"line {line_id} has no {language} clip to review")
    if expected_clip_id is not None and clip.id != expected_clip_id:
        raise ProjectError(f"line {line_id} changed since you opened it (it has a new take); reload it and decide again")
    return decide(ctx.sessions, ctx.seal, clip.id, reviewer, approve, note, override_reason)


@dataclass(frozen=True)
class BulkApproval:
    """What approving every line did: lines approved as they passed, lines approved over a failed check
    (with the checks it failed), and lines left undecided (failed, and no override reason given)."""

    passed: list[str]
    overridden: dict[str, list[str]]
    left: dict[str, list[str]]


def approve_all(ctx: Context, project: Project, language: str, reviewer: str,
                override_reason: str | None = None) -> BulkApproval:
    """Approve every undecided line: those that passed every check as they are; those that failed one
    only with `override_reason`, which is written on those lines alone (each named in the result).
    Lines already decided, blocked ones and unchecked ones are left as they are. The bulk action is
    audited once more in its own name (how many, by whom, with which reason)."""
    with ctx.sessions() as session:
        takes = current_takes(session, project.id, language)
    passed, overridden, left = [], {}, {}
    for line_id, take in takes.items():
        if take.state != "pending":
            continue
        if not take.verdicts:
            left[line_id] = ["no QC results yet"]
            continue
        failed = [f"{v.check} ({v.reason})" for v in take.verdicts if v.verdict == "fail"]
        if failed and not (override_reason or "").strip():
            left[line_id] = failed
            continue
        review(ctx, project, line_id, language, reviewer, approve=True, override_reason=override_reason if failed else None,
               expected_clip_id=take.clip_id)
        if failed:
            overridden[line_id] = failed
        else:
            passed.append(line_id)
    with ctx.sessions() as session:  # the bulk action itself, beside each line's own decision
        audit(session, reviewer, "approved in bulk", project.id, language=language, passed=len(passed),
              overridden=sorted(overridden), left=len(left), override_reason=override_reason)
        session.commit()
    return BulkApproval(passed, overridden, left)


def approvals(ctx: Context, project: Project, language: str) -> dict[str, Review]:
    """Each line whose current clip's latest decision is an approval, with that decision."""
    current = {clip.id: line_id for line_id, clip in current_clips(ctx, project, language).items()}
    with ctx.sessions() as session:
        latest = {}
        for decision in session.scalars(select(Review).where(Review.clip_id.in_(current)).order_by(Review.id)):
            latest[current[decision.clip_id]] = decision
    return {line_id: decision for line_id, decision in latest.items() if decision.decision == "approved"}


def review_rows(ctx: Context, project: Project, language: str, only: set[str] | None = None) -> list[ReviewRow]:
    """Every line of the script (or the lines `only` names) with its text, clip, verdicts and latest
    decision, read in a few queries."""
    script = script_of(ctx, project)
    lines = [line for line in script.lines if only is None or line.id in only]
    rate = ctx.settings.script.frame_rate
    some_texts = [] if only is None else [LineTranslation.line_id.in_(only)]
    with ctx.sessions() as session:
        texts = {row.line_id: row for row in session.scalars(select(LineTranslation).where(
            LineTranslation.project_id == project.id, LineTranslation.language == language, *some_texts))}
        takes = current_takes(session, project.id, language, only)
    rows = []
    for line in lines:
        take, text = takes.get(line.id), texts.get(line.id)
        rows.append(ReviewRow(line.id, line.speaker, line.start, line.end, timecode_in(line.start, rate),
                              timecode_out(line.end, rate), line.text, text.text if text else "",
                              text.version if text else 0, take.heard if take else None,
                              {v.check: (v.verdict, v.reason) for v in take.verdicts} if take else {},
                              take.state if take else "pending", take.clip_id if take else None,
                              take.voice_profile if take else None, text.budget_syllables if text else None,
                              take.fit if take else None,
                              label_of(text, script.language, language) if text else "to write"))
    return rows


@dataclass(frozen=True)
class LineQuery:
    """Which lines a reviewer looks at: a decision (SHOW), a worst verdict (VERDICTS), a speaker, and
    words found in the line's id, source or dub (any case)."""

    show: str = "all"
    speaker: str = "all"
    verdict: str = "all"
    text: str = ""

    def matches(self, row: ReviewRow) -> bool:
        wanted = self.text.strip().casefold()
        return (self.speaker in ("", "all", row.speaker) and self.verdict in ("", "all", row.worst) and _shown(row, self.show)
                and (not wanted or any(wanted in field.casefold() for field in (row.line_id, row.source_text, row.text))))


def _shown(row: ReviewRow, show: str) -> bool:
    if show == "pending":
        return row.decision == "pending"
    if show == "failed QC":
        return row.worst == "fail"
    if show in ("approved", "rejected"):
        return row.decision == show
    return True


@dataclass(frozen=True)
class ReviewPage:
    """One page of the lines a query shows, with what the page around it needs: which page this is of
    how many, every speaker (for the filter), and the progress of the whole language."""

    rows: list[ReviewRow]
    page: int
    pages: int
    matching: int
    speakers: list[str]
    progress: DeskProgress


def review_page(ctx: Context, project: Project, language: str, page: int = 1, size: int = 50,
                query: LineQuery | None = None) -> ReviewPage:
    """One page of lines matching the query (all lines without one), read with the rest in one pass."""
    every = review_rows(ctx, project, language)
    rows = [row for row in every if (query or LineQuery()).matches(row)]
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return ReviewPage(rows[(page - 1) * size:page * size], page, pages, len(rows), sorted({row.speaker for row in every}),
                      desk_progress(every))


def adjacent_line(ctx: Context, project: Project, language: str, line_id: str, step: int,
                  query: LineQuery | None = None) -> str:
    """The line `step` lines after (or before, when negative) `line_id` among those the query shows,
    across pages; the first (or last) such line when `line_id` is not among them. LookupError at either end."""
    shown = [row.line_id for row in review_rows(ctx, project, language) if (query or LineQuery()).matches(row)]
    if not shown:
        raise LookupError("no line matches the filter; clear the search or choose another filter")
    at = shown.index(line_id) + step if line_id in shown else (0 if step > 0 else len(shown) - 1)
    if not 0 <= at < len(shown):
        raise LookupError(f"{line_id} is the {'last' if step > 0 else 'first'} line shown")
    return shown[at]


def regenerate_line(ctx: Context, project: Project, line_id: str, language: str, text: str, editor: str,
                    expected_version: int, voice: str | None = None) -> ReviewRow:
    """Speak a person's edit again in the line's voice, or in `voice` for this line alone (consent is
    checked now), and save the text and the clip together: refused whole if the line changed since
    they opened it or the voice may not speak it. Then fit it: this line only. Its QC follows (`check_line`)."""
    previous = current_clips(ctx, project, language).get(line_id)
    profile, use = (previous.profile_id, previous.settings.get("use", "dubbing")) if previous else \
        (_cast_voice(ctx, project, line_id, language), "dubbing")
    synthesize(ctx, project, line_id, text.strip(), language, voice or profile, use,
               edit=TextEdit(line_id, language, text, editor, expected_version), by=editor)
    fit_line(ctx, project, script_of(ctx, project), line_id, language)
    return review_row(ctx, project, language, line_id)


def _cast_voice(ctx: Context, project: Project, line_id: str, language: str) -> str:
    """The voice cast for a line's speaker, for a line spoken for the first time from a person's text."""
    line = next((line for line in script_of(ctx, project).lines if line.id == line_id), None)
    if line is None:
        raise LookupError(f"no line {line_id}")
    voice = castings(ctx, project, language).get(line.speaker)
    if voice is None:
        raise ProjectError(f"line {line_id}: {line.speaker} has no {language} voice; cast the speaker first")
    return voice


def adapt_lines(ctx: Context, project: Project, language: str, texts: dict[str, str], editor: str) -> list[ReviewRow]:
    """A person's words for several lines (an adapter's script); their rows, in its order. Taken before the
    dub, as an adapter's script usually is, a line whose speaker has no voice yet is written for the dub to
    speak (once, and checked with the rest); a line already spoken, or whose speaker is cast, is spoken again
    and fitted, as if edited on its own, then those are checked together (one QC run packs their
    back-transcription into shared windows). Lines already saying these words are left be."""
    current = translations(ctx, project, language)
    unknown = sorted(set(texts) - set(current))
    if unknown:
        raise ProjectError(f"no {language} text to replace for line(s) {', '.join(unknown)}; translate first, and check the ids")
    voiced = set(current_clips(ctx, project, language))
    cast = castings(ctx, project, language)
    voiced |= {line.id for line in script_of(ctx, project).lines if line.speaker in cast}
    changed = [line_id for line_id, text in texts.items() if current[line_id].text != text]
    spoken = []
    try:
        for line_id in changed:
            if line_id in voiced:
                regenerate_line(ctx, project, line_id, language, texts[line_id], editor, current[line_id].version)
                spoken.append(line_id)
            else:
                edit_translation(ctx, project, line_id, language, texts[line_id], editor, current[line_id].version)
    except DubdeskError:
        check_lines(ctx, project, spoken, language)  # what was spoken before a refusal is checked all the same
        raise
    rows = {row.line_id: row for row in check_lines(ctx, project, spoken, language)}
    written = set(changed) - set(rows)
    if written:
        rows.update({row.line_id: row for row in review_rows(ctx, project, language, only=written)})
    return [rows[line_id] for line_id in changed]


def check_line(ctx: Context, project: Project, line_id: str, language: str) -> ReviewRow:
    """Every QC check on one line's current clip, stored with it."""
    return check_lines(ctx, project, [line_id], language)[0]


def check_lines(ctx: Context, project: Project, line_ids: list[str], language: str) -> list[ReviewRow]:
    """Every QC check on these lines' current clips, in one run, stored with them; their rows in this order."""
    if not line_ids:
        return []
    clips = current_clips(ctx, project, language)
    check_clips(ctx, project, language, {line_id: clips[line_id] for line_id in line_ids})
    rows = {row.line_id: row for row in review_rows(ctx, project, language, only=set(line_ids))}
    return [rows[line_id] for line_id in line_ids]


def review_row(ctx: Context, project: Project, language: str, line_id: str) -> ReviewRow:
    """One line's row; LookupError when the script has no such line."""
    found = review_rows(ctx, project, language, only={line_id})
    if not found:
        raise LookupError(f"no line {line_id}")
    return found[0]


def source_segment(ctx: Context, project: Project, line_id: str, margin_s: float = 0.3) -> Path:
    """The source line (with a little room either side) as a file a player can load; made once for each
    time the line has (a retimed line gets its new stretch of the source)."""
    line = next(line for line in script_of(ctx, project).lines if line.id == line_id)
    target = ctx.folder(project) / "review" / f"{line_id} {line.start:.3f}-{line.end:.3f} source.wav"
    if not target.exists():
        segment = source_audio(ctx, project, max(0.0, line.start - margin_s), line.end + margin_s)
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(target, segment, RATE, subtype="PCM_16")
    return target


@dataclass(frozen=True)
class LineBudget:
    """What a line may say and what its take needs: the syllable budget (the source line's time in the
    target's syllables), the syllables the dub says, and from the fit the slot, the rate the take
    would need to end in it and the fastest rate allowed."""

    budget: int | None
    said: int
    slot_s: float | None
    needed_rate: float | None
    bound: float | None
    fits: bool | None

    @property
    def over(self) -> int:
        """Syllables to cut to meet the budget (0 within it, or with no budget)."""
        return max(0, self.said - self.budget) if self.budget else 0


def line_budget(row: ReviewRow, language: str) -> LineBudget:
    """The budget of one line as shown (counting its syllables as spoken, so read for one line at a time)."""
    said = syllable_counts([row.text], language)[0] if row.text.strip() else 0
    fit = row.fit
    if fit is None:
        return LineBudget(row.budget_syllables, said, None, None, None, None)
    return LineBudget(row.budget_syllables, said, fit.slot_s, fit.needed_rate * fit.engine_speed,
                      fit.bounds[1] * fit.engine_speed, fit.fits)


@dataclass(frozen=True)
class DeskProgress:
    """Where a language's dub stands: its stage and the line counts behind it."""

    lines: int
    spoken: int
    checked: int
    failed: int
    approved: int
    rejected: int
    blocked: int

    @property
    def stage(self) -> str:
        if self.spoken < self.lines:
            return "speaking" if self.spoken else "not spoken yet"
        if self.checked < self.spoken:
            return "checking"
        return "ready to mix" if self.approved == self.lines else "review"


def desk_progress(rows: list[ReviewRow]) -> DeskProgress:
    """Counted from the rows a page already read (review_rows), so it costs no query."""
    return DeskProgress(len(rows), sum(r.clip_id is not None for r in rows), sum(bool(r.qc) for r in rows),
                        sum(r.worst == "fail" for r in rows), sum(r.decision == "approved" for r in rows),
                        sum(r.decision == "rejected" for r in rows), sum(r.decision == "blocked" for r in rows))


def unapproved(ctx: Context, project: Project, language: str) -> list[str]:
    """The lines that keep the mix closed (not approved, blocked, or never spoken)."""
    return [row.line_id for row in review_rows(ctx, project, language) if row.decision != "approved"]


def mix_gate(ctx: Context, project: Project, language: str) -> str | None:
    """Why the mix is closed: the lines not approved (the first 20), no title clearance for the language (the dub
    is a draft for the rights holder), the inputs not cleared; None when nothing stands in the way."""
    waiting = unapproved(ctx, project, language)
    reasons = [f"{len(waiting)} line(s) not approved: " + ", ".join(waiting[:20]) + (" …" if len(waiting) > 20 else "")
               ] if waiting else []
    reasons += [label] if (label := rights.draft_label(ctx, project, language)) else []
    if uncleared := rights.uncleared(ctx, project, language):
        reasons.append(f"{len(uncleared)} input(s) not cleared: " + "; ".join(s.describe() for s in uncleared))
    return "Mix unavailable: " + ". ".join(reasons) if reasons else None


@dataclass(frozen=True)
class Usage:
    when: str
    project: str
    line_id: str
    language: str
    text: str
    path: Path
    status: str


def usage_log(ctx: Context, profile_id: str) -> list[Usage]:
    """Every line generated in this voice, newest first, by project and date, with its clip."""
    by_id = {p.id: p for p in projects(ctx)}
    return [Usage(clip.created_at.strftime("%Y-%m-%d %H:%M"), by_id[clip.project_id].name, clip.line_id, clip.language,
                  clip.text, ctx.folder(by_id[clip.project_id]) / clip.path, clip.status)
            for clip in reversed(clips(ctx, profile_id=profile_id)) if clip.project_id in by_id]
