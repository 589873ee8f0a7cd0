"""Prosody carried over: a dub line's pitch and loudness moved toward its source line's, by Praat in its
separate program, within the configured limits; measured with the emotion check's own profile."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from dubdesk.audio import RATE
from dubdesk.config import ProsodySettings
from dubdesk.context import Context
from dubdesk.labels import AI_LABEL, read_labels
from dubdesk.praat import run_praat
from dubdesk.qc.emotion import emotion_distance
from dubdesk.services import projects, speech
from dubdesk.services.scripting import script as script_of
from dubdesk.store.takes import processing
from dubdesk.synth.prosody import SourceDelivery, SpeakerHabit, carry_prosody

SECONDS = 1.6


def vowel(semitones: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
    """A voiced 'a' on a pitch contour (st re 100 Hz, one value per sample) at a level per sample: a pulse
    train through two formant resonators, as a stand-in for a spoken line."""
    phase = np.cumsum(100.0 * 2 ** (semitones / 12) / RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    for centre, width in ((700.0, 130.0), (1220.0, 70.0)):
        radius = math.exp(-math.pi * width / RATE)
        pulses = lfilter([1.0], [1.0, -2 * radius * math.cos(2 * math.pi * centre / RATE), radius ** 2], pulses)
    return (0.3 * pulses / np.abs(pulses).max() * 10 ** (loudness_db / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def lines() -> tuple[np.ndarray, np.ndarray]:
    """(flat dub, lively source): the dub drifts down 2 st at an even level; the source swings 12 st up and
    down and swells 12 dB."""
    u = np.linspace(0.0, 1.0, int(SECONDS * RATE))
    flat = vowel(9.0 - 2.0 * u, np.zeros_like(u))
    lively = vowel(3.0 + 12.0 * np.sin(np.pi * u) ** 2, -12.0 + 12.0 * np.sin(np.pi * u))
    return flat, lively


def profiles(*lines: np.ndarray) -> list[dict[str, float]]:
    """Each line's prosody profile, as the emotion check measures it."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{index}.wav" for index in range(len(lines))]
        for path, audio in zip(paths, lines):
            sf.write(path, audio, RATE, subtype="FLOAT")
        return run_praat("prosody", segments=[{"path": str(path)} for path in paths])


def frame_db(audio: np.ndarray, frame: int = RATE // 25) -> np.ndarray:
    """Level per 40 ms: several pitch periods, so moving the pulses (PSOLA) does not move the level."""
    frames = audio[:len(audio) // frame * frame].reshape(-1, frame)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


@pytest.mark.fast
def test_a_flat_line_gets_livelier_toward_a_lively_source_within_the_range_limit_and_as_long_as_before(lines):
    flat, lively = lines
    settings = ProsodySettings(carry=True)
    carried, done = carry_prosody(flat, RATE, SourceDelivery(lively, RATE, None), settings)
    before, after, source = profiles(flat, carried, lively)
    assert done.applied and len(carried) == len(flat)
    assert after["pitch_range_st"] > before["pitch_range_st"] + 1.0
    assert after["pitch_range_st"] <= settings.max_range_scale * before["pitch_range_st"] + 0.3
    assert abs(after["pitch_range_st"] - source["pitch_range_st"]) < abs(before["pitch_range_st"] - source["pitch_range_st"])
    assert abs(after["pitch_median_st"] - before["pitch_median_st"]) < 0.5  # no habit known: the dub's own median


@pytest.mark.fast
def test_gain_and_pitch_shift_stop_at_their_limits_however_far_the_source_line_is_from_its_speakers_habit(lines):
    flat, lively = lines
    settings = ProsodySettings(carry=True, strength=1.0, max_gain_db=2.0, max_shift_st=1.5)
    far = SpeakerHabit(pitch_median_st=-10.0, loudness_db=20.0)  # the line 20 st above, and 40 dB or so below, its habit
    carried, done = carry_prosody(flat, RATE, SourceDelivery(lively, RATE, far), settings)
    before, after = profiles(flat, carried)
    change = (frame_db(carried) - frame_db(flat))[frame_db(flat) > frame_db(flat).max() - 25]
    assert done.gain_min_db >= -settings.max_gain_db and done.pitch_shift_st == settings.max_shift_st
    assert np.abs(change).max() <= settings.max_gain_db + 1.0  # the gain, plus what PSOLA itself moves
    assert change.min() < -settings.max_gain_db + 1.0  # pulled down as far as allowed
    assert after["pitch_median_st"] - before["pitch_median_st"] == pytest.approx(settings.max_shift_st, abs=0.5)


@pytest.mark.fast
def test_switched_off_the_line_is_left_as_the_engine_spoke_it(lines):
    flat, lively = lines
    carried, done = carry_prosody(flat, RATE, SourceDelivery(lively, RATE, None), ProsodySettings(carry=False))
    assert done is None and carried is flat


def test_a_sample_line_dubbed_with_carry_over_is_closer_to_its_source_delivery_and_says_so_in_its_labels(ctx,
                                                                                                          sample_project):
    """The same Spanish words in the stock voice, spoken without and with carry-over, against the longest
    source line's delivery (the features comparable across speakers, weighed as the check weighs them)."""
    script = script_of(ctx, sample_project)
    line = max((line for line in script.lines if line.duration >= 1.5), key=lambda line: len(line.text))
    plain_ctx, carrying_ctx = (Context(ctx.settings.model_copy(update={"prosody": ProsodySettings(carry=carry)}))
                               for carry in (False, True))
    plain = speech.synthesize(plain_ctx, sample_project, line.id, "Sí, claro, te llamo mañana por la tarde.", "es",
                              "stock-pico-es-es")
    carried = speech.synthesize(carrying_ctx, sample_project, line.id, plain.text, "es", "stock-pico-es-es")
    folder = ctx.folder(sample_project)
    source, before, after = profiles(projects.source_audio(ctx, sample_project, line.start, line.end),
                                     sf.read(folder / plain.path, dtype="float32")[0],
                                     sf.read(folder / carried.path, dtype="float32")[0])
    assert emotion_distance(source, after, level_weight=0)[0] < emotion_distance(source, before, level_weight=0)[0]
    labels = read_labels(folder / carried.path)
    assert AI_LABEL in labels["title"] and "prosody carried over" in labels["description"]
    assert "GPL-3.0, run as a separate program" in labels["description"]
    assert carried.settings["prosody"]["applied"] and "prosody" not in plain.settings
    assert any(step.startswith("prosody: Praat") for step in processing(carried.settings))
