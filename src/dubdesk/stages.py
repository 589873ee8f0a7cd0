"""Cached, resumable stage runs.

A stage's result is keyed by a hash of everything that determines it (input
hashes, settings, engine). A finished result with the same key is reused at no
cost; a run killed midway left only a 'running' row and no output file, so the
next call simply runs it again. Output files appear by atomic rename.
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .engines import EngineIdentity
from .files import sha256_file, write_text
from .store.models import Project, StageRun, utcnow


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def stage_key(stage: str, inputs: dict[str, Any]) -> str:
    canonical = json.dumps({"stage": stage, **inputs}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class StageResult:
    path: Path
    sha256: str
    engine: EngineIdentity | None

    def load(self) -> Any:
        """The stored result, parsed once per process for each content hash (stored results never change
        in place: the hash is checked before a result is reused). Shared: read it, never modify it."""
        return _parsed(str(self.path), self.sha256)


@functools.lru_cache(maxsize=64)
def _parsed(path: str, sha256: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _is_intact(run: StageRun, folder: Path) -> bool:
    """A finished run whose output file is still there, unaltered."""
    output = folder / run.output if run.output else None
    return run.status == "done" and output is not None and output.exists() and sha256_file(output) == run.output_sha256


def _start(sessions: sessionmaker[Session], project: Project, folder: Path, stage: str, key: str,
           inputs: dict[str, Any]) -> StageResult | int:
    """The stored result where there is one, else the id of the run row marked running. Two processes may
    start the same stage at once (a batch's two languages of one programme both need its speaker habits):
    the one whose new row came second takes the row the first made, and both compute."""
    try:
        return _claim(sessions, project, folder, stage, key, inputs)
    except IntegrityError:
        return _claim(sessions, project, folder, stage, key, inputs)


def _claim(sessions: sessionmaker[Session], project: Project, folder: Path, stage: str, key: str,
           inputs: dict[str, Any]) -> StageResult | int:
    with sessions() as session:
        run = session.scalar(select(StageRun).where(
            StageRun.project_id == project.id, StageRun.stage == stage, StageRun.key == key))
        if run is not None and _is_intact(run, folder):
            engine = EngineIdentity(**run.engine) if run.engine else None
            return StageResult(folder / run.output, run.output_sha256, engine)
        if run is None:
            run = StageRun(project_id=project.id, stage=stage, key=key, status="running", inputs=inputs)
            session.add(run)
        run.status, run.started_at, run.error = "running", utcnow(), None
        session.commit()
        return run.id


def run_stage(
    sessions: sessionmaker[Session], project: Project, folder: Path, stage: str, inputs: dict[str, Any],
    compute: Callable[[], tuple[Any, EngineIdentity | None]],
) -> StageResult:
    """Return the stage's stored JSON result for `inputs`, computing it only if absent.

    `compute` returns (a JSON-serialisable result, the identity of the engine that made it).
    """
    key = stage_key(stage, inputs)
    relative = f"stages/{stage}-{key[:16]}.json"
    started = _start(sessions, project, folder, stage, key, inputs)
    if isinstance(started, StageResult):
        return started
    run_id = started

    began = time.perf_counter()
    try:
        result, identity = compute()
    except Exception as error:
        with sessions() as session:
            failed = session.get(StageRun, run_id)
            failed.status, failed.error, failed.finished_at = "failed", str(error)[:2000], utcnow()
            session.commit()
        raise
    path = write_text(folder / relative, json.dumps(result, ensure_ascii=False, indent=1))
    digest = sha256_file(path)
    with sessions() as session:
        done = session.get(StageRun, run_id)
        done.status, done.output, done.output_sha256 = "done", relative, digest
        done.engine = identity.to_json() if identity else None
        done.seconds, done.finished_at = round(time.perf_counter() - began, 3), utcnow()
        session.commit()
    return StageResult(path, digest, identity)
