"""Engine interfaces and the registry that picks one from the settings.

A stage asks the registry for "the transcriber" or "the diarizer"; it never
imports a model library itself. Loaded engines are kept per settings, so a
model loads once per process (CLI run, UI server, test session).
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from .core import Transcript, Turn


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


def package_folder(package: str, folder: str) -> Path | None:
    """A folder shipped inside an installed package (where registry packages keep model weights)."""
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent / folder if spec and spec.origin else None


Engine = TypeVar("Engine")
_loaded: dict[tuple, object] = {}


def load_engine(kind: str, key: tuple, factory: Callable[[], Engine]) -> Engine:
    """Return the engine loaded for `key`, loading it with `factory` the first time."""
    cache_key = (kind, *key)
    if cache_key not in _loaded:
        _loaded[cache_key] = factory()
    return _loaded[cache_key]  # type: ignore[return-value]
