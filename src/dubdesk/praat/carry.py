"""Prosody carried over (inside the separate Praat program only): a dub line's pitch and loudness
moved toward its source line's delivery, each voice measured against itself.

Pitch: the source's semitone contour, time-normalised over its voiced part (first to last voiced
frame), is laid over the dub's voiced part and blended with the dub's own contour; the blend's range
(p90-p10, as the emotion check measures it) moves toward the source's, within a scale limit, around
the dub voice's own median. Where the source speaker's habitual pitch is known, the dub's median moves
by the share of the source line's offset from it (an excited line said higher than the speaker's
usual), within a shift limit: the source speaker's absolute pitch is never copied. Praat's
Manipulation resynthesises the line with that pitch by overlap-add (PSOLA), so its duration, timing
and spectrum stay.

Loudness: a smooth gain curve toward the source's envelope shape (each envelope against its own
median over speech, time-normalised over the speech) and, where the speaker's habitual level is
known, toward the line's level offset from it; a few dB at most, and never past -1 dBFS.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import parselmouth
import soundfile as sf
from parselmouth.praat import call

from .prosody import (
    ALPHA_SPLIT_HZ,
    FRAME_STEP_S,
    INTENSITY_MIN_PITCH_HZ,
    PITCH_CEILING_HZ,
    PITCH_FLOOR_HZ,
    SILENCE_BELOW_PEAK_DB,
    alpha_ratio_db,
    voiced_at,
)

MIN_VOICED_FRAMES = 10  # 0.1 s of voicing: less has no contour to speak of
OCTAVE_ERROR_FRAMES = 5  # a running median this long removes single-frame octave jumps from the source's contour
CONTOUR_SMOOTH_S = 0.05  # the source's contour, squeezed or stretched onto the dub, must not bring its own jitter
ENVELOPE_SMOOTH_S = 0.15  # envelopes and the gain curve are phrase-level: no syllable gets its own gain
MIN_SPREAD_ST = 0.1  # a contour flatter than this has no range to scale
CEILING = 10 ** (-1 / 20)  # the gain never lifts a peak above -1 dBFS


@dataclass(frozen=True)
class Limits:
    """How far a line may move (ProsodySettings as the worker receives it)."""

    strength: float  # 0: the dub as spoken; 1: all the way to the source's shape, range and offsets
    max_range_scale: float  # the dub's pitch range is scaled by at most this, or at least its inverse
    max_shift_st: float  # the dub's median pitch moves by at most this many semitones
    max_gain_db: float  # no stretch of the line gets louder or quieter by more than this


@dataclass(frozen=True)
class Voiced:
    """The voiced frames of a line: their times (s) and pitch in semitones re 100 Hz, and the pitch itself."""

    times: np.ndarray
    st: np.ndarray
    pitch: parselmouth.Pitch

    @classmethod
    def of(cls, sound: parselmouth.Sound) -> Voiced:
        pitch = sound.to_pitch_ac(time_step=FRAME_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        f0 = pitch.selected_array["frequency"]
        voiced = f0 > 0
        return cls(pitch.xs()[voiced], 12.0 * np.log2(f0[voiced] / 100.0), pitch)


@dataclass(frozen=True)
class Envelope:
    """A line's intensity (dB) per frame and which frames are speech (within 25 dB of the loudest, as
    the prosody profile counts them)."""

    times: np.ndarray
    db: np.ndarray
    speech: np.ndarray

    @classmethod
    def of(cls, sound: parselmouth.Sound) -> Envelope:
        intensity = sound.to_intensity(minimum_pitch=INTENSITY_MIN_PITCH_HZ, time_step=FRAME_STEP_S)
        db = intensity.values[0]
        return cls(intensity.xs(), db, db > db.max() - SILENCE_BELOW_PEAK_DB)

    def shape(self) -> tuple[np.ndarray, np.ndarray]:
        """(time normalised over the speech, smoothed level against the median over speech) per speech frame."""
        times, db = self.times[self.speech], _smooth(self.db, ENVELOPE_SMOOTH_S)[self.speech]
        return _normalised(times), db - np.median(db)


@dataclass(frozen=True)
class Carried:
    """What was done to one line (the worker's answer)."""

    applied: bool
    reason: str | None = None  # why nothing was done
    pitch_range_before_st: float | None = None
    pitch_range_after_st: float | None = None
    pitch_shift_st: float | None = None
    gain_min_db: float | None = None
    gain_max_db: float | None = None


def _normalised(times: np.ndarray) -> np.ndarray:
    """Times as a share of the way from the first to the last."""
    return (times - times[0]) / max(times[-1] - times[0], FRAME_STEP_S)


def _spread(st: np.ndarray) -> float:
    """p90 - p10: the pitch or loudness range as the prosody profile measures it."""
    return float(np.percentile(st, 90) - np.percentile(st, 10))


def _smooth(values: np.ndarray, seconds: float) -> np.ndarray:
    """A moving average over `seconds` of 10 ms frames, edges held."""
    width = max(1, int(round(seconds / FRAME_STEP_S)))
    padded = np.pad(values, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def _running_median(values: np.ndarray, width: int) -> np.ndarray:
    padded = np.pad(values, width // 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def _offset(line: float, habit: float | None, limits: Limits, most: float) -> float:
    """The share `strength` of the line's offset from its speaker's habit, within +-most; 0 without a habit."""
    return 0.0 if habit is None else float(np.clip(limits.strength * (line - habit), -most, most))


def pitch_target(source: Voiced, dub: Voiced, limits: Limits, habit_st: float | None) -> tuple[np.ndarray, float, float]:
    """The dub's new pitch (semitones) at its voiced frames, its range scale and its median shift."""
    source_shape = _running_median(source.st - np.median(source.st), OCTAVE_ERROR_FRAMES)
    dub_median = float(np.median(dub.st))
    dub_shape = dub.st - dub_median
    laid = _smooth(np.interp(_normalised(dub.times), _normalised(source.times), source_shape), CONTOUR_SMOOTH_S)
    blend = (1 - limits.strength) * dub_shape + limits.strength * laid
    blend -= np.median(blend)  # the dub's median moves only by the shift
    before = max(_spread(dub_shape), MIN_SPREAD_ST)
    wanted = before + limits.strength * (_spread(source_shape) - before)
    scale = float(np.clip(wanted / before, 1 / limits.max_range_scale, limits.max_range_scale))
    shift = _offset(float(np.median(source.st)), habit_st, limits, limits.max_shift_st)
    return dub_median + shift + blend * (scale * before / max(_spread(blend), MIN_SPREAD_ST)), scale, shift


def gain_curve(source: Envelope, dub: Envelope, limits: Limits, level_offset_db: float) -> np.ndarray:
    """Gain (dB) per dub intensity frame: the dub's envelope shape toward the source's, plus the level offset,
    smooth and within +-max_gain_db."""
    source_u, source_shape = source.shape()
    dub_u, dub_shape = dub.shape()
    toward = limits.strength * (np.interp(dub_u, source_u, source_shape) - dub_shape) + level_offset_db
    gain = np.interp(dub.times, dub.times[dub.speech], toward)  # pauses take their neighbours' gain
    return np.clip(_smooth(gain, ENVELOPE_SMOOTH_S), -limits.max_gain_db, limits.max_gain_db)


def _headroom_db(audio: np.ndarray, rate: int, times: np.ndarray) -> np.ndarray:
    """Per intensity frame, the most gain that keeps every peak near it under CEILING."""
    half = int(ENVELOPE_SMOOTH_S * rate)
    centres = np.clip((times * rate).astype(int), 0, len(audio) - 1)
    peaks = np.array([np.max(np.abs(audio[max(0, c - half):c + half + 1])) for c in centres])
    return 20 * np.log10(CEILING / np.maximum(peaks, 1e-9))


def _resynthesised(sound: parselmouth.Sound, dub: Voiced, target_st: np.ndarray) -> np.ndarray:
    """The line spoken on the target pitch by PSOLA, exactly as long as before."""
    manipulation = call(sound, "To Manipulation", FRAME_STEP_S, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
    tier = call("Create PitchTier", "carried", sound.xmin, sound.xmax)
    hz = np.clip(100.0 * 2 ** (target_st / 12.0), PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
    for time, value in zip(dub.times, hz):
        call(tier, "Add point", float(time), float(value))
    call([manipulation, tier], "Replace pitch tier")
    audio = call(manipulation, "Get resynthesis (overlap-add)").values[0]
    samples = sound.values.shape[1]
    return np.pad(audio, (0, max(0, samples - len(audio))))[:samples]


def _tilt_kept(audio: np.ndarray, original: parselmouth.Sound, voiced: Voiced) -> np.ndarray:
    """The resynthesised line with the original's spectral tilt (alpha ratio) back: overlap-add at a new
    pitch shifts energy between the bands, and the voice's effort is not PSOLA's to change."""
    rate = original.sampling_frequency
    resynthesised = parselmouth.Sound(audio, sampling_frequency=rate, start_time=original.xmin)
    lost_db = alpha_ratio_db(original, voiced.pitch) - alpha_ratio_db(resynthesised, resynthesised.to_pitch_ac(
        time_step=FRAME_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ))
    frequencies = np.fft.rfftfreq(len(audio), 1 / rate)
    shelf = np.clip(np.log2(np.maximum(frequencies, 1.0) / ALPHA_SPLIT_HZ) + 0.5, 0.0, 1.0)  # 0 below 707 Hz, 1 above 1414
    return np.fft.irfft(np.fft.rfft(audio) * 10 ** (lost_db * shelf / 20), n=len(audio))


def carry(dub_path: str, source_path: str, output: str, limits: Limits, habit: dict[str, float] | None) -> Carried:
    """Write the dub at `dub_path` to `output` with its prosody moved toward the source line's; nothing is
    written when either line has too little voicing to have a contour."""
    dub_sound, source_sound = parselmouth.Sound(dub_path), parselmouth.Sound(source_path)
    dub, source = Voiced.of(dub_sound), Voiced.of(source_sound)
    if min(len(dub.st), len(source.st)) < MIN_VOICED_FRAMES:
        return Carried(False, "too little voicing in the source or the dub to carry a contour")
    target, _, shift = pitch_target(source, dub, limits, habit["pitch_median_st"] if habit else None)
    audio = _tilt_kept(_resynthesised(dub_sound, dub, target), dub_sound, dub)
    dub_envelope, source_envelope = Envelope.of(dub_sound), Envelope.of(source_sound)
    level = _offset(_voiced_level(source_envelope, source), habit["loudness_db"] if habit else None, limits,
                    limits.max_gain_db)
    rate = int(dub_sound.sampling_frequency)
    gain = gain_curve(source_envelope, dub_envelope, limits, level)
    gain = np.minimum(gain, np.maximum(_headroom_db(audio, rate, dub_envelope.times), 0.0))
    sample_gain = 10 ** (np.interp(np.arange(len(audio)) / rate + dub_sound.xmin, dub_envelope.times, gain) / 20)
    sf.write(output, (audio * sample_gain).astype(np.float32), rate, subtype="FLOAT")
    return Carried(True, None, round(_spread(dub.st), 2), round(_spread(target), 2), round(shift, 2),
                   round(float(gain.min()), 2), round(float(gain.max()), 2))


def _voiced_level(envelope: Envelope, voiced: Voiced) -> float:
    """The line's level as the prosody profile measures it: the median over voiced speech frames."""
    frames = envelope.speech & voiced_at(voiced.pitch, envelope.times)
    return float(np.median(envelope.db[frames] if frames.any() else envelope.db[envelope.speech]))


def carry_prosody(request: dict[str, Any]) -> dict[str, Any]:
    """The worker task: {dub, source, output, limits: Limits fields, habit: {pitch_median_st, loudness_db} or null}."""
    return asdict(carry(request["dub"], request["source"], request["output"], Limits(**request["limits"]),
                        request.get("habit")))
