"""Engine interfaces, and the one registry that picks an engine by kind and name.

Every engine a stage can use is described here as a Protocol: a Transcriber, a Diarizer, a
Translator, a VoiceEngine (which speaks a `Speech`). The packages that hold engines register
each one under its kind and name (`@register("speak", "pico")`); a stage asks for one with
`engine(kind, name, settings)` and never imports a model library itself. Loaded engines are kept
per kind, name and the settings that change them, so a model loads once per process (CLI run, UI
server, test session), always through `load_engine`.

This is a low module: it imports the vocabulary (core) and the errors, nothing above them.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from .core import ConsentGrant, Transcript, Turn, Voice
from .errors import DubdeskError

# CTranslate2 (Whisper) and PyTorch (diarizer, voice encoder) each bring their own OpenMP runtime.
# Left to spin while idle, each one's worker threads starve the other's on a small machine: a voice
# embedding just after a Whisper call took 2.5 s instead of 0.08 s, and the main job spent a third of
# its time so. Idle workers sleep instead; this must be set before either library loads (engines load
# lazily, after this module), and child processes (Praat, watermark, batch workers) inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class EngineIdentity:
    """What produced an output: recorded with every stage result it touches."""

    engine: str
    model: str
    weights_licence: str
    version: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


class Transcriber(Protocol):
    identity: EngineIdentity
    at_once: int  # transcriptions it runs at the same time, called from that many threads

    def transcribe(self, audio: np.ndarray, language: str | None) -> Transcript:
        """Words with times from 16 kHz mono float32 audio."""
        ...


class Diarizer(Protocol):
    identity: EngineIdentity

    def diarize(
        self, audio: np.ndarray, num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
    ) -> list[Turn]:
        """Speaker turns from 16 kHz mono float32 audio; always a result, even for one speaker."""
        ...


class Translator(Protocol):
    """One translation engine: a step of an embedded route (fast, apertium) or a production model."""

    identity: EngineIdentity

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        """Each line translated, in order; an empty line stays empty. A word the engine could not
        translate comes back marked with a leading '*' (Apertium's own mark), so it can be flagged."""
        ...

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """Other translations of `line`, best first, aiming at `max_syllables` spoken (the caller counts and enforces it);
        empty from an engine that cannot propose any."""
        ...


@dataclass(frozen=True)
class Speech:
    """A spoken line: float32 mono audio, its sample rate, and, where the engine reports them,
    when each phoneme is heard: (IPA phoneme, start s, end s)."""

    audio: np.ndarray
    rate: int
    phonemes: tuple[tuple[str, float, float], ...] = ()


class VoiceEngine(Protocol):
    name: str  # as a Voice names its engine
    identity: EngineIdentity
    paced: bool  # whether `speed` sets its pace; where not, fit's time-stretch takes the whole difference

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        """The line spoken, hearing only `voice.references` (if the engine listens to any), at `speed`
        times the engine's own pace (its length scale, speed setting or markup: natural-sounding
        tempo, not stretching); raises ConsentError without a valid grant for exactly this voice and
        these references."""
        ...


def package_folder(package: str, folder: str) -> Path | None:
    """A folder shipped inside an installed package (where registry packages keep model weights)."""
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent / folder if spec and spec.origin else None


Engine = TypeVar("Engine")
_loaded: dict[tuple, object] = {}
_loading: dict[tuple, threading.Lock] = {}  # one per engine: two threads asking at once load it once
_loading_guard = threading.Lock()


def load_engine(kind: str, key: tuple, factory: Callable[[], Engine]) -> Engine:
    """Return the engine loaded for `key`, loading it with `factory` the first time (once, whatever the
    threads asking; others loading other engines meanwhile do not wait)."""
    cache_key = (kind, *key)
    if cache_key not in _loaded:
        with _loading_guard:
            lock = _loading.setdefault(cache_key, threading.Lock())
        with lock:
            if cache_key not in _loaded:
                _loaded[cache_key] = factory()
    return _loaded[cache_key]  # type: ignore[return-value]


# The kinds of engine, each with the Protocol its engines follow and what a person calls it. A factory
# is given the settings its stage holds: the whole Settings, or for translation the TranslateSettings
# section (None for the embedded route).
KINDS: dict[str, tuple[type, str]] = {"transcribe": (Transcriber, "transcription"),
                                      "diarize": (Diarizer, "diarization"),
                                      "translate": (Translator, "translation"),
                                      "speak": (VoiceEngine, "speech")}


@dataclass(frozen=True)
class Registration:
    factory: Callable[[Any], Any]  # settings -> the engine, loading its model
    key: Callable[[Any], tuple]  # settings -> what in them makes a different engine (kept apart when loaded)


_REGISTERED: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}


def _no_key(settings: Any) -> tuple:
    return ()


def register(kind: str, name: str, key: Callable[[Any], tuple] = _no_key) -> Callable:
    """Decorator: the factory (settings -> engine) of the `kind` engine called `name`."""
    if kind not in KINDS:
        raise ValueError(f"no engine kind '{kind}'; kinds: {', '.join(KINDS)}")

    def add(factory: Callable[[Any], Engine]) -> Callable[[Any], Engine]:
        _REGISTERED[kind][name] = Registration(factory, key)
        return factory

    return add


def engine_names(kind: str) -> list[str]:
    """The registered engines of `kind`, in the order they were registered."""
    if kind not in KINDS:
        raise DubdeskError(f"no engine kind '{kind}'; kinds: {', '.join(KINDS)}")
    return list(_REGISTERED[kind])


def engine(kind: str, name: str, settings: Any = None) -> Any:
    """The `kind` engine called `name`, loaded once per process for the settings that shape it."""
    known = engine_names(kind)
    if name not in known:
        raise DubdeskError(f"no {KINDS[kind][1]} engine '{name}'; known: {', '.join(known) or '(none registered)'}")
    registration = _REGISTERED[kind][name]
    return load_engine(kind, (name, *registration.key(settings)), lambda: registration.factory(settings))
