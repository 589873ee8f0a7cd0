"""Emotion QC: how far the dub's delivery drifted from the source line's.

Each line's prosody profile (measured by Praat in its separate program, dubdesk.praat.prosody) is
compared feature by feature in units of a just-noticeable or typical within-speaker difference.
Source and dub are different voices in different languages, so speaker-dependent levels (median
pitch, loudness, voice quality) are first taken against each voice's own habitual level over the
project (`relative_to`); ranges, tempo and vocal effort compare directly.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..praat import PROSODY_FEATURES


@dataclass(frozen=True)
class Feature:
    """How one profile feature is compared between source and dub."""

    scale: float  # change that counts as one unit of drift (in ln-ratio units when log_ratio)
    log_ratio: bool  # compare ln(dub/source) instead of dub - source
    comparable: bool  # True: comparable across speakers; False: speaker/channel-dependent level
    label: str  # name in the verdict
    unit: str  # "%": report dub as percent of source; else the signed change in this unit
    more: str  # verdict word when the dub is higher
    less: str  # verdict word when the dub is lower


FEATURES: dict[str, Feature] = {
    # 3 st: 't Hart (1981), pitch-excursion differences under ~3 st are not reliably heard
    "pitch_range_st": Feature(3.0, False, True, "pitch range", "%", "more melodic", "flatter"),
    # 3 dB: about the smallest loudness change reliably noticed in running speech
    "loudness_range_db": Feature(3.0, False, True, "loudness range", "dB", "more dynamic", "more even"),
    # x1.15: tempo JND is ~5-10%; repetitions of a line by one speaker vary by ~10-15%
    "speech_rate_sps": Feature(math.log(1.15), True, True, "rate", "%", "faster", "slower"),
    # 3 dB: normal -> raised vocal effort flattens the spectrum by several dB; gain-independent
    "alpha_ratio_db": Feature(3.0, False, True, "alpha ratio", "dB", "more forceful", "less forceful"),
    # 2 st: within-speaker spread of utterance median F0; another voice sits elsewhere
    "pitch_median_st": Feature(2.0, False, False, "pitch", "st", "higher-pitched", "lower-pitched"),
    # 3 dB: loudness JND in speech; the absolute level also depends on mic gain and mastering
    "loudness_db": Feature(3.0, False, False, "level", "dB", "louder", "quieter"),
    # x1.5: test-retest variability of local jitter is tens of percent; voice-dependent
    "jitter_local": Feature(math.log(1.5), True, False, "jitter", "%", "rougher", "steadier"),
    # x1.5: test-retest variability of local shimmer is tens of percent; voice-dependent
    "shimmer_local": Feature(math.log(1.5), True, False, "shimmer", "%", "shakier", "smoother"),
    # 3 dB: test-retest spread of mean HNR is a few dB; voice-dependent
    "hnr_db": Feature(3.0, False, False, "HNR", "dB", "clearer", "breathier"),
}
assert tuple(FEATURES) == PROSODY_FEATURES, "every feature Praat measures is compared, and only those"


def speaker_baseline(profiles: list[dict[str, float]]) -> dict[str, float]:
    """Median profile over many lines of one speaker: their habitual pitch, loudness and voice."""
    return {name: float(np.median([p[name] for p in profiles])) for name in FEATURES}


def speaker_baselines(profiles: dict[str, dict[str, float]], owner: dict[str, str]) -> dict[str, dict[str, float]]:
    """Each speaker's baseline over their fully measured lines (line id -> profile; line id -> speaker);
    NaN levels for a speaker with none."""
    groups = defaultdict(list)
    for line_id, profile in profiles.items():
        if all(np.isfinite(profile[name]) for name in FEATURES):
            groups[owner[line_id]].append(profile)
    return defaultdict(lambda: {name: np.nan for name in FEATURES},
                       {who: speaker_baseline(found) for who, found in groups.items()})


def relative_to(profile: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """Express level features against the speaker's own baseline so that two different voices compare."""

    def rel(name: str, value: float) -> float:
        spec = FEATURES[name]
        if spec.comparable:
            return value
        return value / baseline[name] if spec.log_ratio else value - baseline[name]

    return {name: rel(name, value) for name, value in profile.items()}


def _drift(name: str, source: float, dub: float) -> float:
    """Signed source-to-dub change in units of the feature's scale; positive = dub higher."""
    spec = FEATURES[name]
    if spec.log_ratio:
        return math.log(dub / source) / spec.scale if dub > 0 and source > 0 else math.nan
    return (dub - source) / spec.scale


def emotion_distance(source: dict[str, float], dub: dict[str, float], level_weight: float = 1.0) -> tuple[float, dict[str, float]]:
    """Weighted RMS of per-feature drifts (JND-like units); level_weight=0 ignores speaker-dependent levels.

    Features undefined in either line (NaN, e.g. no voicing) are left out; NaN distance if none remain.
    """
    drift = {name: _drift(name, source[name], dub[name]) for name in FEATURES}
    weights = {n: (1.0 if f.comparable else level_weight) * math.isfinite(drift[n]) for n, f in FEATURES.items()}
    total = sum(weights.values())
    sum_sq = sum(weights[n] * drift[n] ** 2 for n in FEATURES if weights[n])
    return (math.sqrt(sum_sq / total) if total else math.nan), drift


def _describe(name: str, source: float, dub: float, drift: float) -> str:
    """Change as a listener would name it: percent of source for ranges/rates, signed change for levels."""
    spec = FEATURES[name]
    if spec.log_ratio:
        return f"{spec.label} {100 * math.exp(drift * spec.scale):.0f}% of source"
    if spec.unit == "%":
        return f"{spec.label} {100 * dub / max(source, 1e-9):.0f}% of source"
    return f"{spec.label} {drift * spec.scale:+.1f} {spec.unit}"


def describe_drift(source: dict[str, float], dub: dict[str, float], drift: dict[str, float]) -> str:
    """Up to three features drifting over one unit, speaker-comparable ones first, as a listener would say it."""
    over = [n for n in FEATURES if math.isfinite(drift[n]) and abs(drift[n]) >= 1.0]
    drifted = sorted(over, key=lambda n: (not FEATURES[n].comparable, -abs(drift[n])))[:3]
    if not drifted:
        return "delivery matches"
    words = [FEATURES[n].more if drift[n] > 0 else FEATURES[n].less for n in drifted]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"dub {joined}: " + ", ".join(_describe(n, source[n], dub[n], drift[n]) for n in drifted)
