"""Fit: each synthesized line into its slot, at its source line's start.

A line is time-stretched with pitch kept (Rubber Band R3, a separate GPL program) toward the length
it aims at (its source line's, moved toward the source's tempo: qc.timing.timed_length), within the
rate bounds of the settings. It is never cut, never sped past a bound, and
always starts where its source line starts, so later lines never drift. A line that would need a
rate beyond the bound to end inside its slot is marked "does not fit", with the rate it would need.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from .activity import FRAME_S, speech_frames
from .audio import resample
from .config import FitSettings
from .core import Fit
from .files import sha256_file
from .labels import AI_LABEL, read_labels, write_labelled_wav
from .tools import run

SILENT_CLIP_S = 0.01  # less sound than this is nothing said (a line with no text)
TRIM_TOP_DB = 40.0  # below the line's peak, counts as silence at its edges
CLICK_S, CLICK_GAP_S = 0.05, 0.2  # a sound this short, this far from the rest of the line, is a click
RUBBERBAND_LICENCE = "Rubber Band Library 3 (rubberband-cli, GPL-2.0+, run as a separate program)"


def plan_rate(natural_s: float, aim_s: float, slot_s: float, bounds: tuple[float, float]) -> tuple[float, float, bool]:
    """(rate, needed rate, fits): toward `aim_s`, within the bounds."""
    rate = min(max(natural_s / aim_s, bounds[0]), bounds[1])
    needed = natural_s / slot_s
    return rate, needed, natural_s / rate <= slot_s + 1e-3


def sound_span(audio: np.ndarray, rate: int) -> slice:
    """Where the line's sound is: from the first to the last 10 ms frame within TRIM_TOP_DB of the
    loudest, leaving out a click at either edge (a sound shorter than CLICK_S, a pause of at least
    CLICK_GAP_S away from the rest: no syllable is that short); the whole clip if it is shorter than a
    frame or silent."""
    frame = max(1, rate // 100)
    count = len(audio) // frame
    if count == 0:
        return slice(0, len(audio))
    rms = np.sqrt(np.mean(audio[:count * frame].reshape(count, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-TRIM_TOP_DB / 20))
    if not len(loud):
        return slice(0, len(audio))
    sounds = np.split(loud, np.flatnonzero(np.diff(loud) * frame >= CLICK_GAP_S * rate) + 1)
    while len(sounds) > 1 and (sounds[-1][-1] - sounds[-1][0] + 1) * frame < CLICK_S * rate:
        sounds.pop()
    while len(sounds) > 1 and (sounds[0][-1] - sounds[0][0] + 1) * frame < CLICK_S * rate:
        sounds.pop(0)
    return slice(sounds[0][0] * frame, (sounds[-1][-1] + 1) * frame)


def speech_share(audio: np.ndarray, rate: int) -> float:
    """The share of a line's sound (edge silences trimmed) that is speech, as timing QC hears it: kept by
    any pace or stretch, so a take's tempo at any length follows from it."""
    sound = trim_edges(audio, rate)
    if len(sound) < SILENT_CLIP_S * rate:
        return 0.0
    return round(min(1.0, float(speech_frames(resample(sound, rate)).sum()) * FRAME_S / (len(sound) / rate)), 3)


def trim_edges(audio: np.ndarray, rate: int) -> np.ndarray:
    """The line without the silence at its edges."""
    return audio[sound_span(audio, rate)]


def stretch(audio: np.ndarray, rate: int, duration_s: float) -> np.ndarray:
    """Time-stretch to `duration_s` with pitch kept, by Rubber Band's finer R3 engine."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-fit-") as folder:
        source, target = Path(folder) / "in.wav", Path(folder) / "out.wav"
        sf.write(source, audio, rate, subtype="FLOAT")
        run(["rubberband", "--fine", "--quiet", "-D", f"{duration_s:.6f}", source, target])
        return sf.read(target, dtype="float32")[0]


def bounds_for(settings: FitSettings, on_screen: bool, engine_speed: float = 1.0) -> tuple[float, float]:
    """The stretch a line may still get once its engine spoke it at `engine_speed`: the bounds hold for
    the two together, so pacing at the engine never lets a line go faster (or slower) overall."""
    low, high = (settings.min_rate, settings.max_rate) if on_screen else (settings.offscreen_min_rate,
                                                                          settings.offscreen_max_rate)
    return low / engine_speed, high / engine_speed


def fit_clip(clip_path: Path, project_folder: Path, start: float, source_s: float, slot_s: float,
             settings: FitSettings, on_screen: bool, engine_speed: float = 1.0, aim_s: float | None = None) -> Fit:
    """Fit one synthesized clip toward `aim_s` (None: the source line's length); the fitted copy keeps the
    clip's labels and sits beside it."""
    aim_s = source_s if aim_s is None else aim_s
    bounds = bounds_for(settings, on_screen, engine_speed)
    audio, rate = sf.read(clip_path, dtype="float32")
    speech = trim_edges(audio, rate)
    if len(speech) < SILENT_CLIP_S * rate:
        # Nothing said: the line's own length of silence, so the mix, watermark and delivery get a clip
        # like any other (and Rubber Band, asked to stretch nothing, never returns).
        speech = np.zeros(int(round(source_s * rate)), dtype=np.float32)
    natural_s = len(speech) / rate
    playback, needed, fits = plan_rate(natural_s, aim_s, slot_s, bounds)
    fitted = speech if abs(playback - 1.0) < 0.01 else stretch(speech, rate, natural_s / playback)
    labels = read_labels(clip_path)
    target = clip_path.with_name(clip_path.name.replace(f" [{AI_LABEL}]", f"_fit [{AI_LABEL}]"))
    write_labelled_wav(target, fitted, rate, labels["title"], labels["artist"],
                       f"{labels['description']}; fitted at rate {playback:.3f} by {RUBBERBAND_LICENCE}")
    return Fit(start, source_s, slot_s, natural_s, playback, len(fitted) / rate, needed, bounds, fits,
               str(target.relative_to(project_folder)), sha256_file(target), on_screen, engine_speed, aim_s)
