"""Audio-visual sync: does the speech's loudness follow the mouth on screen, and at what offset?

The 1-3 kHz level of the audio (articulation, least masked by music) is read at every video frame
plus a lag; it and the mouth opening are both reduced to their syllabic (about 1-8 Hz) movement,
and the lag with the highest correlation within +/-0.5 s is the offset (positive: audio late),
refined between frames. A permutation test (the same search on circularly shifted audio) says
whether the peak is more than chance. The method has its own bias, so a dub's offset is judged
against the source's offset measured the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ..audio import RATE
from ..config import QCSettings
from ..faces import FaceTrack
from . import CheckResult, grade

BAND_HZ = (1000.0, 3000.0)
LEVEL_WINDOW_S = 0.04
DETREND_S, SMOOTH_FRAMES = 1.0, 3
MAX_LAG_S = 0.5
CONTEXT_S = 1.0  # a line is measured with this much picture around it
MIN_FACE_FRAMES, MAX_P = 48, 0.05  # at least 2 s of face, and p <= 0.05, to be trusted
NULL_RUNS, NULL_MIN_SHIFT_S = 39, 1.5


@dataclass(frozen=True)
class AVOffset:
    offset_s: float | None  # positive: the audio is late
    r: float | None
    p: float | None  # share of shifted-audio runs whose best r reaches this one
    face_frames: int
    reliable: bool

    def numbers(self, prefix: str) -> dict:
        return {f"{prefix}_{key}": (round(value, 3) if isinstance(value, float) else value)
                for key, value in asdict(self).items() if value is not None}


class SpeechLevel:
    """The articulation-band energy of a 16 kHz signal, readable over any window in constant time."""

    def __init__(self, audio16k: np.ndarray) -> None:
        sos = butter(4, BAND_HZ, btype="bandpass", fs=RATE, output="sos")
        filtered = sosfiltfilt(sos, np.asarray(audio16k, dtype=np.float64))
        self.cumulative = np.concatenate([[0.0], np.cumsum(filtered ** 2)])
        self.duration = len(audio16k) / RATE

    def db(self, times: np.ndarray) -> np.ndarray:
        """Level in dB over LEVEL_WINDOW_S centred on each time; NaN outside the signal."""
        begin = np.round((times - LEVEL_WINDOW_S / 2) * RATE).astype(int)
        end = begin + round(LEVEL_WINDOW_S * RATE)
        inside = (begin >= 0) & (end < len(self.cumulative))
        level = np.full(len(times), np.nan)
        energy = (self.cumulative[end[inside]] - self.cumulative[begin[inside]]) / (end[inside] - begin[inside])
        level[inside] = 10 * np.log10(energy + 1e-10)
        return level


def _moving_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean over the finite values; NaN stays NaN."""
    finite = np.isfinite(values)
    kernel = np.ones(max(width, 1))
    total = np.convolve(np.where(finite, values, 0.0), kernel, "same")[:len(values)]
    count = np.convolve(finite.astype(float), kernel, "same")[:len(values)]
    return np.where(finite, total / np.maximum(count, 1.0), np.nan)


def syllabic(values: np.ndarray, fps: float) -> np.ndarray:
    """Keep the syllable-rate movement: remove the trend over 1 s, smooth over 3 frames."""
    return _moving_mean(values - _moving_mean(values, round(DETREND_S * fps)), SMOOTH_FRAMES)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < 5 or a[both].std() == 0 or b[both].std() == 0:
        return np.nan
    return float(np.corrcoef(a[both], b[both])[0, 1])


class MouthTrack:
    """A face track prepared once for offset searches against any audio."""

    def __init__(self, track: FaceTrack) -> None:
        self.fps, self.times = track.fps, track.times
        self.mouth = syllabic(track.mouth, track.fps)

    def _curve(self, level: SpeechLevel, chosen: np.ndarray, lags: np.ndarray, shift_s: float = 0.0) -> np.ndarray:
        """Correlation at each lag; a shifted (null) run wraps the audio around its end."""
        curve = []
        for lag in lags:
            at = self.times + lag + shift_s
            if shift_s:
                at = np.mod(at, level.duration - LEVEL_WINDOW_S) + LEVEL_WINDOW_S / 2
            curve.append(_pearson(self.mouth[chosen], syllabic(level.db(at), self.fps)[chosen]))
        return np.array(curve)

    def offset(self, level: SpeechLevel, start: float, end: float, centre_s: float = 0.0) -> AVOffset:
        """The lag within centre_s +/- MAX_LAG_S that best aligns the audio with the mouth in [start, end]."""
        chosen = (self.times >= start) & (self.times <= end) & np.isfinite(self.mouth)
        frames = int(chosen.sum())
        steps = int(np.ceil(MAX_LAG_S * self.fps))
        lags = centre_s + np.arange(-steps, steps + 1) / self.fps
        curve = self._curve(level, chosen, lags) if frames >= 10 else np.array([np.nan])
        if not np.isfinite(curve).any():
            return AVOffset(None, None, None, frames, False)
        best = int(np.nanargmax(curve))
        inside = 0 < best < len(curve) - 1
        step = _vertex(*curve[best - 1:best + 2]) if inside else 0.0
        shifts = np.linspace(NULL_MIN_SHIFT_S, level.duration - NULL_MIN_SHIFT_S, NULL_RUNS)
        null = [np.nanmax(self._curve(level, chosen, lags, shift)) for shift in shifts]
        p = (1 + int(np.sum(np.array(null) >= curve[best]))) / (NULL_RUNS + 1)
        return AVOffset(float(lags[best] + step / self.fps), float(curve[best]), p, frames,
                        bool(p <= MAX_P and frames >= MIN_FACE_FRAMES and inside))


def _vertex(before: float, peak: float, after: float) -> float:
    """Where a parabola through three neighbouring points peaks, in steps from the middle one."""
    curvature = before - 2 * peak + after
    return 0.0 if curvature >= 0 else float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))


def av_sync_check(mouth: MouthTrack | None, face_share: float, dub: SpeechLevel, start: float, end: float,
                  source_offset_s: float, limits: QCSettings) -> CheckResult:
    """The dub line's offset against the picture, relative to the source's own offset."""
    if mouth is None:
        return CheckResult("av_sync", "n/a", {}, "audio-only source: no picture to sync to")
    numbers = {"face_share": round(face_share, 2), "source_offset_s": round(source_offset_s, 3)}
    if face_share < 0.5:
        return CheckResult("av_sync", "n/a", numbers, f"off screen: a face in {face_share:.0%} of the line's frames")
    found = mouth.offset(dub, start - CONTEXT_S, end + CONTEXT_S, source_offset_s)
    numbers.update(found.numbers("dub"))
    if not found.reliable:
        return CheckResult("av_sync", "n/a", numbers, "not measurable: the dub's loudness does not follow the mouth "
                           f"beyond chance (r {found.r or 0:.2f}, p {found.p or 1:.2f}, {found.face_frames} face frames)")
    relative = found.offset_s - source_offset_s
    numbers["relative_offset_s"] = round(relative, 3)
    verdict = grade(abs(relative), limits.av_offset_s)
    return CheckResult("av_sync", verdict, numbers,
                       f"dub audio {relative * 1000:+.0f} ms against the picture, relative to the source's sync")
