"""Bilabial QC: where the lips close (p, b, m) in the dub against the source.

On screen, lips that close in the picture while the dub speaks on, or a dub "m" over an open mouth,
are what viewers catch. Closure times come from the speech engine where it reports phoneme times
(Piper), else from each word's time and its phonemes (espeak-ng): a closure's share of the word's
phonemes, moved to the nearest dip of the 1-4 kHz band inside the word, since the sound above 1 kHz
drops while the lips are shut (silence for p/b, a low hum for m). Lip closures only show in the
picture, so the verdict is n/a for audio-only sources and off-screen lines; the numbers are kept.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..activity import FRAME_S
from ..audio import RATE
from ..config import QCSettings
from ..core import Word
from ..fit import sound_span
from ..phonemes import BILABIALS, closure_positions, phoneme_units
from . import CheckResult, grade

BAND_HZ = (1000.0, 4000.0)
SNAP_S = 0.06  # how far from its estimate a closure may move to the band's dip
MERGE_S = 0.08  # closures nearer than this are one (the lips stay shut across a word gap)


@dataclass(frozen=True)
class BandLevel:
    """The 1-4 kHz level (dB) per 10 ms frame of a stretch of audio starting at `origin` seconds."""

    origin: float
    levels: np.ndarray

    @classmethod
    def of(cls, audio16k: np.ndarray, origin: float = 0.0) -> BandLevel:
        hop, size = int(FRAME_S * RATE), 400
        padded = np.concatenate([np.zeros(size // 2, np.float32), audio16k, np.zeros(size, np.float32)])
        count = max(1, len(audio16k) // hop)
        frames = np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][:count] * np.hanning(size)
        freqs = np.fft.rfftfreq(size, 1 / RATE)
        band = (freqs >= BAND_HZ[0]) & (freqs < BAND_HZ[1])
        power = (np.abs(np.fft.rfft(frames, axis=1))[:, band] ** 2).sum(axis=1)
        smoothed = np.convolve(10 * np.log10(power + 1e-10), np.ones(3) / 3, mode="same")
        return cls(origin, smoothed)

    def dip(self, estimate: float, low: float, high: float) -> float:
        """The time of the lowest level within SNAP_S of `estimate` and inside [low, high]."""
        first = max(0, int((max(low, estimate - SNAP_S) - self.origin) / FRAME_S))
        last = min(len(self.levels), int(np.ceil((min(high, estimate + SNAP_S) - self.origin) / FRAME_S)))
        if last <= first:
            return estimate
        return self.origin + (first + int(np.argmin(self.levels[first:last])) + 0.5) * FRAME_S


def _merged(times: Sequence[float]) -> list[float]:
    merged: list[list[float]] = []
    for time in sorted(times):
        if merged and time - merged[-1][-1] < MERGE_S:
            merged[-1].append(time)
        else:
            merged.append([time])
    return [float(np.mean(group)) for group in merged]


def closures_from_phonemes(phonemes: Sequence[Sequence]) -> list[float]:
    """Closure times from an engine's phoneme times: the middle of each run of bilabials."""
    runs: list[list[float]] = []
    previous_bilabial = False
    for symbol, start, end in phonemes:
        units = phoneme_units(symbol)
        if not units:  # a stress or length mark: neither opens nor closes the lips
            continue
        bilabial = units[0] in BILABIALS
        if bilabial and previous_bilabial:
            runs[-1][1] = end
        elif bilabial:
            runs.append([start, end])
        previous_bilabial = bilabial
    return _merged([(start + end) / 2 for start, end in runs])


def fitted_closures(phonemes: Sequence[Sequence], raw: np.ndarray, raw_rate: int, playback_rate: float) -> list[float]:
    """An engine's closure times moved onto the fitted clip: its edge silence trimmed, then stretched."""
    trimmed = sound_span(raw, raw_rate).start / raw_rate
    return [(time - trimmed) / playback_rate for time in closures_from_phonemes(phonemes)]


def closures_from_words(words: Sequence[Word], phonemes: Sequence[Sequence[str]], band: BandLevel | None) -> list[float]:
    """Closure times from word times and each word's phonemes, each moved to the band's dip."""
    times = []
    for word, units in zip(words, phonemes):
        for share in closure_positions(units):
            estimate = word.start + share * (word.end - word.start)
            times.append(band.dip(estimate, word.start, word.end) if band else estimate)
    return _merged(times)


def match_closures(source: Sequence[float], dub: Sequence[float], tolerance: float) -> list[tuple[float, float]]:
    """One-to-one (source, dub) pairs within `tolerance`, nearest first."""
    candidates = sorted((abs(s - d), i, j) for i, s in enumerate(source) for j, d in enumerate(dub) if abs(s - d) <= tolerance)
    used_source, used_dub, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_source and j not in used_dub:
            used_source.add(i)
            used_dub.add(j)
            pairs.append((source[i], dub[j]))
    return pairs


def labial_check(source: Sequence[float], dub: Sequence[float], unjudged: str | None, limits: QCSettings) -> CheckResult:
    """`unjudged`: None when the lips are seen and both languages have phonemes; else why not."""
    tolerance = limits.labial_tolerance_s
    pairs = match_closures(source, dub, tolerance)
    missing, extra = len(source) - len(pairs), len(dub) - len(pairs)
    total = len(source) + len(dub)
    mismatch = (missing + extra) / total if total else 0.0
    numbers = {"source_closures": len(source), "dub_closures": len(dub), "matched": len(pairs),
               "mismatch": round(mismatch, 3), "tolerance_s": tolerance}
    if pairs:
        numbers["mean_offset_s"] = round(float(np.mean([d - s for s, d in pairs])), 3)
    summary = (f"{missing} of the source's {len(source)} lip closures have none in the dub within "
               f"±{tolerance * 1000:.0f} ms; {extra} of the dub's {len(dub)} fall where the source's lips are not closing")
    if unjudged is not None:
        return CheckResult("labials", "n/a", numbers, f"{unjudged}: {len(pairs)} of the source's {len(source)} "
                                                       f"closures matched, {extra} more in the dub")
    if total == 0:
        return CheckResult("labials", "pass", numbers, "no lip closures in the source or the dub")
    verdict = grade(mismatch, limits.labial_mismatch)
    return CheckResult("labials", verdict, numbers, summary if verdict != "pass" else
                       f"{len(pairs)} of {len(source)} source closures matched, {extra} extra in the dub")
