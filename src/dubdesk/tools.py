"""External programs: found by name, run as separate processes, one error when they fail.

Debian programs (ffmpeg, Rubber Band, Pico, Apertium, espeak-ng) and dubdesk's own worker processes
(Praat, Piper, MediaPipe, the watermark: GPL code or another environment, kept out of this process)
all go through `run`; a worker that keeps a large model loaded between requests (Chatterbox) is a
`WorkerProcess`. A program that is not installed names the Debian package to install; one that
fails names itself and the last of what it printed. The ground floor: every module may import it.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DubdeskError

DEBIAN_PACKAGES = {"ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "rubberband": "rubberband-cli", "pico2wave": "libttspico-utils",
                   "apertium": "apertium", "espeak-ng": "espeak-ng"}


class ToolError(DubdeskError):
    """An external program is missing or failed; the message names it and what it said."""


def program(name: str) -> str:
    """The installed program's path; ToolError naming its Debian package when it is not installed."""
    found = shutil.which(name)
    if not found:
        package = DEBIAN_PACKAGES.get(name, name)
        raise ToolError(f"'{name}' is not installed (Debian package {package}); run the install command in README.md")
    return found


def last_output(text: str, fallback: str = "no output", most: int = 300) -> str:
    """The end of what a program printed: where its error is."""
    return text.strip()[-most:] or fallback


def run(command: Sequence[str | Path], input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run `command` (its first item a program name, found on PATH, or a path), text output captured.
    With `check`, a non-zero exit is a ToolError naming the program and the last of its error output."""
    first = str(command[0])
    executable = first if "/" in first else program(first)
    done = subprocess.run([executable, *map(str, command[1:])], input=input, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise ToolError(f"{Path(first).name} failed (exit {done.returncode}): {last_output(done.stderr or done.stdout)}")
    return done


class WorkerProcess:
    """A worker program that stays up between requests, so its model loads once: one JSON line in, one
    JSON line out, and its first line says it is ready. A reply {"error": ...} fails that request only.
    What it prints on stderr (progress bars, warnings) goes to a file, so it can never block the
    worker, and the end of it names the cause when the worker dies. It stops when this object goes."""

    def __init__(self, name: str, command: Sequence[str | Path]) -> None:
        self.name = name
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        self._process = subprocess.Popen([str(part) for part in command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._log, text=True)
        weakref.finalize(self, _stop, self._process)
        self._lock = threading.Lock()  # one request at a time (the UI serves several people)
        self.ready = self._reply()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its reply; ToolError if the worker failed it or died."""
        with self._lock:
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError):  # it died before; ValueError: its stdin was closed
                raise self._died() from None
            return self._reply()

    def close(self) -> None:
        _stop(self._process)

    def _reply(self) -> dict[str, Any]:
        line = self._process.stdout.readline()
        if not line:
            raise self._died()
        reply = json.loads(line)
        if "error" in reply:
            raise ToolError(f"{self.name} failed: {reply['error']}")
        return reply

    def _died(self) -> ToolError:
        _stop(self._process)
        self._log.seek(0)
        return ToolError(f"{self.name} stopped (exit {self._process.returncode}): {last_output(self._log.read())}")


def _stop(process: subprocess.Popen) -> None:
    """End of input lets a worker finish and exit; one that does not within seconds is killed."""
    if process.poll() is None:
        try:
            process.stdin.close()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
