"""The programme view of a language's dub on the review desk: the source (its picture, or the
waveform of an audio source), one lane per speaker with each line a block at its time coloured by its
verdicts and decision, and the dub and mix previews a reviewer switches to in place.

Opening the view reads the script and the takes in a few queries, and the waveform once per project
(then kept), so it is fast on programmes of 1,000+ lines. The previews take longer (every take is read
and encoded): they are made when a reviewer first asks to hear them, and kept under a content hash of
the takes they hold, so reopening finds them and a regenerated line makes new ones.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..context import Context
from ..core import Line, Script, Span, Take
from ..errors import ProjectError
from ..ingest import WORKING_AUDIO
from ..preview import PlacedTake, write_dub_preview, write_mix_preview
from ..store import Project
from ..store.takes import current_takes
from .desk import worst_verdict
from .projects import SOURCE_FOLDER, media, original
from .scripting import script as script_of

# Each block's look, in the legend's order: the decision first, then the worst verdict of an undecided take.
LOOKS = {"approved": "approved", "rejected": "rejected", "failed": "a check failed", "warned": "a check warned",
         "passed": "passed, undecided", "unchecked": "not checked yet", "blocked": "consent revoked", "untaken": "no take"}
PREVIEWS = ("dub", "mix")
BUCKETS_PER_S, MOST_BUCKETS = 100, 60000
PREVIEW_VERSION = "1"  # part of every preview's key: a change to how previews are made makes new ones


@dataclass(frozen=True)
class Block:
    """One line as the timeline shows it."""

    line_id: str
    speaker: str
    span: Span
    text: str  # the dub's words (the source's before there is a take)
    verdict: str  # the worst verdict (fail, warn, pass), "-" before QC
    decision: str  # pending | approved | rejected | blocked, "-" without a take
    look: str  # a LOOKS key


@dataclass(frozen=True)
class Lane:
    """A speaker's lane: labelled with the character's name where the speaker has one."""

    speaker: str
    label: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Waveform:
    """The source's lowest and highest sample in each bucket of `bucket_s` seconds, as int8 (-127..127)."""

    bucket_s: float
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class Preview:
    """A listening preview (dub or mix) of the current takes: where it is, or will be once made."""

    kind: str
    path: Path
    ready: bool


@dataclass(frozen=True)
class ProgrammeView:
    duration_s: float
    source: Path  # the original as received
    source_sha256: str
    has_video: bool
    lanes: tuple[Lane, ...]
    waveform: Waveform | None  # of an audio source (a video source shows its picture)
    previews: dict[str, Preview]  # "dub", "mix"
    takes_key: str  # the content hash of the takes the previews hold

    @property
    def blocks(self) -> list[Block]:
        return [block for lane in self.lanes for block in lane.blocks]


def programme_view(ctx: Context, project: Project, language: str) -> ProgrammeView:
    """Everything the programme view shows of `language`'s dub, read without building a preview."""
    return _view(ctx, project, language, *_script_and_takes(ctx, project, language))


def _script_and_takes(ctx: Context, project: Project, language: str) -> tuple[Script, dict[str, Take]]:
    script = script_of(ctx, project)
    with ctx.sessions() as session:
        return script, current_takes(session, project.id, language)


def _view(ctx: Context, project: Project, language: str, script: Script, takes: dict[str, Take]) -> ProgrammeView:
    info = media(project)
    duration = max(info.duration_s, script.duration)
    key = takes_key(takes, duration)
    return ProgrammeView(duration, original(ctx, project), project.source_sha256, info.has_video,
                         _lanes(script.lines, takes, project.characters or {}),
                         None if info.has_video else waveform(ctx, project),
                         {kind: _preview(ctx, project, language, kind, key) for kind in PREVIEWS}, key)


def build_preview(ctx: Context, project: Project, language: str, kind: str) -> ProgrammeView:
    """Make the `kind` preview of the current takes unless it is there already; older ones of the
    language go. The view as it then is."""
    if kind not in PREVIEWS:
        raise ProjectError(f"no '{kind}' preview: choose one of {', '.join(PREVIEWS)}")
    script, takes = _script_and_takes(ctx, project, language)
    view = _view(ctx, project, language, script, takes)  # the file is named by the takes it is made of
    wanted = view.previews[kind]
    if not wanted.ready:
        placed = _placed(ctx, project, script, takes)
        if kind == "dub":
            write_dub_preview(placed, view.duration_s, wanted.path)
        else:
            write_mix_preview(placed, view.source, min(2, max(1, media(project).channels)), view.duration_s, wanted.path)
        for older in wanted.path.parent.glob(f"{language} {kind} *.webm"):
            if older != wanted.path:
                older.unlink(missing_ok=True)
    return programme_view(ctx, project, language)


