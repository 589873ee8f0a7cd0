"""Lip closures (p, b, m): phonemes per word, Piper's own phoneme times through the consent gate,
the estimate from words and sound, and the check's verdicts."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from dubdesk.audio import RATE, resample
from dubdesk.config import FitSettings, QCSettings
from dubdesk.fit import fit_clip
from dubdesk.phonemes import closure_positions, words_phonemes
from dubdesk.qc.intelligibility import transcribe_lines
from dubdesk.qc.labials import BandLevel, closures_from_phonemes, closures_from_words, fitted_closures, labial_check, match_closures
from dubdesk.qc.timing import line_window
from dubdesk.services import fitting, scripting, speech
from dubdesk.services.checks import run_checks
from dubdesk.transcribe import get_transcriber

SENTENCES = ["Bob bought maps of Bombay.", "My mother baked apple pie.", "Please open the map and compare both maps.",
             "Maybe the problem was simpler."]


def test_closures_follow_pronunciation_not_spelling():
    words = ["lamb", "photo", "bumps", "hombre", "temps"]
    languages = ["en", "en", "en", "es", "fr"]
    counts = [len(closure_positions(words_phonemes([w], lang)[0])) for w, lang in zip(words, languages)]
    assert counts == [1, 0, 2, 1, 0]  # "mb" is one closure; "ph" is /f/; French "temps" is a nasal vowel
    assert closure_positions(words_phonemes(["lamb"], "en")[0])[0] > 0.5  # at the end of the word


def test_piper_reports_phoneme_times_and_the_estimate_finds_its_closures(ctx, sample_project, settings):
    clips = [speech.synthesize(ctx, sample_project, f"B{i}", text, "en", "stock-piper-en-us-joe")
             for i, text in enumerate(SENTENCES)]
    folder = ctx.folder(sample_project)
    truth = {c.line_id: closures_from_phonemes(c.settings["phonemes"]) for c in clips}
    assert all(truth.values()) and sum(map(len, truth.values())) >= 14
    audio = {c.line_id: resample(*sf.read(folder / c.path, dtype="float32"), RATE) for c in clips}
    assert all(times[-1] < len(audio[line]) / RATE for line, times in truth.items())
    heard = transcribe_lines(audio, "en", get_transcriber(settings))
    found, matched, errors = 0, 0, []
    for line_id, words in heard.items():
        estimate = closures_from_words(words, words_phonemes([w.text for w in words], "en"), BandLevel.of(audio[line_id]))
        pairs = match_closures(truth[line_id], estimate, 0.1)
        found, matched = found + len(estimate), matched + len(pairs)
        errors += [abs(e - t) for t, e in pairs]
    assert matched >= 0.5 * sum(map(len, truth.values())) and matched >= 0.5 * found  # bench: 0.68 / 0.67
    assert np.median(errors) < 0.07

    # Fitted 20% faster, the engine's times move with the clip and still meet the closures heard in it.
    clip = clips[2]
    fit = fit_clip(folder / clip.path, folder, 0.0, 1.5, 9.0, FitSettings(), on_screen=True)
    moved = fitted_closures(clip.settings["phonemes"], *sf.read(folder / clip.path, dtype="float32"), fit.rate)
    fitted = resample(*sf.read(folder / fit.path, dtype="float32"), RATE)
    words = transcribe_lines({"fit": fitted}, "en", get_transcriber(settings))["fit"]
    heard = closures_from_words(words, words_phonemes([w.text for w in words], "en"), BandLevel.of(fitted))
    assert fit.rate == 1.2 and len(match_closures(moved, heard, 0.1)) >= 0.5 * len(moved)
    assert len(match_closures(truth[clip.line_id], heard, 0.1)) < len(match_closures(moved, heard, 0.1))


def test_labial_verdicts_on_screen_off_screen_and_audio_only():
    limits = QCSettings()
    source = [1.0, 1.6, 2.3]
    assert labial_check(source, [1.03, 1.58, 2.36], None, limits).verdict == "pass"
    missing = labial_check(source, [], None, limits)
    assert missing.verdict == "fail" and "3 of the source's 3 lip closures have none" in missing.reason
    assert labial_check(source, [1.0, 1.9], None, limits).verdict == "warn"  # one of five unpartnered each side
    assert labial_check([], [], None, limits).verdict == "pass"
    unseen = labial_check(source, [], "audio-only source", limits)
    assert unseen.verdict == "n/a" and unseen.numbers["source_closures"] == 3


def test_a_neighbours_speech_across_the_window_edge_is_not_the_lines_onset():
    frames = np.zeros(1000, dtype=bool)
    frames[100:600] = True  # one run of speech from 1.0 s to 6.0 s; the line is scripted from 5.0 s
    window = line_window(frames, 5.0, 1.0, 200)
    assert np.flatnonzero(window)[0] == 50  # the scripted start (0.5 s margin), not the 0.25 s tolerance edge
    frames[476:485] = False  # a pause at 4.76-4.85 s, inside the tolerance: the line's own speech starts early
    assert np.flatnonzero(line_window(frames, 5.0, 1.0, 200))[0] == 35


def test_qc_takes_a_dub_engines_phoneme_times_over_the_estimate(ctx, sample_project):
    script = scripting.script(ctx, sample_project)
    line = script.lines[-3]
    speech.synthesize(ctx, sample_project, line.id, "Maybe my mother baked a pie.", "en", "stock-piper-en-us-joe")
    fit = fitting.fit_line(ctx, sample_project, script, line.id, "en")
    clip = speech.current_clips(ctx, sample_project, "en")[line.id]
    folder = ctx.folder(sample_project)
    expected = fitted_closures(clip.settings["phonemes"], *sf.read(folder / clip.path, dtype="float32"), fit.rate)
    lips = _labials(ctx, sample_project, line.id, clip)
    assert lips.verdict == "n/a" and lips.reason.startswith("audio-only source")
    assert lips.numbers["dub_closures"] == len(expected) >= 5
    clip.settings = {**clip.settings, "phonemes": [["m", 0.2, 0.3], ["a", 0.3, 0.4], ["p", 0.5, 0.6]]}
    assert _labials(ctx, sample_project, line.id, clip).numbers["dub_closures"] == 2


def _labials(ctx, project, line_id, clip):
    checks = run_checks(ctx, project, "en", {line_id: clip})[line_id]
    return next(check for check in checks if check.check == "labials")
