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
    JSON line out, and its first line says it is ready. It starts loading at once; the first request (or
    `ready`) waits for it, so a caller can start it early and do other work meanwhile. A reply
    {"error": ...} fails that request only. What it prints on stderr (progress bars, warnings) goes to a
    file, so it can never block the worker, and the end of it names the cause when the worker dies. It
    stops when this object goes, or after `idle_s` seconds without a request (its memory comes back)."""

    def __init__(self, name: str, command: Sequence[str | Path], idle_s: float | None = None) -> None:
        self.name, self.idle_s = name, idle_s
        self._log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        self._process = subprocess.Popen([str(part) for part in command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._log, text=True)
        weakref.finalize(self, _stop, self._process)
        self._lock = threading.Lock()  # one request at a time (the UI serves several people)
        self._ready: dict[str, Any] | None = None
        self._idle: threading.Timer | None = None

    @property
    def ready(self) -> dict[str, Any]:
        """The worker's first line (what it loaded), waiting for it if need be."""
        with self._lock:
            return self._wait_ready()

    @property
    def loaded(self) -> bool:
        """Whether it has said it is ready (so a failure now is not a failure to load)."""
        return self._ready is not None

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its reply; ToolError if the worker failed it or died."""
        with self._lock:
            if self._idle:
                self._idle.cancel()
            self._wait_ready()
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError):  # it died before; ValueError: its stdin was closed
                raise self._died() from None
            try:
                return self._reply()
            finally:
                self._stop_when_idle()

    def close(self) -> None:
        _stop(self._process)

    def _wait_ready(self) -> dict[str, Any]:
        if self._ready is None:
            self._ready = self._reply()
        return self._ready

    def _stop_when_idle(self) -> None:
        if self.idle_s is not None and self.alive:
            self._idle = threading.Timer(self.idle_s, self._stop_if_free)
            self._idle.daemon = True
            self._idle.start()

    def _stop_if_free(self) -> None:
        if self._lock.acquire(blocking=False):  # a request that came in meanwhile keeps it up
            try:
                self.close()
            finally:
                self._lock.release()

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
