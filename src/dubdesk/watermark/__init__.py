"""The inaudible watermark on delivered speech (resemble-perth, MIT, weights in its wheel).

Perth needs a different torch than dubdesk's, so it lives in its own environment (`.venv-mark`,
made by install.sh) and runs as a separate process (`worker.py`). Starting that process and loading the
model takes seconds, so the process is kept (one per dubdesk process, stopped after IDLE_S without
work), every call is a batch (all the lines of a delivery, all the files of a package), and a delivery
starts it before mixing so the load overlaps the mix. It marks presence only, no payload. Where that
environment is missing, deliveries go out unmarked (their manifest says so) and `verify` reports "not
checked".
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from ..audio import media_argument
from ..config import Settings
from ..engines import load_engine
from ..errors import DubdeskError
from ..tools import ToolError, WorkerProcess
from .worker import MIN_DETECT_S

WORKER = Path(__file__).with_name("worker.py")
IDLE_S = 120.0  # a kept worker idles at about 340 MB; a delivery's verify usually follows within this


def default_mark_python() -> Path:
    return Path(sys.prefix).parent / ".venv-mark" / "bin" / "python"


class Watermarker:
    # Measured on 160 real recordings: clean speech scored up to 0.66, marked speech at least 0.94,
    # also after MP3 128k and AAC 96k. Perth's own rounding (0.5) gave false positives.
    threshold = 0.8

    def __init__(self, python: Path) -> None:
        self.python = python
        self.identity = {"tool": "resemble-perth", "version": "1.0.1", "model": "PerthNet implicit, weights in the wheel",
                         "licence": "MIT", "threshold": self.threshold, "payload": "none (presence only)",
                         "shortest_judged_s": MIN_DETECT_S}
        self._kept: WorkerProcess | None = None
        self._kept_free = threading.Lock()  # held while a request uses the kept worker

    @classmethod
    def find(cls, settings: Settings) -> Watermarker | None:
        """The watermarker (one per process), if its environment is installed."""
        python = settings.export.watermark_python or default_mark_python()
        return load_engine("watermark", (str(python),), lambda: cls(python)) if python.exists() else None

    def start(self) -> None:
        """Have the kept worker up or loading, so a request soon after does not wait for the load (where
        another request has it, this one will have a worker of its own: nothing to wait for)."""
        if self._kept_free.acquire(blocking=False):
            try:
                self._kept_worker()
            finally:
                self._kept_free.release()

    def _kept_worker(self) -> WorkerProcess:
        if self._kept is None or not self._kept.alive:
            self._kept = self._new_worker(IDLE_S)
        return self._kept

    def _new_worker(self, idle_s: float | None) -> WorkerProcess:
        return WorkerProcess("watermark worker", [self.python, WORKER], idle_s=idle_s)

    def _ask_kept(self, request: dict) -> dict:
        worker = self._kept_worker()
        served_before = worker.loaded
        try:
            return worker.ask(request)
        except ToolError:
            if worker.alive or not served_before:
                raise
            return self._kept_worker().ask(request)  # it died between batches (killed, out of memory): a fresh one

    def _ask(self, task: str, items: list[dict]) -> list[dict]:
        """The batch done by the kept worker, or, while another request has it, by a worker of its own
        (two deliveries at once do not wait for each other); a failed item fails the call, naming it."""
        request = {"task": task, "items": items, "threshold": self.threshold}
        try:
            if self._kept_free.acquire(blocking=False):
                try:
                    reply = self._ask_kept(request)
                finally:
                    self._kept_free.release()
            else:
                worker = self._new_worker(None)
                try:
                    reply = worker.ask(request)
                finally:
                    worker.close()
        except ToolError as error:
            raise DubdeskError(f"watermark {task} failed: {error}") from None
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

    def detect_many(self, paths: list[Path]) -> list[float | None]:
        """For each file (audio, or video: every audio track), how sure the detector is that it carries
        the mark, 0-1; `threshold` and above counts as marked. None for a file too short to judge (under
        MIN_DETECT_S: the detector is not reliable either way there)."""
        if not paths:
            return []
        return [None if result["score"] is None else float(result["score"])
                for result in self._ask("detect", [{"input": media_argument(path)} for path in paths])]
