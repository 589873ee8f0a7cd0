"""The inaudible watermark on delivered speech (resemble-perth, MIT, weights in its wheel).

Perth needs a different torch than dubdesk's, so it lives in its own environment (`.venv-mark`,
made by install.sh) and runs as a separate process (`worker.py`, one JSON request on stdin, one
JSON reply on stdout). Starting that process and loading the model takes seconds, so every call
here is a batch: one process for all the lines of a delivery, one for all the files of a package.
It marks presence only, no payload. Where that environment is missing, deliveries go out unmarked
(their manifest says so) and `verify` reports "not checked".
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..audio import media_argument
from ..config import Settings
from ..errors import DubdeskError
from ..tools import last_output, run

WORKER = Path(__file__).with_name("worker.py")


def default_mark_python() -> Path:
    return Path(sys.prefix).parent / ".venv-mark" / "bin" / "python"


class Watermarker:
    # Measured on 160 real recordings: clean speech scored up to 0.66, marked speech at least 0.94,
    # also after MP3 128k and AAC 96k. Perth's own rounding (0.5) gave false positives.
    threshold = 0.8

    def __init__(self, python: Path) -> None:
        self.python = python
        self.identity = {"tool": "resemble-perth", "version": "1.0.1", "model": "PerthNet implicit, weights in the wheel",
                         "licence": "MIT", "threshold": self.threshold, "payload": "none (presence only)"}

    @classmethod
    def find(cls, settings: Settings) -> Watermarker | None:
        """The watermarker, if its environment is installed."""
        python = settings.export.watermark_python or default_mark_python()
        return cls(python) if python.exists() else None

    def _ask(self, task: str, items: list[dict]) -> list[dict]:
        """One worker process for the whole batch; a failed item fails the call, naming it."""
        request = {"task": task, "items": items, "threshold": self.threshold}
        done = run([self.python, WORKER], input=json.dumps(request), check=False)
        try:
            reply = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            reply = {"error": last_output(done.stderr, "no reply")}
        if done.returncode != 0 or "error" in reply:
            raise DubdeskError(f"watermark {task} failed: {reply.get('error')}")
        failed = [result["error"] for result in reply["items"] if "error" in result]
        if failed:
            raise DubdeskError(f"watermark {task} failed on {len(failed)} of {len(items)} item(s): {failed[0]}")
        return reply["items"]

    def embed_files(self, paths: list[Path], folder: Path) -> list[Path]:
        """Each WAV with the mark in every channel, written into `folder` (same rate, channels and subtype);
        the worker reads and writes them a chunk at a time, so a programme's length costs no memory."""
        targets = [folder / f"{index} marked.wav" for index in range(len(paths))]
        if paths:
            folder.mkdir(parents=True, exist_ok=True)
            self._ask("embed", [{"input": media_argument(path), "output": media_argument(target)}
                                for path, target in zip(paths, targets, strict=True)])
        return targets

    def detect_many(self, paths: list[Path]) -> list[float]:
        """For each file (audio, or video: every audio track), how sure the detector is that it carries
        the mark, 0-1; `threshold` and above counts as marked."""
        if not paths:
            return []
        return [float(result["score"]) for result in self._ask("detect", [{"input": media_argument(path)} for path in paths])]
