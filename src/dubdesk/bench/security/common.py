"""What every group of the security benchmark shares: the outcome of one attack (Attempt), `refused`
to try one that must fail, the per-group counts, a scratch data folder's settings, clips cut from the
sample, and the dubbed three-line programme on which the races, sealed takes and package attacks run.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...audio import RATE, decode_audio
from ...config import Settings
from ...context import Context
from ...core import Transcript, Turn, Word
from ...errors import DubdeskError
from ...labels import write_labelled_wav
from ...services import checks, desk, pipeline, projects, scripting, speech

LANGUAGE, VOICE, PRODUCER, REVIEWER = "es", "stock-pico-es-es", "Paula Producer", "Rita Reviewer"
SENTENCES = ("Good morning, everyone.", "We start the meeting now.", "Thank you for coming today.")
GROUPS = ("consent", "races", "takes", "verify", "web")
GOOD = {"consent": "held", "races": "held", "takes": "held", "verify": "caught", "web": "refused"}
BAD = {"consent": "broken", "races": "lost", "takes": "broken", "verify": "missed", "web": "served"}


@dataclass(frozen=True)
class Attempt:
    """One attack and how it went: outcome is GOOD[group] when the defence held, BAD[group] when not."""
    group: str
    attack: str
    outcome: str
    detail: str

    @property
    def held(self) -> bool:
        return self.outcome == GOOD[self.group]


def refused(group: str, attack: str, attempt: Callable[[], object], error: type[BaseException], match: str) -> Attempt:
    """Held when `attempt` raises `error` saying `match`; any other way it ends (done, or failed for
    another reason) is a defence that did not hold as designed."""
    try:
        attempt()
    except error as refusal:
        said = str(refusal)
        if re.search(match, said):
            return Attempt(group, attack, GOOD[group], said.splitlines()[0][:160])
        return Attempt(group, attack, BAD[group], f"refused for another reason: {said[:160]}")
    except Exception as other:  # noqa: BLE001 - a crash is recorded as the outcome, not raised
        return Attempt(group, attack, BAD[group], f"failed with {type(other).__name__}: {str(other)[:160]}")
    return Attempt(group, attack, BAD[group], "went through")


def summary_of(attempts: list[Attempt]) -> dict[str, dict[str, int]]:
    """Per group: attacks tried and how many the defence held (caught, refused)."""
    groups = dict.fromkeys(a.group for a in attempts)
    return {group: {"tried": sum(a.group == group for a in attempts),
                    GOOD[group]: sum(a.group == group and a.held for a in attempts)} for group in groups}


def scratch_settings(settings: Settings, home: Path) -> Settings:
    """The settings with a scratch data folder and its own SQLite database, and no pinned key or signing
    folder of the user's: the attacks replace keys and edit the database, and must never reach real ones."""
    return settings.model_copy(update={"home": home, "key_fingerprint": None, "database_url": None,
                                       "export": settings.export.model_copy(update={"signing_folder": None})})


def clip_of(sample: Path, path: Path, start_s: float, seconds: float, name: str = "reference") -> Path:
    """`seconds` of the sample from `start_s`, written as a labelled 16 kHz WAV (a recording to register)."""
    audio = decode_audio(sample)[int(RATE * start_s):int(RATE * (start_s + seconds))]
    return write_labelled_wav(path, audio, RATE, "reference", name, "reference")


def dubbed_desk(settings: Settings, sample: Path) -> tuple[Context, object]:
    """A three-line programme (its transcript given, not heard) dubbed into Spanish up to review."""
    ctx = Context(settings)
    project = projects.create_project(ctx, sample, name="Trust", by=PRODUCER)
    words, turns, at = [], [], 1.0
    for index, sentence in enumerate(SENTENCES):
        start = at
        for token in sentence.split():
            words.append(Word(token, at, at + 0.3))
            at += 0.35
        turns.append(Turn(start, at, f"SPEAKER_{index % 2:02d}"))
        at += 1.5
    scripting.import_transcript(ctx, project, Transcript("en", 1.0, tuple(words)), turns, "benchmark transcript")
    report = pipeline.prepare_dub(ctx, project, LANGUAGE, VOICE, by=PRODUCER)
    if report.refused:
        raise DubdeskError(f"the benchmark programme could not be dubbed: {report.refused}")
    return ctx, project


def approve_all(ctx: Context, project) -> None:
    """QC the takes the races left, then approve every line by name."""
    checks.qc(ctx, project, LANGUAGE)
    for line_id in speech.current_clips(ctx, project, LANGUAGE):
        if line_id not in desk.approvals(ctx, project, LANGUAGE):
            desk.review(ctx, project, line_id, LANGUAGE, REVIEWER, approve=True, override_reason="benchmark: accepted")
