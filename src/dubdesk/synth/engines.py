"""Speech engines. Each one refuses to speak without a valid consent grant for that voice."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from ..engines import EngineIdentity, load_engine
from ..errors import DubdeskError, ModelMissingError
from ..voices.consent import ConsentGrant, require_grant


class VoiceEngine(Protocol):
    identity: EngineIdentity

    def speak(self, text: str, voice: str, language: str, grant: ConsentGrant, profile_id: str) -> tuple[np.ndarray, int]:
        """Float32 mono audio and its sample rate; raises ConsentError without a valid grant."""
        ...


class PicoEngine:
    """SVOX Pico (Debian libttspico-utils), run as a separate program."""

    VOICES = ("en-US", "en-GB", "de-DE", "es-ES", "fr-FR", "it-IT")

    def __init__(self) -> None:
        self.program = shutil.which("pico2wave")
        if not self.program:
            raise ModelMissingError("SVOX Pico (pico2wave)", ["PATH"],
                                    hint="install the Debian package libttspico-utils (non-free): see install.sh")
        self.identity = EngineIdentity("svox-pico", "pico2wave", "Apache-2.0 (SVOX Pico)", "1.0")

    def speak(self, text: str, voice: str, language: str, grant: ConsentGrant, profile_id: str) -> tuple[np.ndarray, int]:
        require_grant(grant, profile_id, language)
        if voice not in self.VOICES:
            raise DubdeskError(f"Pico has no voice '{voice}'; it has {', '.join(self.VOICES)}")
        with tempfile.TemporaryDirectory(prefix="dubdesk-pico-") as folder:
            target = Path(folder) / "line.wav"
            result = subprocess.run([self.program, "-l", voice, "-w", str(target), "--", text],
                                    capture_output=True, text=True)
            if result.returncode != 0 or not target.exists():
                raise DubdeskError(f"Pico failed: {result.stderr.strip() or 'no output'}")
            audio, rate = sf.read(target, dtype="float32")
        return audio, rate


ENGINES = {"pico": PicoEngine}


def voice_engine(name: str) -> VoiceEngine:
    if name not in ENGINES:
        raise DubdeskError(f"no speech engine '{name}'; known: {', '.join(ENGINES)}")
    return load_engine("speak", (name,), ENGINES[name])
