"""Transcription: words with timestamps and the language, from any registered engine."""
from __future__ import annotations

from ..config import Settings
from ..engines import Transcriber, load_engine


def get_transcriber(settings: Settings) -> Transcriber:
    """The transcriber named in the settings, loaded once per process."""
    config = settings.transcribe
    key = (config.engine, config.model, config.compute_type, config.align_model, config.device, str(settings.model_cache))
    if config.engine == "whisperx":
        from .whisperx_engine import WhisperXTranscriber

        return load_engine("transcribe", key, lambda: WhisperXTranscriber(config))
    from .faster_whisper_engine import FasterWhisperTranscriber

    return load_engine("transcribe", key, lambda: FasterWhisperTranscriber(config, settings.model_cache))
