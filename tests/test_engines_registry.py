"""The one engine registry: every kind lists its engines, an unknown name is refused by name, and an
engine is loaded once per process for the settings that shape it."""
from __future__ import annotations

import os

import pytest

import dubdesk.diarize
import dubdesk.synth.engines
import dubdesk.transcribe
import dubdesk.translate  # noqa: F401  (importing a stage registers its engines)
from dubdesk import engines
from dubdesk.config import Settings
from dubdesk.core import ConsentGrant, Voice
from dubdesk.errors import DubdeskError

pytestmark = pytest.mark.fast

LOAD_ENGINE = engines.load_engine  # captured before the fast tier's guard replaces it


def test_each_kind_lists_its_engines():
    assert engines.engine_names("transcribe") == ["faster-whisper", "whisperx"]
    assert engines.engine_names("diarize") == ["embedded", "pyannote"]
    assert engines.engine_names("translate") == ["fast", "apertium", "pronouns", "ctranslate2", "chat"]
    assert engines.engine_names("speak") == ["pico", "piper", "kokoro", "xtts", "chatterbox"]


def test_an_unknown_engine_name_is_refused_naming_the_known_ones():
    with pytest.raises(DubdeskError, match=r"no speech engine 'nobody'; known: pico, piper, kokoro, xtts, chatterbox"):
        dubdesk.synth.engines.voice_engine("nobody", Settings())
    with pytest.raises(DubdeskError, match=r"no transcription engine 'nobody'; known: faster-whisper, whisperx"):
        engines.engine("transcribe", "nobody", Settings())
    with pytest.raises(DubdeskError, match=r"no engine kind 'paint'; kinds: transcribe, diarize, translate, speak"):
        engines.engine("paint", "nobody")


def test_a_registered_factory_is_loaded_once_per_settings_that_shape_it(monkeypatch):
    monkeypatch.setattr(engines, "load_engine", LOAD_ENGINE)  # the engine below is a stand-in: it loads no model
    monkeypatch.setattr(engines, "_loaded", {})
    monkeypatch.setitem(engines._REGISTERED, "speak", dict(engines._REGISTERED["speak"]))
    built: list[str | None] = []

    @engines.register("speak", "stand-in", key=lambda settings: (settings.synth.xtts_model,))
    def stand_in(settings: Settings) -> object:
        built.append(settings.synth.xtts_model)
        return object()

    first, second = Settings(), Settings().with_overrides(synth={"xtts_model": "/elsewhere"})
    assert engines.engine("speak", "stand-in", first) is engines.engine("speak", "stand-in", first)
    assert engines.engine("speak", "stand-in", second) is not engines.engine("speak", "stand-in", first)
    assert built == [None, "/elsewhere"]
    assert "stand-in" in engines.engine_names("speak")


def test_a_real_engine_asked_for_in_the_fast_tier_is_caught_as_a_model_load():
    with pytest.raises(AssertionError, match=r"a fast test loaded a model \(speak\)"):
        dubdesk.synth.engines.voice_engine("pico", Settings())
    with pytest.raises(AssertionError, match=r"a fast test loaded a model \(transcribe\)"):
        dubdesk.transcribe.get_transcriber(Settings())


def test_voice_and_grant_are_still_importable_from_the_consent_module():
    from dubdesk.voices import consent

    assert consent.Voice is Voice and consent.ConsentGrant is ConsentGrant


def test_idle_openmp_workers_sleep_in_every_process_before_any_model_library_loads():
    """CTranslate2 and PyTorch each bring an OpenMP runtime; spinning idle workers of one starve the other
    (a voice embedding after a Whisper call took 30 times longer). The setting must precede both libraries."""
    import subprocess
    import sys
    from pathlib import Path

    probe = ("import os, sys; import dubdesk.cli, ui.app; "
             "assert not {'torch', 'ctranslate2'} & set(sys.modules), 'a model library loaded at import'; "
             "print(os.environ['OMP_WAIT_POLICY'])")
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                           cwd=Path(__file__).parents[1], check=True)
    assert found.stdout.strip() == "PASSIVE"
