"""Streaming loudness: BS.1770 integrated loudness fed block by block; the true-peak envelope.

A programme of an hour does not fit in memory several times over, so the mix is measured as it is
written. The loudness meter is pyloudnorm's (the same K-weighting filters, 400 ms blocks every
100 ms, absolute and relative gates), with the filter state carried from one block to the next and
only the energy of each 100 ms step kept: an hour is 36,000 numbers. Fed the whole signal at once
it reads what pyloudnorm reads (to the sample a float block bound may round to). True peaks are read
block by block with the samples either side of each block (mix._limited), as from the whole signal.
"""
from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy.signal import firwin, lfilter, resample_poly

BLOCK_S, STEP_S = 0.4, 0.1  # BS.1770 gating blocks, 75 % overlap
ABSOLUTE_GATE_LKFS, RELATIVE_GATE_LU = -70.0, -10.0
OVERSAMPLING = 4
# resample_poly's own interpolation filter for 4x, designed once. An oversampled value is one phase of it
# (every fourth tap, times 4) over the REACH_SAMPLES input samples either side, so it is at most
# REACH times the largest of them (REACH: the largest phase's sum of |taps|, about 2.24) and, written as
# the phase's gain times the nearest sample plus its taps times each sample's difference from that one,
# at most GAIN * largest sample + SLOPE * largest step between neighbouring samples (per phase: speech
# at 48 kHz changes little from one sample to the next, so this reaches about 1.2 where REACH is 2.24).
# Each with room for float32 rounding.
_FILTER = firwin(20 * OVERSAMPLING + 1, 1 / OVERSAMPLING, window=("kaiser", 5.0)).astype(np.float32)
REACH_SAMPLES = 10 + 1
_PHASES = [np.arange(phase, len(_FILTER), OVERSAMPLING) for phase in range(OVERSAMPLING)]
_NEAREST = [taps[np.argmin(np.abs(taps - len(_FILTER) // 2))] for taps in _PHASES]
REACH = 1.001 * OVERSAMPLING * max(float(np.abs(_FILTER[taps]).sum()) for taps in _PHASES)
GAIN = 1.001 * OVERSAMPLING * np.array([abs(float(_FILTER[taps].sum())) for taps in _PHASES])
SLOPE = 1.001 * np.array([float((np.abs(_FILTER[taps]) * np.abs(taps - nearest)).sum())
                          for taps, nearest in zip(_PHASES, _NEAREST, strict=True)])  # x4 taps, /4 samples per tap
SPAN = 4096  # frames true_peak oversamples at a time


class LoudnessMeter:
    """BS.1770 integrated loudness of everything fed to it, in order, as one signal (mono or stereo)."""

    def __init__(self, rate: int) -> None:
        self.rate, self.step = rate, round(STEP_S * rate)
        self.stages = [(stage.b, stage.a, stage.passband_gain) for stage in pyloudnorm.Meter(rate)._filters.values()]
        self.states: list[np.ndarray] | None = None
        self.steps: list[np.ndarray] = []  # per 100 ms step: each channel's sum of squares
        self.pending, self.pending_count, self.frames = None, 0, 0

    def feed(self, audio: np.ndarray) -> None:
        wide = np.asarray(audio, dtype=np.float64).reshape(len(audio), -1)
        if self.states is None:
            self.states = [np.zeros((2, wide.shape[1])) for _ in self.stages]
            self.pending = np.zeros(wide.shape[1])
        for index, (b, a, gain) in enumerate(self.stages):
            filtered, self.states[index] = lfilter(b, a, wide, axis=0, zi=self.states[index])
            wide = gain * filtered
        self.frames += len(wide)
        self._accumulate(wide ** 2)

    def _accumulate(self, squares: np.ndarray) -> None:
        """Add squared samples to the current 100 ms step, closing each step as it fills."""
        while len(squares):
            take = min(self.step - self.pending_count, len(squares))
            self.pending = self.pending + squares[:take].sum(axis=0)
            self.pending_count += take
            squares = squares[take:]
            if self.pending_count == self.step:
                self.steps.append(self.pending)
                self.pending, self.pending_count = np.zeros_like(self.pending), 0

    def integrated_lkfs(self) -> float:
        """The gated loudness so far; a signal shorter than one 400 ms block is read as padded with silence."""
        if self.states is None:
            return -math.inf
        block = round(BLOCK_S * self.rate)
        if self.frames < block:
            self.feed(np.zeros((block - self.frames, len(self.pending))))
        steps = np.array(self.steps + ([self.pending] if self.pending_count else []))
        per_block = round(BLOCK_S / STEP_S)
        count = int(np.round((self.frames / self.rate - BLOCK_S) / STEP_S)) + 1
        padded = np.vstack([steps, np.zeros((per_block, steps.shape[1]))])
        energy = sum(padded[offset:offset + count] for offset in range(per_block)) / block  # (blocks, channels)
        return _gated(energy)


def _gated(energy: np.ndarray) -> float:
    """BS.1770's two gates over per-block, per-channel mean squares (channel weights 1: mono and stereo)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        blocks = -0.691 + 10 * np.log10(energy.sum(axis=1))
        kept = energy[blocks >= ABSOLUTE_GATE_LKFS]
        if not len(kept):  # silence
            return -math.inf
        relative = -0.691 + 10 * np.log10(kept.mean(axis=0).sum()) + RELATIVE_GATE_LU
        kept = energy[(blocks > relative) & (blocks > ABSOLUTE_GATE_LKFS)]
        mean = np.nan_to_num(kept.mean(axis=0)) if len(kept) else np.zeros(energy.shape[1])
        return float(-0.691 + 10 * np.log10(mean.sum()))


def peaks(audio: np.ndarray) -> np.ndarray:
    """Per sample, the highest oversampled |value| across channels (a true-peak envelope). Each channel is
    oversampled on its own, contiguous and in float32 (1e-7 from float64, 5x faster)."""
    wide = _wide(audio)
    envelope = np.zeros(len(wide) * OVERSAMPLING, dtype=np.float32)
    for channel in range(wide.shape[1]):
        np.maximum(envelope, np.abs(_oversampled(wide[:, channel])), out=envelope)
    return np.maximum.reduce([envelope[phase::OVERSAMPLING] for phase in range(OVERSAMPLING)])


def true_peak(audio: np.ndarray, first: int = 0, last: int | None = None) -> float:
    """peaks(audio)[first:last].max(), oversampling only the stretches that could hold it.

    A stretch whose bound (REACH, or GAIN and SLOPE, applied to its samples and those within
    REACH_SAMPLES of it) is under the highest value found so far cannot hold the peak, so the stretches
    are taken by bound, highest first, and the rest skipped. Each is oversampled with the samples around
    it, so its values are the whole signal's. The limiter and the meters spent most of a mix's time
    oversampling.
    """
    wide = _wide(audio)
    last = len(wide) if last is None else min(last, len(wide))
    if last <= first:
        return 0.0
    starts = np.arange(first, last, SPAN)
    if len(starts) > 1 and last - starts[-1] < REACH_SAMPLES:  # every stretch at least as long as the reach
        starts = starts[:-1]
    ends = np.append(starts[1:], last)
    outer = max(0, first - REACH_SAMPLES)
    near = wide[outer:min(len(wide), last + REACH_SAMPLES)]
    level = _around(np.abs(near), outer, first, last, starts)
    step = _around(_steps(near, outer == 0, outer + len(near) == len(wide)), outer, first, last, starts)
    bounds = np.minimum(REACH * level, (GAIN[:, None] * level + SLOPE[:, None] * step).max(axis=0))
    highest = 0.0
    for index in np.argsort(-bounds, kind="stable"):
        if bounds[index] <= highest:
            break
        begin, end = int(starts[index]), int(ends[index])
        low, high = max(0, begin - 2 * REACH_SAMPLES), min(len(wide), end + 2 * REACH_SAMPLES)
        for channel in range(wide.shape[1]):
            values = _oversampled(wide[low:high, channel])[(begin - low) * OVERSAMPLING:(end - low) * OVERSAMPLING]
            highest = max(highest, float(np.abs(values).max()))
    return highest


def _steps(frames: np.ndarray, at_start: bool, at_end: bool) -> np.ndarray:
    """Per frame, the step from it to the next (the first frame also holding the step into it): past the
    signal's start or end the neighbour is the silence the oversampler pads with."""
    steps = np.empty_like(frames)
    np.abs(np.diff(frames, axis=0), out=steps[:-1])
    steps[-1] = np.abs(frames[-1]) if at_end else 0.0
    if at_start:
        np.maximum(steps[0], np.abs(frames[0]), out=steps[0])
    return steps


def _around(values: np.ndarray, low: int, first: int, last: int, starts: np.ndarray) -> np.ndarray:
    """Per stretch (from each of `starts`, the last to `last`), the largest of `values` (frames x channels,
    frame `low` first) within REACH_SAMPLES of it: in the stretch itself or its neighbours, the first's and
    the last's being the frames before `first` and after `last`."""
    own = np.maximum.reduceat(values[first - low:last - low], starts - first, axis=0).max(axis=1)
    head, tail = values[:first - low].max(initial=0.0), values[last - low:].max(initial=0.0)
    around = np.concatenate([[head], own, [tail]])
    return np.maximum(np.maximum(around[:-2], around[1:-1]), around[2:])


def _wide(audio: np.ndarray) -> np.ndarray:
    return audio if audio.ndim == 2 else audio[:, None]


def _oversampled(channel: np.ndarray) -> np.ndarray:
    return resample_poly(np.ascontiguousarray(channel, dtype=np.float32), OVERSAMPLING, 1, window=_FILTER)
