"""Diarization: who speaks when, from any registered engine."""
from __future__ import annotations

from ..config import Settings
from ..engines import Diarizer, load_engine


def get_diarizer(settings: Settings) -> Diarizer:
    """The diarizer named in the settings, loaded once per process."""
    config = settings.diarize
    if config.engine == "pyannote":
        from .pyannote_engine import PyannoteDiarizer

        return load_engine("diarize", ("pyannote", config.pipeline), lambda: PyannoteDiarizer(config.pipeline))
    from .embedded_engine import EmbeddedDiarizer

    return load_engine("diarize", ("embedded",), EmbeddedDiarizer)
