"""Transcription: words with timestamps and the language, from any registered engine.

The transcribers register here (engines.register); each engine module is imported only when its
engine is first asked for, so listing them loads nothing.
"""
from __future__ import annotations

from ..config import Settings
from ..engines import Transcriber, engine, register


def _loaded_with(settings: Settings) -> tuple:
    """What in the settings makes a different transcriber (the rest is read at each call)."""
    config = settings.transcribe
    return (config.model, config.compute_type, config.align_model, config.device, config.workers, config.cpu_threads,
            str(settings.model_cache))


@register("transcribe", "faster-whisper", key=_loaded_with)
def _faster_whisper(settings: Settings) -> Transcriber:
    from .faster_whisper_engine import FasterWhisperTranscriber

    return FasterWhisperTranscriber(settings.transcribe, settings.model_cache)


@register("transcribe", "whisperx", key=_loaded_with)
def _whisperx(settings: Settings) -> Transcriber:
    from .whisperx_engine import WhisperXTranscriber

    return WhisperXTranscriber(settings.transcribe)


def get_transcriber(settings: Settings) -> Transcriber:
    """The transcriber named in the settings, loaded once per process."""
    return engine("transcribe", settings.transcribe.engine, settings)
