"""Staging folders that name their owner, so the leftovers of a killed run are found and removed.

Ingest and delivery build their results in a hidden folder beside the destination and move it into
place whole; a run killed half-way leaves that folder behind (a copy of a whole programme, or half a
package). Each is made by `staging_folder`, which writes a marker beside it (`<folder>.owner`: the
owner's pid and its start time, so a pid the system has since given to another process does not
count). `remove_orphans`, run before a new one is made, removes the folders whose owner has gone,
never one whose owner is still running. A folder with no marker (made before markers, or in the
instant before its marker) is left alone until it is an hour old.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

MARKER_SUFFIX = ".owner"
UNMARKED_GRACE_S = 3600.0


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None where it has gone or
    is a zombie (killed, not yet reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def _owner_stamp(pid: int) -> str:
    return f"{pid} {_start_time(pid) or '-'}"


def owner_alive(stamp: str) -> bool:
    """Whether the process a marker names is still running (the same process, not a reused pid)."""
    pid, _, started = stamp.strip().partition(" ")
    if not pid.isdigit():
        return False
    if Path("/proc").is_dir():
        now = _start_time(int(pid))
        return now is not None and started in (now, "-")
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _marker(folder: Path) -> Path:
    return folder.with_name(folder.name + MARKER_SUFFIX)


def staging_folder(parent: Path, prefix: str) -> Path:
    """A new hidden folder in `parent` (`prefix` + random), marked as this process's."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    _marker(folder).write_text(_owner_stamp(os.getpid()))
    return folder


def release(folder: Path) -> None:
    """The staging folder (if it is still there) and its marker removed."""
    shutil.rmtree(folder, ignore_errors=True)
    _marker(folder).unlink(missing_ok=True)


def _orphaned(folder: Path) -> bool:
    try:
        return not owner_alive(_marker(folder).read_text())
    except FileNotFoundError:
        pass
    try:
        return time.time() - folder.stat().st_mtime > UNMARKED_GRACE_S
    except FileNotFoundError:  # its owner has just moved it into place
        return False


def remove_orphans(parent: Path, prefixes: tuple[str, ...]) -> list[Path]:
    """Remove the staging folders in `parent` (names starting with one of `prefixes`) whose owner has
    gone, and markers left without a folder; returns the folders removed."""
    removed = []
    for path in sorted(parent.glob(".*")) if parent.is_dir() else []:
        if not path.name.startswith(prefixes):
            continue
        if path.is_dir() and _orphaned(path):
            release(path)
            removed.append(path)
        elif path.name.endswith(MARKER_SUFFIX) and not path.with_name(path.name.removesuffix(MARKER_SUFFIX)).exists():
            path.unlink(missing_ok=True)
    return removed
