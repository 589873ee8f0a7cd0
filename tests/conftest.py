"""Shared fixtures: one data folder and one set of loaded models per test session."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dubdesk.config import Settings
from dubdesk.workbench import Workbench

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "pyannote_sample" / "sample.wav"
AMI_SAMPLE = ROOT / "samples" / "ami_dev00" / "dev00.wav"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def workbench(settings) -> Workbench:
    return Workbench(settings)


@pytest.fixture(scope="session")
def sample_project(workbench):
    return workbench.create_project(SAMPLE, name="sample")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


def ffmpeg(*args: str) -> None:
    subprocess.run([shutil.which("ffmpeg"), "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def make_media(media_dir):
    """Encode the first `seconds` of the sample into `name` (format from its extension)."""

    def make(name: str, *codec: str, seconds: float = 8.0, video: bool = False) -> Path:
        target = media_dir / name
        if not target.exists():
            inputs = ["-i", str(SAMPLE)]
            if video:
                inputs = ["-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}", *inputs]
            ffmpeg(*inputs, "-t", str(seconds), *codec, str(target))
        return target

    return make
