"""Prosody carried over: a spoken line's pitch and loudness moved toward its source line's delivery
(an excited line livelier, a flat one flatter), by Praat in its separate program (praat/carry.py).

It runs at synthesis, on the engine's line before fit, not on the fitted clip: the take is then one
sealed clip made at one moment under one consent grant, fit's pitch-keeping stretch leaves a contour
laid over the voiced part (not over the clock) as it was, and a line fitted again to another slot
keeps its carried delivery without a second pass. PSOLA keeps every duration, so the phoneme times an
engine reported still hold. It transforms audio the consented engine produced; it never speaks.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import ProsodySettings
from ..praat import run_praat

PROSODY_TOOL = ("Praat Manipulation (PSOLA) and a smooth gain curve (praat-parselmouth, GPL-3.0, run as a "
                "separate program)")


@dataclass(frozen=True)
class SpeakerHabit:
    """A source speaker's habitual delivery over the programme: median pitch (st re 100 Hz) and level (dB)."""

    pitch_median_st: float
    loudness_db: float


@dataclass(frozen=True)
class SourceDelivery:
    """The source line a dub's delivery is carried toward: its samples, and its speaker's habit (None: unknown,
    so only contour, range and envelope move, never the dub's level or median pitch)."""

    audio: np.ndarray
    rate: int
    habit: SpeakerHabit | None


@dataclass(frozen=True)
class ProsodyCarry:
    """What was done to one line, as the Praat program reports it."""

    applied: bool
    reason: str | None  # why nothing was done
    pitch_range_before_st: float | None
    pitch_range_after_st: float | None
    pitch_shift_st: float | None
    gain_min_db: float | None
    gain_max_db: float | None

    def record(self, settings: ProsodySettings) -> dict:
        """As the clip's settings keep it: what was done, with which limits, by which tool and licence."""
        return {**asdict(self), "settings": settings.model_dump(), "tool": PROSODY_TOOL}


def carry_prosody(audio: np.ndarray, rate: int, source: SourceDelivery,
                  settings: ProsodySettings) -> tuple[np.ndarray, ProsodyCarry | None]:
    """The line with its prosody moved toward the source's within the settings' limits, and what was done;
    the line untouched (and None) when carry-over is switched off."""
    if not settings.carry:
        return audio, None
    with tempfile.TemporaryDirectory(prefix="dubdesk-prosody-") as folder:
        dub, line, output = (Path(folder) / name for name in ("dub.wav", "source.wav", "carried.wav"))
        sf.write(dub, audio, rate, subtype="FLOAT")
        sf.write(line, source.audio, source.rate, subtype="FLOAT")
        limits = settings.model_dump(exclude={"carry"})
        carried = ProsodyCarry(**run_praat("carry_prosody", dub=str(dub), source=str(line), output=str(output),
                                           limits=limits, habit=asdict(source.habit) if source.habit else None))
        return (sf.read(output, dtype="float32")[0] if carried.applied else audio), carried
