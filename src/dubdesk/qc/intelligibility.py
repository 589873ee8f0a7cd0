"""Intelligibility QC: the dub transcribed back by the embedded ASR, scored against its text.

Whisper encodes 30 s windows whatever the input's length, so short lines are packed into
windows (with silence between them) and the words are handed back to their lines by time."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..audio import RATE
from ..config import QCSettings
from ..core import Word
from ..engines import Transcriber
from ..script import UNSPACED_LANGUAGES
from . import CheckResult, graded
from .wer import transcript_errors

WINDOW_S = 28.0
GAP_S = 1.0


def packs(seconds: dict[str, float]) -> list[list[str]]:
    """Lines (id -> seconds long) in order, grouped into the windows they are transcribed in."""
    windows, current, length = [], [], 0.0
    for line_id, duration in seconds.items():
        duration += GAP_S
        if current and length + duration > WINDOW_S:
            windows.append(current)
            current, length = [], 0.0
        current.append(line_id)
        length += duration
    return windows + [current] if current else windows


def transcribe_lines(lines: dict[str, np.ndarray], language: str, transcriber: Transcriber) -> dict[str, list[Word]]:
    """The words the recogniser hears in each 16 kHz line, timed from the line's own start."""
    heard: dict[str, list[Word]] = {line_id: [] for line_id in lines}
    gap = np.zeros(int(GAP_S * RATE), dtype=np.float32)
    for pack in packs({line_id: len(audio) / RATE for line_id, audio in lines.items()}):
        spans, pieces, at = {}, [], 0.0
        for line_id in pack:
            spans[line_id] = (at, at + len(lines[line_id]) / RATE)
            pieces += [lines[line_id].astype(np.float32), gap]
            at = spans[line_id][1] + GAP_S
        for word in transcriber.transcribe(np.concatenate(pieces), language).words:
            owner = min(spans, key=lambda i: 0.0 if spans[i][0] <= word.middle <= spans[i][1]
                        else min(abs(word.middle - spans[i][0]), abs(word.middle - spans[i][1])))
            heard[owner].append(replace(word, start=word.start - spans[owner][0], end=word.end - spans[owner][0]))
    return heard


def intelligibility_check(heard: str, text: str, language: str, limits: QCSettings) -> CheckResult:
    errors, length = transcript_errors(text, heard.split(), language)
    rate = errors / max(length, 1)
    unit = "CER" if language in UNSPACED_LANGUAGES else "WER"
    return graded("intelligibility", {unit: round(rate, 3), "heard": heard}, {"errors": (rate, limits.word_error_rate)},
                  {"errors": f"{unit} {rate:.0%}: heard \"{heard[:80]}\"", "ok": f"{unit} {rate:.0%}"})
