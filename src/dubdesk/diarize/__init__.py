"""Diarization: who speaks when, from any registered engine.

The diarizers register here (engines.register); each engine module is imported only when its
engine is first asked for, so listing them loads nothing (not even torch).
"""
from __future__ import annotations

from ..config import Settings
from ..engines import Diarizer, engine, register


@register("diarize", "embedded")
def _embedded(settings: Settings) -> Diarizer:
    from .embedded_engine import EmbeddedDiarizer

    return EmbeddedDiarizer()


@register("diarize", "pyannote", key=lambda settings: (settings.diarize.pipeline,))
def _pyannote(settings: Settings) -> Diarizer:
    from .pyannote_engine import PyannoteDiarizer

    return PyannoteDiarizer(settings.diarize.pipeline)


def get_diarizer(settings: Settings) -> Diarizer:
    """The diarizer named in the settings, loaded once per process."""
    return engine("diarize", settings.diarize.engine, settings)
