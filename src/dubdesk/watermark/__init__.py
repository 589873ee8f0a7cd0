"""The inaudible watermark on delivered audio (resemble-perth, MIT, weights in its wheel).

Perth needs a different torch than dubdesk's, so it lives in its own environment (`.venv-mark`,
made by install.sh) and runs as a separate process (`worker.py`, one JSON request on stdin, one
JSON reply on stdout). It marks presence only, no payload. Where that environment is missing,
deliveries go out unmarked (their manifest says so) and `verify` reports "not checked".
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import Settings
from ..errors import DubdeskError

WORKER = Path(__file__).with_name("worker.py")
WATERMARK_LICENCE = "MIT (resemble-perth 1.0.1, PerthNet implicit model in the wheel)"


def default_mark_python() -> Path:
    return Path(sys.prefix).parent / ".venv-mark" / "bin" / "python"


class Watermarker:
    threshold = 0.5

    def __init__(self, python: Path) -> None:
        self.python = python
        self.identity = {"tool": "resemble-perth", "version": "1.0.1", "licence": WATERMARK_LICENCE}

    @classmethod
    def find(cls, settings: Settings) -> Watermarker | None:
        """The watermarker, if its environment is installed."""
        python = settings.export.watermark_python or default_mark_python()
        return cls(python) if python.exists() else None

    def _ask(self, request: dict) -> dict:
        done = subprocess.run([str(self.python), str(WORKER)], input=json.dumps(request), capture_output=True, text=True)
        try:
            reply = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            reply = {"error": (done.stderr.strip().splitlines() or ["no reply"])[-1]}
        if done.returncode != 0 or "error" in reply:
            raise DubdeskError(f"watermark {request['task']} failed: {reply.get('error')}")
        return reply

    def embed(self, audio: np.ndarray, rate: int) -> np.ndarray:
        """The audio with the mark in it (every channel), same rate and shape."""
        with tempfile.TemporaryDirectory(prefix="dubdesk-mark-") as folder:
            source, marked = Path(folder) / "in.wav", Path(folder) / "out.wav"
            sf.write(source, audio, rate, subtype="FLOAT")
            self._ask({"task": "embed", "input": str(source), "output": str(marked)})
            return sf.read(marked, dtype="float64")[0]

    def detect(self, path: Path) -> float:
        """How sure the detector is that `path` (any audio or video file) carries the mark, 0-1."""
        return float(self._ask({"task": "detect", "input": str(path)})["score"])
