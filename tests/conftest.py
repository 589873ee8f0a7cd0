"""Shared fixtures: one data folder and one set of loaded models per test session; the test tiers.

Tiers (README): `-m fast` needs no model (a test marked fast that loads one fails), `-m browser`
serves the UI, and everything else is `-m models`: real models on real audio.
"""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from dubdesk import engines
from dubdesk.access import add_user, user
from dubdesk.audio import decode_audio
from dubdesk.bench.main_job import clear_sample
from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.labels import write_labelled_wav
from dubdesk.services import casting, checks, delivery, desk, pipeline, portal, projects, scripting, speech, translation
from dubdesk.services.desk import regenerate_line
from dubdesk.voices.records import ConsentTerms, StockVoice

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "pyannote_sample" / "sample.wav"
AMI_SAMPLE = ROOT / "samples" / "ami_dev00" / "dev00.wav"
REVIEWER = "Rita Reviewer"
LOAD_ENGINE = engines.load_engine  # every model is loaded through it
# Every data folder a test makes keeps its own SQLite file, and test_postgres.py starts a PostgreSQL server of
# its own: a team's database named in the environment is never reached from the tests.
os.environ.pop("DUBDESK_DATABASE_URL", None)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if not (item.get_closest_marker("fast") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.models)


@pytest.fixture(autouse=True)
def fast_tests_load_no_model(request, monkeypatch) -> None:
    """Keeps the fast tier honest: every model comes through engines.load_engine, which fails here."""
    if request.node.get_closest_marker("fast") is None:
        return

    def refuse(kind: str, *_) -> None:
        raise AssertionError(f"a fast test loaded a model ({kind}): it belongs to the models tier")

    for name, module in list(sys.modules.items()):
        if name.startswith("dubdesk") and getattr(module, "load_engine", None) is LOAD_ENGINE:
            monkeypatch.setattr(module, "load_engine", refuse)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def ctx(settings) -> Context:
    return Context(settings)


@pytest.fixture(scope="session")
def sample_project(ctx):
    return projects.create_project(ctx, SAMPLE, name="sample")


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


@pytest.fixture(scope="session")
def reviewed(ctx, make_media):
    """A 12 s video (test card + the sample's speech) dubbed into Spanish in a voice of its own, fitted (lines
    that do not fit spoken again shorter) and checked, every line but the last approved by a named reviewer, and
    the title cleared for delivery (as the bundled sample's licence allows)."""
    source = make_media("delivery.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                        seconds=12.0, video=True)
    project = projects.create_project(ctx, source, name="Entrega «prueba»")
    voice = ctx.registry.create("Delivery Voice", ConsentTerms(("es",), uses=("*",), terms_ref="test"),
                                      stock=StockVoice("pico", "es-ES", "Apache-2.0", "Debian libttspico"), by="test")
    script = scripting.script(ctx, project)
    translation.translate(ctx, project, "es")
    for speaker in {line.speaker for line in script.lines}:
        casting.cast(ctx, project, speaker, "es", voice.profile_id)
    speech.synthesize_language(ctx, project, "es")
    texts = translation.translations(ctx, project, "es")
    for line_id, fitted in pipeline.fit_lines(ctx, project, "es").items():
        if not fitted.fits:  # shortened, as a person would: delivery refuses a line running into the next
            regenerate_line(ctx, project, line_id, "es", "Sí.", REVIEWER, texts[line_id].version)
    checks.qc(ctx, project, "es")
    for line in script.lines[:-1]:
        desk.review(ctx, project, line.id, "es", REVIEWER, approve=True, override_reason="accepted for the test")
    clear_sample(ctx, project, "es", SAMPLE)
    return project, script, voice.profile_id


@pytest.fixture(scope="session")
def delivered(ctx, reviewed, tmp_path_factory):
    """The one delivery of the test session (test_delivery, test_verify_tampering): copy it before changing it."""
    project, script, _ = reviewed
    desk.review(ctx, project, script.lines[-1].id, "es", REVIEWER, approve=True, override_reason="accepted for the test")
    return delivery.deliver(ctx, project, "es", tmp_path_factory.mktemp("out"))


@pytest.fixture
def home_copy(ctx, reviewed, tmp_path) -> Context:
    """The session's data folder copied whole (the database by SQLite's backup), opened as a workbench
    of its own: for a test that revokes a voice, which is final, without touching the session's."""
    home = tmp_path / "home-copy"
    shutil.copytree(ctx.settings.home, home, ignore=shutil.ignore_patterns("dubdesk.db*"))
    with closing(sqlite3.connect(ctx.settings.home / "dubdesk.db")) as source,\
            closing(sqlite3.connect(home / "dubdesk.db")) as target:
        source.backup(target)
    return Context(ctx.settings.model_copy(update={"home": home}))


PASSWORD = "correct horse"
PEOPLE = {"lena": "localization", "vic": "voice_actor", "dora": "distributor", "ada": "admin"}
LANGUAGE = "es"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def served(ctx, make_media, tmp_path_factory):
    """Four people, a voice actor's own profile, and a short project dubbed in that voice, served: once a
    session, for the browser tests of test_ui and test_ui_editor (a fixture imported into two modules
    would be set up twice, and the second time its people exist already)."""
    from ui.app import serve

    for name, role in PEOPLE.items():
        add_user(ctx.sessions, name, PASSWORD, role)
    reference = tmp_path_factory.mktemp("reference") / "vic.wav"
    write_labelled_wav(reference, decode_audio(SAMPLE)[16000 * 2:16000 * 14], 16000, "reference", "vic", "reference")
    profile = portal.create_profile(ctx, user(ctx.sessions, "vic"), "Vic Voz", ["es"], ["dubbing"], None,
                                    "contract 7", [reference])
    project = projects.create_project(ctx, make_media("ui.flac", seconds=10.0), name="UI check")
    pipeline.prepare_dub(ctx, project, LANGUAGE, profile.profile_id)
    app, url = serve(ctx, port=_free_port(), block=False)
    yield ctx, project, profile.profile_id, url
    app.close()
