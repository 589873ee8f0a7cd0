"""Streaming loudness: BS.1770 integrated loudness fed block by block; the true-peak envelope.

A programme of an hour does not fit in memory several times over, so the mix is measured as it is
written. The loudness meter is pyloudnorm's (the same K-weighting filters, 400 ms blocks every
100 ms, absolute and relative gates), with the filter state carried from one block to the next and
only the energy of each 100 ms step kept: an hour is 36,000 numbers. Fed the whole signal at once
it reads what pyloudnorm reads (to the sample a float block bound may round to). True peaks are read
from the limiter's own envelope of each block (mix._limited), which sees past the block's bounds.
"""
from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy.signal import lfilter, resample_poly

BLOCK_S, STEP_S = 0.4, 0.1  # BS.1770 gating blocks, 75 % overlap
ABSOLUTE_GATE_LKFS, RELATIVE_GATE_LU = -70.0, -10.0
OVERSAMPLING = 4


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
    oversampled on its own, contiguous and in float32 (1e-7 from float64, 5x faster: the limiter and
    the meters spend most of the mix's time here)."""
    wide = audio if audio.ndim == 2 else audio[:, None]
    envelope = np.zeros(len(wide) * OVERSAMPLING, dtype=np.float32)
    for channel in range(wide.shape[1]):
        up = resample_poly(np.ascontiguousarray(wide[:, channel], dtype=np.float32), OVERSAMPLING, 1)
        np.maximum(envelope, np.abs(up[:len(envelope)]), out=envelope)
    return np.maximum.reduce([envelope[phase::OVERSAMPLING] for phase in range(OVERSAMPLING)])
