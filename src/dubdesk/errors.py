"""Errors a user can act on. Each names the thing at fault and why."""
from __future__ import annotations

from pathlib import Path


class DubdeskError(Exception):
    """Base of every error dubdesk reports to a person (CLI, UI) in one line."""


class BadInputError(DubdeskError):
    """A source file that cannot be used: names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelMissingError(DubdeskError):
    """A model that is not installed: names it and every place looked in."""

    def __init__(self, model: str, looked_in: list[str], hint: str = "") -> None:
        self.model = model
        self.looked_in = looked_in
        places = "; ".join(looked_in) or "(nowhere configured)"
        message = f"model '{model}' is not installed; looked in: {places}"
        super().__init__(f"{message}. {hint}" if hint else message)


class EngineUnavailableError(DubdeskError):
    """An engine whose Python package is not installed (an optional extra), or whose own environment
    is missing (`remedy` says how to make it)."""

    def __init__(self, engine: str, extra: str, cause: Exception | str, remedy: str = "") -> None:
        needs = remedy or f"the optional extra '{extra}' (pip install 'dubdesk[{extra}]')"
        super().__init__(f"engine '{engine}' needs {needs}: {cause}")


class ProjectError(DubdeskError):
    """A project that does not exist or is in a state that forbids the action."""


class ScriptEditError(ProjectError):
    """A person's edit of the script that cannot be made (or no longer applies): names the line and what to do."""


class TamperedError(DubdeskError):
    """A signed record, row or file does not verify: it was changed outside dubdesk."""


def listed(ids: list[str], most: int = 8) -> str:
    """Line ids for a message: the first `most`, then how many more."""
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")
