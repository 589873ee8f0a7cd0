"""The context every service takes: one data folder opened with one set of settings.

It holds only what every stage shares: the settings, the database sessions, the consent registry
(and the key takes are sealed with), the title clearances signed with the same key, where each
project's files live and the stage cache. A stage gets everything else as explicit inputs, so it
can run on its own (a batch worker, a test).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import Settings
from .rights.registry import ClearanceRegistry
from .seal import Seal
from .stages import StageResult, run_stage
from .store import Project, open_database
from .voices.registry import ConsentRegistry
from .voices.stock import register_stock_voices

Progress = Callable[..., None]  # progress(stage, done=None, total=None)
SYSTEM = "dubdesk"  # the actor audited for work nobody in particular asked for (tests, benchmarks)


def no_progress(stage: str, done: int | None = None, total: int | None = None) -> None:
    """The default progress callback: report nothing."""


class Context:
    """A data folder (database, projects, keys) opened with one set of settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions = open_database(settings.database)
        self._registry: ConsentRegistry | None = None
        self._clearances: ClearanceRegistry | None = None

    @property
    def registry(self) -> ConsentRegistry:
        """The consent registry, with the stock voices registered on first use."""
        if self._registry is None:
            seal = Seal(self.settings.home / "keys", self.sessions, self.settings.key_fingerprint)
            self._registry = ConsentRegistry(self.settings.home, self.sessions, seal)
            register_stock_voices(self._registry)
        return self._registry

    @property
    def clearances(self) -> ClearanceRegistry:
        """The rights holders' clearances of this workbench's titles, signed with the registry's key."""
        if self._clearances is None:
            self._clearances = ClearanceRegistry(self.settings.home, self.sessions, self.seal)
        return self._clearances

    @property
    def seal(self) -> Seal:
        """The key takes are sealed with (the registry's)."""
        return self.registry.seal

    def folder(self, project: Project) -> Path:
        """Where the project's files live (source, stage results, clips)."""
        return self.settings.projects_dir / project.folder

    def stored_path(self, path: Path) -> str:
        """`path` as the database keeps it: relative to the data folder where it lies inside it, so that
        folder may be mounted anywhere (shared storage, several machines); a place outside it, absolute."""
        path, home = Path(path).resolve(), self.settings.home.resolve()
        return path.relative_to(home).as_posix() if path.is_relative_to(home) else str(path)

    def run_stage(self, project: Project, stage: str, inputs: dict[str, Any], compute) -> StageResult:
        """`compute()` once per distinct `inputs`; later calls reuse the stored result (see stages.py)."""
        return run_stage(self.sessions, project, self.folder(project), stage, inputs, compute)
