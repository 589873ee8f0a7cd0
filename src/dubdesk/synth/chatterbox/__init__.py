"""Production voice cloning a studio may use commercially: Chatterbox multilingual (Resemble AI, MIT).

Chatterbox pins a torch, transformers and gradio of its own, so it lives in its own environment
(`.venv-clone`, made by install.sh, held to `constraints.txt` here) and speaks in a separate process
(`worker.py`) that stays up, so its model loads once per dubdesk process. The model comes from a
local folder (`synth.chatterbox_model`); nothing is ever fetched from a hub. Like every engine it
speaks only behind `require_grant`, checked here at the moment of speaking, and the worker is handed
only the voice's references, the recordings that grant covers.

Chatterbox has no speed control: `speed` is accepted and left to fit's time-stretch (`paced` is
False, so the synth stage never asks it to speak a line again at another pace).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import soundfile as sf

from ...core import ConsentGrant, Voice
from ...engines import EngineIdentity, Speech
from ...errors import DubdeskError, EngineUnavailableError, ModelMissingError
from ...tools import WorkerProcess
from ...voices.consent import require_grant

WORKER = Path(__file__).with_name("worker.py")
CHATTERBOX_LICENCE = ("MIT (Resemble AI: chatterbox-tts and the Chatterbox multilingual weights, per its model card); "
                      "its output carries Resemble's PerTh watermark")
# What Chatterbox multilingual speaks (chatterbox.mtl_tts.SUPPORTED_LANGUAGES).
LANGUAGES = ("ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja", "ko", "ms", "nl", "no", "pl", "pt",
             "ru", "sv", "sw", "tr", "zh")
# No line may run longer than this (Chatterbox's own limit is 40 s for any line): speech typically
# takes 0.06-0.1 s per written character, kana and kanji more; 0.3 s leaves room for a slow read.
MAX_S_BASE, MAX_S_PER_CHARACTER = 2.0, 0.3


def default_clone_python() -> Path:
    """The clone environment beside dubdesk's own (.venv-clone next to .venv)."""
    return Path(sys.prefix).parent / ".venv-clone" / "bin" / "python"


def line_limit_s(text: str) -> float:
    """The longest the engine may speak `text` for."""
    return min(MAX_S_BASE + MAX_S_PER_CHARACTER * len(text), 40.0)


class ChatterboxEngine:
    """Chatterbox multilingual from a local folder, conditioned on the profile's consented references."""

    name = "chatterbox"
    paced = False
    FILES = ("ve.pt", "t3_mtl23ls_v2.safetensors", "s3gen.pt", "grapheme_mtl_merged_expanded_v1.json")

    def __init__(self, folder: str | None, python: Path) -> None:
        location = _model_folder(folder, self.FILES)
        if not python.exists():
            raise EngineUnavailableError("chatterbox", "clone", f"no Python at {python}",
                                         remedy="its own environment .venv-clone: run ./install.sh, or set "
                                                "DUBDESK_SYNTH__CHATTERBOX_PYTHON to that environment's Python")
        self.worker = WorkerProcess("Chatterbox", [python, WORKER, location])
        self.identity = EngineIdentity("chatterbox-tts", "Chatterbox multilingual (t3_mtl23ls_v2)",
                                       CHATTERBOX_LICENCE, self.worker.ready["chatterbox"])

    def speak(self, text: str, voice: Voice, language: str, grant: ConsentGrant, profile_id: str,
              speed: float = 1.0) -> Speech:
        require_grant(grant, profile_id, language, self.name, voice)  # covers exactly these references
        if language not in LANGUAGES:
            raise DubdeskError(f"Chatterbox does not speak '{language}'; it speaks {', '.join(LANGUAGES)}")
        with tempfile.TemporaryDirectory(prefix="dubdesk-chatterbox-") as folder:
            target = Path(folder) / "line.wav"
            self.worker.ask({"text": text, "language": language, "references": [str(path) for path in voice.references],
                             "output": str(target), "max_s": line_limit_s(text)})
            return Speech(*sf.read(target, dtype="float32"))


def _model_folder(folder: str | None, files: tuple[str, ...]) -> Path:
    """The configured model folder; ModelMissingError naming every file it lacks, or the unset setting."""
    hint = "set synth.chatterbox_model to a local folder holding " + ", ".join(files)
    if not folder:
        raise ModelMissingError("Chatterbox multilingual", ["setting synth.chatterbox_model (unset)"], hint=hint)
    location = Path(folder).expanduser()
    missing = [str(location / name) for name in files if not (location / name).exists()]
    if missing:
        raise ModelMissingError("Chatterbox multilingual", missing, hint=hint)
    return location
