"""Voice activity per 10 ms frame (the Silero VAD that faster-whisper ships), shared by the stages
that need to know where speech is: word edges, timing QC, reference checks."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .audio import RATE
from .core import Word

FRAME_S = 0.01
WORD_EDGES = "moved onto voice activity"  # part of a transcript's stage inputs: earlier ones are redone


def speech_frames(audio16k: np.ndarray) -> np.ndarray:
    """Speech activity per 10 ms frame, short pauses kept as pauses."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=0.4, min_speech_duration_ms=60, min_silence_duration_ms=120, speech_pad_ms=20)
    mask = np.zeros(int(math.ceil(len(audio16k) / RATE / FRAME_S)), dtype=bool)
    for region in get_speech_timestamps(audio16k, options):
        mask[int(region["start"] / RATE / FRAME_S):int(math.ceil(region["end"] / RATE / FRAME_S))] = True
    return mask


def tighten_words(words: tuple[Word, ...], frames: np.ndarray) -> tuple[Word, ...]:
    """Move each word's edges in to the speech heard inside it. Whisper stretches a word over the
    silence beside it, most of all the first word after a pause, which would start its line (and
    the dub placed there) early. A word with no speech heard inside keeps its times."""
    tightened = []
    for word in words:
        first = int(word.start / FRAME_S)
        heard = np.flatnonzero(frames[first:int(math.ceil(word.end / FRAME_S))])
        if len(heard) == 0:
            tightened.append(word)
            continue
        start = max(word.start, round((first + heard[0]) * FRAME_S, 3))
        end = min(word.end, round((first + heard[-1] + 1) * FRAME_S, 3))
        tightened.append(replace(word, start=start, end=max(end, start)))
    return tuple(tightened)
