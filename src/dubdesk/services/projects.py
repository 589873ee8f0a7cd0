"""Projects: a source programme ingested into its own folder, its media facts, its series,
character names and glossary."""
from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import select

from ..context import SYSTEM, Context
from ..errors import ProjectError
from ..files import sha256_file
from ..ingest import MediaInfo, ingest, load_working_audio
from ..store import Project
from ..store.audit import audit

SOURCE_FOLDER = "source"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "project"


def create_project(ctx: Context, source: Path, name: str | None = None, target_languages: tuple[str, ...] = (),
                   commercial: bool = False, by: str = SYSTEM) -> Project:
    """Ingest `source` into a new project, audited in `by`'s name; on any error nothing is left behind."""
    source = Path(source)
    folder_name = f"{_slug(name or source.stem)}-{uuid.uuid4().hex[:8]}"
    folder = ctx.settings.projects_dir / folder_name
    try:
        media = ingest(source, folder / SOURCE_FOLDER, ctx.settings.ingest, ctx.settings.projects_dir)
        with ctx.sessions() as session:
            project = Project(name=name or source.stem, folder=folder_name, source_name=source.name,
                              source_sha256=media.sha256, media=media.to_json(),
                              target_languages=list(target_languages), commercial=commercial)
            session.add(project)
            session.flush()
            audit(session, by, "project created", project.id, source=source.name, name=project.name,
                  target_languages=list(target_languages), commercial=commercial)
            session.commit()
            return project
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def project(ctx: Context, project_id: int) -> Project:
    with ctx.sessions() as session:
        found = session.get(Project, project_id)
    if found is None:
        raise ProjectError(f"no project with id {project_id}")
    return found


def projects(ctx: Context) -> list[Project]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Project).order_by(Project.id)))


def project_for_source(ctx: Context, source: Path) -> Project:
    """The newest project made from a file with these exact bytes, or a new one."""
    source = Path(source)
    digest = sha256_file(source) if source.is_file() else None
    with ctx.sessions() as session:
        existing = session.scalars(select(Project).where(Project.source_sha256 == digest)
                                   .order_by(Project.id.desc())).first()
    if existing is not None and (ctx.folder(existing) / SOURCE_FOLDER).is_dir():
        return existing
    return create_project(ctx, source)


def media(project: Project) -> MediaInfo:
    return MediaInfo(**project.media)


def source_audio(ctx: Context, project: Project, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    """The programme's 16 kHz mono working copy (or a stretch of it)."""
    return load_working_audio(ctx.folder(project) / SOURCE_FOLDER, start_s, end_s)


def original(ctx: Context, project: Project) -> Path:
    """The source file as it was received."""
    return next((ctx.folder(project) / SOURCE_FOLDER).glob("original.*"))


def describe_project(ctx: Context, project: Project, series: str | None = None,
                     characters: dict[str, str] | None = None, glossary: dict[str, dict[str, str]] | None = None,
                     by: str = SYSTEM) -> Project:
    """Set the series, character names (speaker -> name) and glossary entries (merged in)."""
    with ctx.sessions() as session:
        row = session.get(Project, project.id)
        if series is not None:
            row.series = series
        if characters:
            row.characters = {**(row.characters or {}), **characters}
        if glossary:
            merged = {term: dict(targets) for term, targets in (row.glossary or {}).items()}
            for term, targets in glossary.items():
                merged.setdefault(term, {}).update(targets)
            row.glossary = merged
        audit(session, by, "project described", project.id, series=series, characters=characters, glossary=glossary)
        session.commit()
        return row


AI_USES = ("translation", "voices")


def state_purpose(ctx: Context, project: Project, text: str, ai_did: tuple[str, ...], by: str = SYSTEM) -> Project:
    """Say why AI is used in this project and what it does (translation, voices): a delivery discloses both."""
    did = tuple(sorted({use.strip().lower() for use in ai_did if use.strip()}))
    if not text.strip() or not did or not set(did) <= set(AI_USES):
        raise ProjectError(f"project '{project.name}': state a purpose (why AI is used) and what AI does, one or more "
                           f"of {', '.join(AI_USES)}")
    with ctx.sessions() as session:
        row = session.get(Project, project.id)
        row.purpose, row.ai_uses = text.strip(), list(did)
        audit(session, by, "purpose stated", project.id, purpose=row.purpose, ai_uses=row.ai_uses)
        session.commit()
        return row
