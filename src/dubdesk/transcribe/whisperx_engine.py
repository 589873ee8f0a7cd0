"""Production transcriber: whisperx (a larger faster-whisper model + wav2vec2 alignment).

Both models load from local folders given in the settings (transcribe.model and
transcribe.align_model); whisperx lives in the optional extra 'production'.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import TranscribeSettings
from ..core import Transcript, Word
from ..engines import EngineIdentity
from ..errors import EngineUnavailableError, ModelMissingError


def _require_folder(what: str, value: str | None, marker: str, setting: str) -> Path:
    folder = Path(value).expanduser() if value else None
    if folder is None or not (folder / marker).exists():
        raise ModelMissingError(what, [str(folder / marker) if folder else f"setting {setting} (unset)"],
                                hint=f"set {setting} to a local folder holding {marker}")
    return folder


class WhisperXTranscriber:
    def __init__(self, settings: TranscribeSettings) -> None:
        model_dir = _require_folder("whisperx ASR model (CTranslate2)", settings.model, "model.bin", "transcribe.model")
        align_dir = _require_folder("whisperx alignment model (wav2vec2)", settings.align_model, "config.json",
                                    "transcribe.align_model")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import whisperx
        except ImportError as error:
            raise EngineUnavailableError("whisperx", "production", error) from error
        self._whisperx = whisperx
        self.settings = settings
        self.align_dir = align_dir
        self.model = whisperx.load_model(str(model_dir), settings.device, compute_type=settings.compute_type,
                                         language=settings.language, local_files_only=True)
        self.at_once = 1
        self.identity = EngineIdentity("whisperx", model_dir.name, "see the model's licence (Whisper: MIT)",
                                       getattr(whisperx, "__version__", "unknown"))

    def transcribe(self, audio: np.ndarray, language: str | None) -> Transcript:
        result = self.model.transcribe(audio, language=language)
        detected = result.get("language") or language or "en"
        align_model, metadata = self._whisperx.load_align_model(
            language_code=detected, device=self.settings.device, model_name=str(self.align_dir))
        aligned = self._whisperx.align(result["segments"], align_model, metadata, audio, self.settings.device)
        words = tuple(
            Word(w["word"].strip(), round(w["start"], 3), round(w["end"], 3), round(w.get("score", 1.0), 4))
            for segment in aligned["segments"] for w in segment.get("words", []) if "start" in w and w["word"].strip()
        )
        return Transcript(detected, 1.0, words)
