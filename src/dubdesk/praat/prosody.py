"""Prosody measurement with Praat (inside the separate Praat program only): pitch, loudness, tempo,
vocal effort and voice quality of one line. Compared in dubdesk.qc.emotion."""
from __future__ import annotations

import math

import numpy as np
import parselmouth
from parselmouth.praat import call

from . import PROSODY_FEATURES

PITCH_FLOOR_HZ = 75.0  # below typical adult male speech; avoids subharmonic picks
PITCH_CEILING_HZ = 600.0  # covers shouted/excited female speech
FRAME_STEP_S = 0.01
INTENSITY_MIN_PITCH_HZ = 50.0  # de Jong & Wempe (2009): smooth enough that one syllable gives one peak
SILENCE_BELOW_PEAK_DB = 25.0  # de Jong & Wempe (2009): speech = within 25 dB of the loudest frame
NUCLEUS_MIN_DIP_DB = 2.0  # de Jong & Wempe (2009): a nucleus must rise 2 dB above the preceding dip
MIN_NUCLEI = 2  # a rate needs at least two syllables
MIN_DURATION_S = 0.3  # shorter than a syllable or two: nothing to say about delivery
ALPHA_LOW_HZ, ALPHA_SPLIT_HZ, ALPHA_HIGH_HZ = 50.0, 1000.0, 5000.0  # eGeMAPS alpha-ratio bands


def _semitones(hz: np.ndarray) -> np.ndarray:
    """Semitones re 100 Hz: pitch differences become perceptually uniform."""
    return 12.0 * np.log2(hz / 100.0)


def voiced_at(pitch: parselmouth.Pitch, times: np.ndarray) -> np.ndarray:
    """Voicing of the nearest pitch frame, to align other Praat contours with pitch."""
    f0 = pitch.selected_array["frequency"]
    idx = np.clip(np.round((times - pitch.x1) / pitch.dx).astype(int), 0, len(f0) - 1)
    return f0[idx] > 0


def _syllable_nuclei(db: np.ndarray, voiced: np.ndarray, threshold: float) -> int:
    """Count voiced intensity peaks above threshold that rise NUCLEUS_MIN_DIP_DB over the preceding dip."""
    count, dip = 0, np.inf
    for i in range(1, len(db) - 1):
        dip = min(dip, db[i])
        if db[i] >= db[i - 1] and db[i] > db[i + 1] and db[i] > threshold and voiced[i]:
            count += int(db[i] - dip >= NUCLEUS_MIN_DIP_DB)
            dip = db[i]
    return count


def alpha_ratio_db(sound: parselmouth.Sound, pitch: parselmouth.Pitch) -> float:
    """Median voiced-frame energy ratio 1-5 kHz over 50 Hz-1 kHz: vocal effort, independent of gain."""
    spec = sound.to_spectrogram(window_length=0.025, maximum_frequency=ALPHA_HIGH_HZ, time_step=FRAME_STEP_S)
    power, freqs = spec.values[:, voiced_at(pitch, spec.xs())], spec.ys()
    low = power[(freqs >= ALPHA_LOW_HZ) & (freqs < ALPHA_SPLIT_HZ)].sum(axis=0)
    high = power[(freqs >= ALPHA_SPLIT_HZ) & (freqs < ALPHA_HIGH_HZ)].sum(axis=0)
    return float(np.median(10.0 * np.log10((high + 1e-20) / (low + 1e-20))))


def prosody_profile(audio: np.ndarray, rate: int) -> dict[str, float]:
    """Profile the delivery of one line: pitch, loudness, tempo, vocal effort and voice quality."""
    if len(audio) < MIN_DURATION_S * rate:
        return {name: math.nan for name in PROSODY_FEATURES}
    sound = parselmouth.Sound(np.asarray(audio, dtype=np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch_ac(time_step=FRAME_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    intensity = sound.to_intensity(minimum_pitch=INTENSITY_MIN_PITCH_HZ, time_step=FRAME_STEP_S)

    f0 = pitch.selected_array["frequency"]
    times, db = intensity.xs(), intensity.values[0]
    voiced = voiced_at(pitch, times)
    if not voiced.any():  # silence, noise or whisper: no delivery to compare
        return {name: math.nan for name in PROSODY_FEATURES}
    st = _semitones(f0[f0 > 0])
    threshold = float(np.max(db)) - SILENCE_BELOW_PEAK_DB
    speech = db > threshold
    span_s = times[speech][-1] - times[speech][0] + FRAME_STEP_S  # ignores leading/trailing padding

    nuclei = _syllable_nuclei(db, voiced, threshold)
    points = call([sound, pitch], "To PointProcess (cc)")
    harmonicity = sound.to_harmonicity_cc(time_step=FRAME_STEP_S, minimum_pitch=PITCH_FLOOR_HZ)
    return {
        "pitch_median_st": float(np.median(st)),
        "pitch_range_st": float(np.percentile(st, 90) - np.percentile(st, 10)),
        "loudness_db": float(np.median(db[voiced & speech] if np.any(voiced & speech) else db[voiced])),
        "loudness_range_db": float(np.percentile(db[speech], 90) - np.percentile(db[speech], 10)),
        "speech_rate_sps": nuclei / span_s if nuclei >= MIN_NUCLEI else math.nan,
        "alpha_ratio_db": alpha_ratio_db(sound, pitch),
        "jitter_local": float(call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)),
        "shimmer_local": float(call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)),
        "hnr_db": float(call(harmonicity, "Get mean", 0, 0)),
    }