def look(take: Take | None) -> str:
    """How a line's block is coloured: by its decision, else by its worst verdict (see LOOKS)."""
    if take is None:
        return "untaken"
    if take.state in ("blocked", "approved", "rejected"):
        return take.state
    return {"fail": "failed", "warn": "warned", "pass": "passed"}.get(worst_verdict(v.verdict for v in take.verdicts), "unchecked")


def _lanes(lines: list[Line], takes: dict[str, Take], characters: dict[str, str]) -> tuple[Lane, ...]:
    """A lane for each speaker, in the order they first speak."""
    blocks: dict[str, list[Block]] = {}
    for line in lines:
        take = takes.get(line.id)
        blocks.setdefault(line.speaker, []).append(Block(
            line.id, line.speaker, line.span, take.text if take else line.text,
            worst_verdict(v.verdict for v in take.verdicts) if take else "-", take.state if take else "-", look(take)))
    return tuple(Lane(speaker, characters.get(speaker) or speaker, tuple(found)) for speaker, found in blocks.items())


def _usable(takes: dict[str, Take]) -> dict[str, Take]:
    """The takes a preview holds: a take whose consent was revoked may not be heard."""
    return {line_id: take for line_id, take in takes.items() if take.blocked is None}


def takes_key(takes: dict[str, Take], duration_s: float) -> str:
    """A content hash of what a preview holds: each usable take's audio (as heard) and where it starts."""
    held = sorted((line_id, *_heard(take)) for line_id, take in _usable(takes).items())
    return hashlib.sha256(json.dumps([PREVIEW_VERSION, round(duration_s, 3), held]).encode()).hexdigest()


def _heard(take: Take) -> tuple[str, float | None]:
    """The sha256 of the file a listener hears and its start (None before fitting: at its line's start)."""
    return (take.fit.sha256, round(take.fit.start, 3)) if take.fit else (take.sha256, None)


def _placed(ctx: Context, project: Project, script: Script, takes: dict[str, Take]) -> list[PlacedTake]:
    starts = {line.id: line.start for line in script.lines}
    return [PlacedTake(take.fit.start if take.fit else starts[line_id], ctx.folder(project) / take.heard)
            for line_id, take in _usable(takes).items() if line_id in starts]


def _preview(ctx: Context, project: Project, language: str, kind: str, key: str) -> Preview:
    path = ctx.folder(project) / "review" / "preview" / f"{language} {kind} {key[:20]}.webm"
    return Preview(kind, path, path.exists())


def waveform(ctx: Context, project: Project) -> Waveform:
    """The source's waveform (min and max per bucket, from the working copy), computed once per project."""
    kept = ctx.folder(project) / "review" / "waveform.npz"
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        bucket_s, low, high = _peaks(ctx.folder(project) / SOURCE_FOLDER / WORKING_AUDIO)
        np.savez(kept, bucket_s=bucket_s, low=low, high=high)
    with np.load(kept) as stored:
        return Waveform(float(stored["bucket_s"]), stored["low"], stored["high"])


def _peaks(path: Path) -> tuple[float, np.ndarray, np.ndarray]:
    """Min and max per bucket, read a block of buckets at a time (a working copy of hours is GBs)."""
    info = sf.info(path)
    buckets = max(1, min(MOST_BUCKETS, int(np.ceil(info.duration * BUCKETS_PER_S))))
    per_bucket = max(1, int(np.ceil(info.frames / buckets)))
    low, high = [], []
    for block in sf.blocks(path, blocksize=per_bucket * 1000, dtype="float32", always_2d=True):
        mono = block[:, 0]
        mono = np.pad(mono, (0, -len(mono) % per_bucket)).reshape(-1, per_bucket)
        low.append(mono.min(axis=1))
        high.append(mono.max(axis=1))
    return per_bucket / info.samplerate, _int8(low), _int8(high)


def _int8(parts: list[np.ndarray]) -> np.ndarray:
    return np.clip(np.round(np.concatenate(parts) * 127), -127, 127).astype(np.int8)
