"""The deliveries shelf: packages delivered from the browser sit in one folder of the data folder,
known by name. A name that comes from outside (the browser) is taken only if it is one on the
shelf, so it can never point anywhere else."""
from __future__ import annotations

from pathlib import Path

from .config import Settings
from .errors import DubdeskError


def shelf(settings: Settings) -> Path:
    return settings.home / "deliveries"


def package_names(settings: Settings) -> list[str]:
    """The packages on the shelf (not the hidden folders of a delivery being built)."""
    folder = shelf(settings)
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.exists() else []


def package(settings: Settings, name: str | None) -> Path:
    """A package by its name on the shelf; DubdeskError for any other name."""
    if name not in package_names(settings):
        raise DubdeskError("choose a delivery from the list (Refresh shows the newest)")
    return shelf(settings) / name
