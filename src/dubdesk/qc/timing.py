"""Lip-sync and timing QC from the sound alone: fit, where speech starts and ends against the source
line, whether the dub pauses where the source pauses, and its tempo against the source's: syllables a
second of speech, each against its own language's usual syllable rate."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..activity import FRAME_S
from ..config import Limits, QCSettings
from ..core import Fit, Line
from ..translate import speaking_rate
from . import CheckResult, graded

WINDOW_MARGIN_S = 0.5
LINE_TOLERANCE_S = 0.25  # word times from the recogniser are this good, or better
AIM_SHOWN_S = 0.05  # an aim this far from the source line's length is said in the timing reason
TIMED_LENGTH_STEPS = 101  # lengths tried between the source's and the tempo-keeping one


def _edges(mask: np.ndarray) -> tuple[float, float, float] | None:
    """(first speech, last speech, seconds of speech) in a window, or None if silent."""
    frames = np.flatnonzero(mask)
    return (frames[0] * FRAME_S, (frames[-1] + 1) * FRAME_S, len(frames) * FRAME_S) if len(frames) else None


def _looser(limits: Limits, by: float) -> Limits:
    return Limits(warn=limits.warn * by, fail=limits.fail * by)


def line_window(frames: np.ndarray, start: float, duration: float, length: int) -> np.ndarray:
    """`length` frames of a programme's speech from WINDOW_MARGIN_S before the line's start. Speech
    beyond the line (and LINE_TOLERANCE_S) belongs to its neighbours and is cleared; so is a
    neighbour's speech running on across that edge, up to the line's own scripted edge."""
    pad, first, tolerance = int(WINDOW_MARGIN_S / FRAME_S), int(start / FRAME_S), int(LINE_TOLERANCE_S / FRAME_S)
    padded = np.concatenate([np.zeros(pad, bool), frames, np.zeros(length, bool)])
    window = padded[first:first + length].copy()
    begin, end = pad - tolerance, min(length, pad + int((duration + LINE_TOLERANCE_S) / FRAME_S))
    scripted_end = pad + int(duration / FRAME_S)
    window[:begin] = False
    window[end:] = False
    if padded[first + begin - 1] and window[begin]:
        _clear_run(window, begin, pad, step=1)
    if first + end < len(padded) and padded[first + end] and window[end - 1]:
        _clear_run(window, end - 1, scripted_end - 1, step=-1)
    return window


def _clear_run(window: np.ndarray, edge: int, limit: int, step: int) -> None:
    """Clear the speech run that starts at `edge`, walking by `step`, but not past `limit`."""
    index = edge
    while window[index] and (index < limit if step > 0 else index > limit):
        window[index] = False
        index += step


def timing_check(source: np.ndarray, dub: np.ndarray, line: Line, fit: Fit, syllables: tuple[int, int],
                 languages: tuple[str, str], limits: QCSettings, on_screen: bool = True) -> CheckResult:
    """`source`: the programme's speech frames; `dub`: the fitted clip's, placed at the line's start;
    `syllables`: the source line's and the dub's."""
    pad = int(WINDOW_MARGIN_S / FRAME_S)
    length = int(max(fit.slot_s, fit.fitted_s) / FRAME_S) + 2 * pad
    dub_window = np.zeros(length, dtype=bool)
    dub_window[pad:pad + len(dub)] = dub[:length - pad]
    numbers = {"rate": round(fit.rate, 3), "needed_rate": round(fit.needed_rate, 3)}
    if fit.aim_s is not None and abs(fit.aim_s - fit.source_s) >= AIM_SHOWN_S:
        numbers["aim_s"] = round(fit.aim_s, 3)
    result = speech_timing(line_window(source, line.start, line.duration, length), dub_window, syllables,
                           languages, limits, on_screen, numbers)
    if "aim_s" in numbers:
        result = replace(result, reason=f"{result.reason}; aimed at {fit.aim_s:.2f} s against the source's "
                                        f"{fit.source_s:.2f} s, to keep its tempo")
    if not fit.fits:
        over = fit.syllables_over(syllables[1])
        return CheckResult("timing", "fail", {**result.numbers, "syllables_over": over},
                           f"{fit.reason}, {over} syllable{'s' * (over != 1)} over; {result.reason}")
    return result


def tempo_measurable(syllables: tuple[int, int], limits: Limits) -> bool:
    """Whether a tempo from these syllable counts can be judged at these limits: a count is good to about
    one syllable (a vowel run read as one nucleus or two, "Ok" read as one), so one syllable more or less
    in the smaller count must not by itself cross the warn limit. Off screen (warn 0.5) a tempo needs 3
    syllables a side, on screen (warn 0.25) 6; a shorter line is still judged on onset, offset and pauses."""
    fewest = min(syllables)
    return fewest > 0 and math.log2((fewest + 1) / fewest) <= limits.warn


def timed_length(source_s: float, slot_s: float, syllables: tuple[int, int], tempo: float, limits: QCSettings,
                 on_screen: bool) -> float:
    """How long a dub line should last, for speech and fit to aim at. `tempo`: the dub's against the
    source's (tempo_of) were it to last just the source line's length. That length, unless the tempo there
    would cross its warn limit; then the length that keeps the worst of offset, pause pattern and tempo,
    each as a share of its warn limit, least, between the source's and the one that keeps the source's
    tempo, never so far that offset or pause pattern would cross their own warn limit (they are measured
    for certain, the tempo is estimated), nor past the slot. A Spanish dub of "I thought you know I heard
    a beep" says fewer syllables than the English, and stretched over the whole line it would drawl. A
    line whose tempo cannot be measured (tempo_measurable) keeps the source's length."""
    by = 1.0 if on_screen else limits.offscreen_looser_by
    tempo_limits = _looser(limits.tempo_change, by)
    if not tempo_measurable(syllables, tempo_limits) or tempo <= 0 or abs(math.log2(tempo)) <= tempo_limits.warn:
        return source_s
    even = source_s * tempo  # tempo goes as one over the length: at this length it is the source's
    offset, pauses = limits.offset_error_s.warn * by, min(limits.pause_mismatch.warn * by, 0.99)
    shortest = max(min(source_s, even), source_s - offset, source_s * (1 - pauses))
    longest = min(max(source_s, even), source_s + offset, source_s / (1 - pauses), max(slot_s, source_s))

    def worst(length: float) -> float:  # the `by` of off-screen lines scales every limit alike: left out
        return max(abs(length - source_s) / limits.offset_error_s.warn,
                   abs(length - source_s) / max(length, source_s) / limits.pause_mismatch.warn,
                   abs(math.log2(even / length)) / limits.tempo_change.warn)

    return round(float(min(np.linspace(shortest, longest, TIMED_LENGTH_STEPS), key=worst)), 3)


