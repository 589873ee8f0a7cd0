"""The vocabulary: time spans, words, speaker turns, lines, who speaks them, and a dub line's take
(fit, verdicts, decision) and provenance.

Small, exact and immutable, in the spirit of pyannote.core: every stage
speaks in these types, and they serialise to plain JSON for the store.
`Voice` and `ConsentGrant` are here, as pure data, so that the engine
interfaces (engines.py) can name them; voices/consent.py mints and checks grants.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, order=True)
class Span:
    """A half-open time interval [start, end) in seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"span ends before it starts: {self.start} > {self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlap(self, other: Span) -> float:
        """Seconds shared with `other` (0 when disjoint)."""
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))


@dataclass(frozen=True)
class Word:
    """One recognised word with its time and the recogniser's confidence."""

    text: str
    start: float
    end: float
    confidence: float = 1.0

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Turn:
    """A stretch of time in which one speaker talks (a diarization result row)."""

    start: float
    end: float
    speaker: str

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


@dataclass(frozen=True)
class Transcript:
    """Recogniser output: the words of a programme and the language heard."""

    language: str
    language_probability: float
    words: tuple[Word, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_probability": self.language_probability,
            "words": [asdict(w) for w in self.words],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcript:
        return cls(data["language"], data["language_probability"], tuple(Word(**w) for w in data["words"]))


@dataclass(frozen=True)
class Line:
    """One line of the script: a speaker saying some words in a time slot.

    A line always lasts some time (end > start): every later stage divides by its length, so a line
    without one cannot be built; `script.build_script` widens a line whose words take no time."""

    id: str
    speaker: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError(f"line {self.id} has no length: {self.start} to {self.end}")

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "speaker": self.speaker,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "words": [
                {"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3), "confidence": round(w.confidence, 4)}
                for w in self.words
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Line:
        words = tuple(Word(w["word"], w["start"], w["end"], w.get("confidence", 1.0)) for w in data["words"])
        return cls(data["id"], data["speaker"], data["start"], data["end"], data["text"], words)


@dataclass(frozen=True)
class Script:
    """The timed, speaker-attributed script of a programme in its source language."""

    language: str
    duration: float
    lines: tuple[Line, ...]
    turns: tuple[Turn, ...] = ()

    @property
    def speakers(self) -> list[str]:
        return sorted({line.speaker for line in self.lines} | {t.speaker for t in self.turns})

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "duration": round(self.duration, 3),
            "speakers": self.speakers,
            "lines": [line.to_json() for line in self.lines],
            "turns": [asdict(t) for t in self.turns],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        return cls(
            data["language"],
            data["duration"],
            tuple(Line.from_json(line) for line in data["lines"]),
            tuple(Turn(**t) for t in data.get("turns", [])),
        )


@dataclass(frozen=True)
class Voice:
    """Who speaks a line: an engine, its voice, and the consented reference recordings it may hear."""

    engine: str
    name: str
    references: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ConsentGrant:
    """What a speech engine demands before it speaks: minted only by voices.consent.authorize, which
    signs it (`mac`); voices.consent.require_grant checks it."""

    profile_id: str
    record_hash: str
    language: str
    title: str
    use: str
    engine: str
    voice: str
    references: tuple[str, ...]  # SHA-256 of each reference file the engine may hear
    issued: float
    mac: str = ""


@dataclass(frozen=True)
class Fit:
    start: float  # where the fitted line starts: its source line's start
    source_s: float  # the source line's length
    slot_s: float  # the longest the dub may run: the source line plus the silence after it
    natural_s: float  # the synthesized line, edge silences trimmed
    rate: float  # playback rate applied (>1 is faster)
    fitted_s: float
    needed_rate: float  # the rate that would end the line inside its slot
    bounds: tuple[float, float]
    fits: bool
    path: str  # the fitted clip, relative to the project folder
    sha256: str
    on_screen: bool = True  # the speaker's face is seen: the tighter bounds and timing limits apply
    engine_speed: float = 1.0  # the pace the engine spoke at; `rate` and `bounds` are the stretch left after it
    aim_s: float | None = None  # the length it was fitted toward (qc.timing.timed_length); None: source_s

    @property
    def reason(self) -> str:
        """In overall rates (the engine's pace times the stretch), as the fit settings' bounds are."""
        if self.fits:
            paced = f" (spoken at {self.engine_speed:.2f}, stretched {self.rate:.2f})" if self.engine_speed != 1.0 else ""
            return (f"fits: rate {self.rate * self.engine_speed:.2f}{paced}, {self.fitted_s:.2f} s in a "
                    f"{self.slot_s:.2f} s slot")
        return (f"does not fit: needs rate {self.needed_rate * self.engine_speed:.2f} "
                f"(bound {self.bounds[1] * self.engine_speed:.2f}); {self.fitted_s:.2f} s at the bound in a "
                f"{self.slot_s:.2f} s slot")

    def syllables_over(self, syllables: int) -> int:
        """Of a line that says `syllables`, how many do not fit its slot at the bound (0 if it fits)."""
        return 0 if self.fits else syllables - math.floor(syllables * self.slot_s / self.fitted_s)

    @property
    def span(self) -> Span:
        """When the fitted line is heard, on the programme's clock."""
        return Span(self.start, self.start + self.fitted_s)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fit:
        return cls(**{**data, "bounds": tuple(data["bounds"])})


@dataclass(frozen=True)
class CheckResult:
    """One QC check's verdict on a take, with the numbers it was judged on and why."""

    check: str
    verdict: str  # pass | warn | fail | n/a
    numbers: dict[str, float | str | None]
    reason: str

    def __post_init__(self) -> None:  # numpy scalars become plain numbers, so results store as JSON
        object.__setattr__(self, "numbers", {k: v.item() if hasattr(v, "item") else v for k, v in self.numbers.items()})

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """A person's decision on a take."""

    decision: str  # approved | rejected
    reviewer: str
    made_at: str
    note: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class Take:
    """One version of a line in one language: the clip spoken, its fit, the QC verdicts on it and the
    latest decision on it. Read from the store (store.takes), never built from loose keys."""

    clip_id: int
    line_id: str
    language: str
    text: str
    voice_profile: str
    consent_record: str
    engine: dict[str, str]  # the engine's identity, with its weights licence
    use: str
    path: str  # the clip as spoken, relative to the project folder
    sha256: str
    created_at: str
    blocked: str | None = None  # why the take may not be used (its consent was revoked), or None
    fit: Fit | None = None
    verdicts: tuple[CheckResult, ...] = ()
    decision: Decision | None = None
    processing: tuple[str, ...] = ()  # what was done to the engine's audio before fit, each with its tool and licence

    @property
    def heard(self) -> str:
        """The file a listener hears: the fitted clip once there is one."""
        return self.fit.path if self.fit else self.path

    @property
    def state(self) -> str:
        """pending | approved | rejected | blocked"""
        if self.blocked is not None:
            return "blocked"
        return self.decision.decision if self.decision else "pending"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "fit": self.fit.to_json() if self.fit else None}


@dataclass(frozen=True)
class LineProvenance:
    """What a delivered line says about itself: who speaks it under which consent, which model made
    it, how it was fitted and checked, and who approved it. Written into the manifest and each
    file's C2PA assertion."""

    line: str
    speaker: str
    start: float
    source_text: str
    text: str
    voice_profile: str
    consent_record: str
    use: str
    model: dict[str, str]  # the engine's identity, with its weights licence
    processing: tuple[str, ...]  # what was done to the engine's audio (voice match, prosody carried over), by which tool
    generated_at: str
    clip_sha256: str
    fit_rate: float
    qc: dict[str, str]  # check -> verdict
    approved_by: str
    approved_at: str
    override_reason: str | None

    @classmethod
    def of(cls, line: Line, take: Take) -> LineProvenance:
        """The provenance of an approved, fitted take of `line`."""
        if take.fit is None or take.decision is None:
            raise ValueError(f"line {line.id}: only a fitted, decided take goes out")
        return cls(line.id, line.speaker, take.fit.start, line.text, take.text, take.voice_profile, take.consent_record,
                   take.use, take.engine, take.processing, take.created_at, take.sha256, take.fit.rate,
                   {verdict.check: verdict.verdict for verdict in take.verdicts}, take.decision.reviewer,
                   take.decision.made_at, take.decision.override_reason)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "start": round(self.start, 3), "fit_rate": round(self.fit_rate, 3)}
