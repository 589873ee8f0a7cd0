"""External programs: found by name, run as separate processes, one error when they fail.

Debian programs (ffmpeg, Rubber Band, Pico, Apertium, espeak-ng) and dubdesk's own worker processes
(Praat, Piper, MediaPipe, the watermark: GPL code or another environment, kept out of this process)
all go through `run`. A program that is not installed names the Debian package to install; one that
fails names itself and the last of what it printed. The ground floor: every module may import it.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

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