def tempo_of(syllables: tuple[int, int], speech_s: tuple[float, float], languages: tuple[str, str]) -> float:
    """The dub's tempo over the source's: syllables a second of speech (pauses left out), each side against
    its own language's usual rate; (source, dub) in each pair."""
    (source_syllables, dub_syllables), (source_s, dub_s), (source_language, dub_language) = syllables, speech_s, languages
    return (dub_syllables / dub_s / speaking_rate(dub_language)) / (source_syllables / source_s / speaking_rate(source_language))


def vad_stretch(line: Line) -> tuple[float, float]:
    """The stretch of the source read around a line: its timing window and a second either side, for the VAD."""
    return max(0.0, line.start - WINDOW_MARGIN_S - 1.0), line.end + WINDOW_MARGIN_S + 1.0


def speech_timing(source_window: np.ndarray, dub_window: np.ndarray, syllables: tuple[int, int],
                  languages: tuple[str, str], limits: QCSettings, on_screen: bool = True,
                  numbers: dict | None = None) -> CheckResult:
    """Onset, offset, pause pattern and tempo of the dub's speech against the source's, in one window
    (`syllables`: what the source line and the dub say; tempo is not judged where either says too few to
    measure it, see tempo_measurable)."""
    numbers = {**(numbers or {}), "on_screen": on_screen}
    source_edges, dub_edges = _edges(source_window), _edges(dub_window)
    if dub_edges is None:
        return CheckResult("timing", "fail", numbers, "no speech detected in the dub")
    if source_edges is None:
        return CheckResult("timing", "n/a", numbers, "no speech detected in the source line")
    by = 1.0 if on_screen else limits.offscreen_looser_by
    onset, offset_error = dub_edges[0] - source_edges[0], dub_edges[1] - source_edges[1]
    either = source_window | dub_window
    mismatch = float(np.mean(source_window[either] != dub_window[either]))
    source_syllables, dub_syllables = syllables
    numbers.update({"onset_error_s": round(onset, 3), "offset_error_s": round(offset_error, 3),
                    "pause_mismatch": round(mismatch, 3), "syllables": [source_syllables, dub_syllables]})
    measures = {"onset": (abs(onset), _looser(limits.onset_error_s, by)),
                "offset": (abs(offset_error), _looser(limits.offset_error_s, by)),
                "pauses": (mismatch, _looser(limits.pause_mismatch, by))}
    tempo, tempo_limits, unjudged = 1.0, _looser(limits.tempo_change, by), ""
    if min(syllables):
        tempo = tempo_of(syllables, (source_edges[2], dub_edges[2]), languages)
        numbers["tempo_vs_source"] = round(tempo, 3)
        if tempo_measurable(syllables, tempo_limits):
            measures["tempo"] = (abs(math.log2(tempo)), tempo_limits)
        else:
            numbers["tempo_judged"] = False
            unjudged = f"; tempo not judged ({min(syllables)} syllable{'s' * (min(syllables) != 1)}, too few to measure)"
    return graded("timing", numbers, measures, {
        "onset": f"starts {onset * 1000:+.0f} ms from the source", "offset": f"ends {offset_error * 1000:+.0f} ms from the source",
        "pauses": f"speech/pause pattern differs in {mismatch:.0%} of the line",
        "tempo": f"tempo {tempo:.0%} of the source's ({dub_syllables} syllable{'s' * (dub_syllables != 1)} against {source_syllables}, "
                 f"each against its language's usual rate)",
        "ok": f"onset {onset * 1000:+.0f} ms, offset {offset_error * 1000:+.0f} ms, pauses agree {1 - mismatch:.0%}{unjudged}"})
