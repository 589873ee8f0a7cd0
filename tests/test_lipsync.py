"""Audio-visual sync: the offset search on a mouth track, and lines with no face on screen."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dubdesk.audio import decode_audio
from dubdesk.bench.lipsync import delayed
from dubdesk.config import QCSettings, Settings
from dubdesk.faces import FaceTrack
from dubdesk.fit import fit_clip
from dubdesk.labels import write_labelled_wav
from dubdesk.qc.lipsync import RATE, MouthTrack, SpeechLevel, av_sync_check
from dubdesk.services import projects, scripting

from .conftest import AMI_SAMPLE, SAMPLE

FPS, SECONDS, MOUTH_LEADS_S = 25.0, 20.0, 0.12


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return decode_audio(SAMPLE)[:int(SECONDS * RATE)]


@pytest.fixture(scope="module")
def mouth(speech) -> MouthTrack:
    """A mouth that opens with the speech's articulation 120 ms before it is heard, seen through noise
    and with the face lost for a second, as a real track would be."""
    times = np.arange(int(SECONDS * FPS)) / FPS
    opening = 10 ** (SpeechLevel(speech).db(times + MOUTH_LEADS_S) / 40)
    opening += np.random.default_rng(7).normal(0, 1.5 * np.nanstd(opening), len(times))
    opening[int(5 * FPS):int(6 * FPS)] = np.nan
    return MouthTrack(FaceTrack(FPS, times, opening))


def test_the_offset_and_a_planted_one_are_recovered(mouth, speech):
    found = mouth.offset(SpeechLevel(speech), 0.0, SECONDS)
    assert found.reliable and found.offset_s == pytest.approx(MOUTH_LEADS_S, abs=0.01)
    for planted in (0.2, -0.2):
        shifted = speech if planted > 0 else speech[round(-planted * RATE):]
        level = SpeechLevel(delayed(shifted, planted) if planted > 0 else shifted)
        moved = mouth.offset(level, 0.0, SECONDS)
        assert moved.offset_s - found.offset_s == pytest.approx(planted, abs=0.04)


def test_unrelated_speech_is_not_taken_for_sync(mouth):
    other = decode_audio(AMI_SAMPLE)[:int(SECONDS * RATE)]
    assert not mouth.offset(SpeechLevel(other), 0.0, SECONDS).reliable


def test_a_dub_is_judged_against_the_sources_own_offset(mouth, speech):
    limits = QCSettings()
    in_sync = av_sync_check(mouth, 1.0, SpeechLevel(speech), 8.0, 14.0, MOUTH_LEADS_S, limits)
    assert in_sync.verdict == "pass", in_sync.reason
    late = av_sync_check(mouth, 1.0, SpeechLevel(delayed(speech, 0.15)), 8.0, 14.0, MOUTH_LEADS_S, limits)
    assert late.verdict == "fail" and late.numbers["relative_offset_s"] == pytest.approx(0.15, abs=0.04)
    assert "ms against the picture" in late.reason


def test_a_video_with_no_face_puts_its_lines_off_screen(ctx, make_media, sample_project, tmp_path):
    project = projects.create_project(ctx, make_media("clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                                                  "-shortest", video=True))
    track = scripting.face_track(ctx, project)  # MediaPipe, in the face environment
    assert len(track.times) == pytest.approx(8 * 25, abs=2) and track.fps == 25.0
    assert track.face_share(0.0, 8.0) == 0.0 and not track.on_screen(1.0, 3.0)
    assert scripting.face_track(ctx, sample_project) is None  # audio alone: no picture
    check = av_sync_check(MouthTrack(track), track.face_share(1.0, 3.0), SpeechLevel(decode_audio(SAMPLE)), 1.0, 3.0,
                          0.0, QCSettings())
    assert check.verdict == "n/a" and check.reason.startswith("off screen")

    clip = write_labelled_wav(tmp_path / "line [AI beta].wav", sf.read(SAMPLE, dtype="float32")[0][:48000], 16000,
                              "line", "voice", "test")
    settings = Settings().fit
    loose = fit_clip(clip, tmp_path, 0.0, 2.2, 2.3, settings, on_screen=False)
    tight = fit_clip(clip, tmp_path, 0.0, 2.2, 2.3, settings, on_screen=True)
    assert loose.bounds == (settings.offscreen_min_rate, settings.offscreen_max_rate) and loose.fits
    assert tight.bounds == (settings.min_rate, settings.max_rate) and not tight.fits
