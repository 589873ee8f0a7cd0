"""Split a long programme into chunks at quiet moments, so transcription can resume per chunk."""
from __future__ import annotations

import numpy as np

FRAME_S = 0.1


def chunk_bounds(audio: np.ndarray, rate: int, chunk_s: float, search_s: float = 20.0) -> list[tuple[int, int]]:
    """Sample ranges of about `chunk_s` each, every cut placed at the quietest 100 ms frame
    within `search_s` (at most a quarter chunk) of the nominal boundary, so a cut rarely falls inside a word."""
    frame = int(rate * FRAME_S)
    reach = int(min(search_s, chunk_s / 4) / FRAME_S)
    energy = _frame_energy(audio, frame)
    cuts, position = [0], 0
    while len(audio) - position > chunk_s * rate * 1.5:
        nominal = (position + int(chunk_s * rate)) // frame
        low, high = nominal - reach, nominal + reach
        quietest = low + int(np.argmin(energy[low:high]))
        position = quietest * frame + frame // 2
        cuts.append(position)
    cuts.append(len(audio))
    return list(zip(cuts[:-1], cuts[1:]))


def _frame_energy(audio: np.ndarray, frame: int, frames_per_block: int = 6000) -> np.ndarray:
    """RMS of each whole frame, computed a block at a time (an hour's squares are never held at once)."""
    count = len(audio) // frame
    energy = np.empty(count)
    for first in range(0, count, frames_per_block):
        last = min(count, first + frames_per_block)
        block = audio[first * frame:last * frame].reshape(-1, frame).astype(np.float64)
        energy[first:last] = np.sqrt(np.mean(block ** 2, axis=1))
    return energy
