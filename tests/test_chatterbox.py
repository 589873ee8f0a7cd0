"""Chatterbox, the cloning engine a commercial project may use: loaded from a local folder, speaking in
its own environment, behind the same consent gate as every engine.

The model here has random weights in the real file names and formats, from the real classes
(tests/chatterbox_small: T3 at a test size, the rest at full size), so it speaks noise: what is tested
is the loading, the worker, the gate and the licence, not the voice.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubdesk.bench.security.consent import actor, speak
from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.core import ConsentGrant, Voice
from dubdesk.errors import EngineUnavailableError, ModelMissingError
from dubdesk.services import projects, speech
from dubdesk.synth.chatterbox import ChatterboxEngine, default_clone_python, line_limit_s
from dubdesk.synth.engines import NON_COMMERCIAL_LICENCES, voice_engine
from dubdesk.voices.consent import authorize
from dubdesk.voices.registry import ConsentError

from .conftest import SAMPLE, ffmpeg

TEST_SIZE = Path(__file__).with_name("chatterbox_small")  # sitecustomize.py (loaded first) and build_model.py


@pytest.fixture(scope="session")
def clone_python() -> Path:
    python = Settings().synth.chatterbox_python or default_clone_python()
    if not python.exists():
        pytest.skip(f"the clone environment (.venv-clone, see install.sh) is not installed: no {python}")
    return python


@pytest.fixture(scope="session")
def chatterbox(clone_python, tmp_path_factory) -> tuple[Settings, Path]:
    """Settings that speak actor profiles with a random-weights Chatterbox, and the file where the worker
    writes each recording it reads."""
    scratch = tmp_path_factory.mktemp("chatterbox")
    heard, python = scratch / "heard.txt", scratch / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{TEST_SIZE}" CHATTERBOX_HEARD="{heard}" exec "{clone_python}" "$@"\n')
    python.chmod(0o755)
    subprocess.run([python, TEST_SIZE / "build_model.py", scratch / "model"], check=True, capture_output=True)
    settings = Settings(home=scratch / "home").with_overrides(
        synth={"engine": "chatterbox", "chatterbox_model": str(scratch / "model"), "chatterbox_python": python})
    return settings, heard


@pytest.fixture()
def studio(chatterbox, tmp_path) -> tuple[Context, Path, Path]:
    """A studio of its own (the engine is shared), an actor's reference recording, and the heard-file, emptied."""
    settings, heard = chatterbox
    heard.write_text("")
    reference = tmp_path / "actor reference.wav"
    ffmpeg("-i", str(SAMPLE), "-ss", "6.5", "-t", "6", str(reference))
    return Context(settings.model_copy(update={"home": tmp_path / "home"})), reference, heard


def model_folder(tmp_path: Path, leave_out: tuple[str, ...] = ()) -> Path:
    for name in ChatterboxEngine.FILES:
        if name not in leave_out:
            (tmp_path / name).write_bytes(b"")
    return tmp_path


@pytest.mark.fast
def test_a_model_folder_missing_a_file_is_refused_naming_that_file_where_it_was_looked_for(tmp_path):
    folder = model_folder(tmp_path, leave_out=("s3gen.pt", "grapheme_mtl_merged_expanded_v1.json"))
    with pytest.raises(ModelMissingError, match="Chatterbox") as refused:
        ChatterboxEngine(str(folder), Path("/nowhere/python"))
    assert refused.value.looked_in == [str(folder / "s3gen.pt"), str(folder / "grapheme_mtl_merged_expanded_v1.json")]
    with pytest.raises(ModelMissingError, match="synth.chatterbox_model"):
        ChatterboxEngine(None, Path("/nowhere/python"))


@pytest.mark.fast
def test_a_missing_clone_environment_says_how_to_install_it(tmp_path):
    python = tmp_path / ".venv-clone" / "bin" / "python"
    with pytest.raises(EngineUnavailableError, match=rf"\.venv-clone: run \./install\.sh.*no Python at {python}"):
        ChatterboxEngine(str(model_folder(tmp_path)), python)


def test_chatterbox_speaks_a_consented_line_for_a_commercial_project_hearing_only_the_granted_references(studio):
    ctx, reference, heard = studio
    profile = actor(ctx, reference, titles=("*",))
    commercial = projects.create_project(ctx, SAMPLE, name="Ad", commercial=True)
    assert "chatterbox" not in NON_COMMERCIAL_LICENCES
    clip = speak(ctx, commercial, profile.profile_id)
    audio, rate = sf.read(ctx.folder(commercial) / clip.path, dtype="float32")
    assert rate == 24000 and audio.ndim == 1 and np.isfinite(audio).all()
    assert 0 < audio.size <= line_limit_s("Hola.") * rate and np.abs(audio).max() > 0
    assert clip.engine["engine"] == "chatterbox-tts" and clip.engine["weights_licence"].startswith("MIT")
    assert "voice_match" not in clip.settings  # the engine clones: nothing is matched afterwards
    granted = ctx.registry.reference_paths(ctx.registry.current(profile.profile_id))
    assert heard.read_text().split("\n")[:-1] == [str(path) for path in granted]


def test_chatterbox_refuses_without_a_grant_for_an_uncovered_language_and_for_a_revoked_voice(studio):
    ctx, reference, heard = studio
    profile = actor(ctx, reference)
    project = projects.create_project(ctx, SAMPLE, name="Pilot")
    engine = voice_engine("chatterbox", ctx.settings)
    references = tuple(ctx.registry.reference_paths(ctx.registry.current(profile.profile_id)))
    voice = Voice("chatterbox", profile.profile_id, references)
    forged = ConsentGrant(profile.profile_id, profile.hash, "es", "Pilot", "dubbing", "chatterbox", profile.profile_id,
                          (), 0.0, mac="0" * 64)
    for grant in (None, forged):
        with pytest.raises(ConsentError, match="no valid consent grant"):
            engine.speak("Hola.", voice, "es", grant, profile.profile_id)
    with pytest.raises(ConsentError, match="does not cover language 'fr'"):
        speak(ctx, project, profile.profile_id, "fr")
    _, voice, grant = authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing",
                                lambda record, paths: Voice("chatterbox", profile.profile_id, tuple(paths)))
    speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
    with pytest.raises(ConsentError, match="revoked"):  # a grant minted before the revocation is dead at once
        engine.speak("Hola.", voice, "es", grant, profile.profile_id)
    assert heard.read_text() == "" and speech.clips(ctx) == []
