"""Ingest: every accepted container works and bad input is refused cleanly, leaving nothing behind."""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.errors import BadInputError
from dubdesk.files import sha256_file
from dubdesk.services import projects
from dubdesk.services.projects import SOURCE_FOLDER

from .conftest import SAMPLE, ffmpeg

pytestmark = pytest.mark.fast


@pytest.fixture()
def fresh(tmp_path) -> Context:
    return Context(Settings(home=tmp_path / "home"))


def assert_nothing_left(ctx: Context) -> None:
    assert projects.projects(ctx) == []
    leftovers = list(ctx.settings.projects_dir.rglob("*")) if ctx.settings.projects_dir.exists() else []
    assert leftovers == []


@pytest.mark.parametrize("name, codec, video", [
    ("clip.wav", ("-c:a", "pcm_s24le", "-ar", "48000", "-ac", "2"), False),
    ("clip.flac", (), False),
    ("clip.mp3", ("-b:a", "128k"), False),
    ("clip.ogg", ("-c:a", "libvorbis"), False),
    ("clip.opus", ("-c:a", "libopus"), False),
    ("clip.m4a", ("-c:a", "aac"), False),
    ("clip.mp4", ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"), True),
    ("clip.mkv", ("-c:v", "libx264", "-c:a", "libopus", "-shortest"), True),
    ("clip.mov", ("-c:v", "libx264", "-c:a", "aac", "-shortest"), True),
])
def test_accepted_formats_keep_original_and_make_working_copy(fresh, make_media, name, codec, video):
    source = make_media(name, *codec, video=video)
    project = projects.create_project(fresh, source)
    folder = fresh.folder(project) / SOURCE_FOLDER
    original = folder / f"original{source.suffix}"
    assert sha256_file(original) == sha256_file(source) == project.source_sha256
    audio, rate = sf.read(folder / "working.wav")
    assert rate == 16000 and audio.ndim == 1
    assert abs(len(audio) / rate - 8.0) < 0.15
    assert project.media["has_video"] is video
    if video:
        assert project.media["video_fps"] == 25.0


def test_unicode_and_spaces_in_file_name(fresh, make_media, tmp_path):
    odd = tmp_path / "Épisode 1 – «dub» 配音.flac"
    odd.write_bytes(make_media("clip.flac").read_bytes())
    project = projects.create_project(fresh, odd)
    assert project.source_name == odd.name
    assert project.name == odd.stem


def _truncated(tmp_path, make_media):
    data = make_media("long.mp3", "-b:a", "128k", seconds=20).read_bytes()
    path = tmp_path / "truncated.mp3"
    path.write_bytes(data[: len(data) // 3])
    return path


def _silence(tmp_path, _):
    path = tmp_path / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "5", str(path))
    return path


def _no_audio(tmp_path, _):
    path = tmp_path / "picture.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=2", "-pix_fmt", "yuv420p", str(path))
    return path


def _corrupt(tmp_path, _):
    path = tmp_path / "corrupt.wav"
    header = SAMPLE.read_bytes()[:44]
    path.write_bytes(header + os.urandom(4000)[:3] + b"\x00" * 7)
    return path


def _file(name: str, data: bytes | None):
    """A builder for a file `name` holding `data` (a folder when `data` is None)."""

    def build(tmp_path, _):
        path = tmp_path / name
        path.mkdir() if data is None else path.write_bytes(data)
        return path

    return build


BAD_INPUTS = {
    "missing": (lambda tmp_path, _: tmp_path / "nope.wav", "no such file"),
    "directory": (_file("folder.wav", None), "not a file"),
    "empty": (_file("empty.wav", b""), "empty"),
    "text as wav": (_file("notes.wav", b"hello, not audio"), "not a readable audio or video file"),
    "wrong type": (_file("notes.txt", b"hello"), "unsupported file type"),
    "no audio stream": (_no_audio, "no audio stream"),
    "truncated": (_truncated, "truncated"),
    "silence only": (_silence, "silence only"),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_with_reason_and_leaves_nothing(fresh, make_media, tmp_path, case):
    build, reason = BAD_INPUTS[case]
    path = build(tmp_path, make_media)
    with pytest.raises(BadInputError) as caught:
        projects.create_project(fresh, path)
    assert reason in str(caught.value)
    assert path.name in str(caught.value)
    assert_nothing_left(fresh)


def test_corrupt_data_is_refused(fresh, tmp_path):
    path = _corrupt(tmp_path, None)
    with pytest.raises(BadInputError) as caught:
        projects.create_project(fresh, path)
    assert "corrupt.wav" in str(caught.value)
    assert_nothing_left(fresh)


def test_too_long_is_refused(tmp_path):
    settings = Settings(home=tmp_path / "home")
    settings = settings.with_overrides(ingest={"max_duration_s": 10.0})
    ctx = Context(settings)
    with pytest.raises(BadInputError, match="too long: 0.5 min, the maximum is 0.2 min"):
        projects.create_project(ctx, SAMPLE)
    assert_nothing_left(ctx)


def test_quiet_but_real_speech_is_accepted(fresh, tmp_path):
    audio, rate = sf.read(SAMPLE, dtype="float32")
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, audio * 10 ** (-30 / 20), rate)
    project = projects.create_project(fresh, quiet)
    assert project.media["peak_dbfs"] < -30
    assert np.isfinite(project.media["peak_dbfs"])
