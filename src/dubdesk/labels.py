"""The "AI beta" label every generated audio file carries: in its name and in its metadata."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from .export.script_files import atomic_write

AI_LABEL = "AI beta"


def labelled_name(stem: str, suffix: str = ".wav") -> str:
    return f"{stem} [{AI_LABEL}]{suffix}"


def write_labelled_wav(path: Path, audio: np.ndarray, rate: int, title: str, artist: str, description: str) -> Path:
    """A 24-bit WAV whose LIST-INFO names it AI-generated, written atomically."""

    def write(tmp: Path) -> None:
        with sf.SoundFile(tmp, "w", samplerate=rate, channels=1, subtype="PCM_24", format="WAV") as out:
            out.title, out.artist, out.comment, out.software = title, artist, description, "dubdesk"
            out.write(audio)

    return atomic_write(path, write)


def read_labels(path: Path) -> dict[str, str]:
    with sf.SoundFile(path) as source:
        return {"title": source.title, "artist": source.artist, "description": source.comment}
