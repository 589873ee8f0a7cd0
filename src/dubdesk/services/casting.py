"""Casting: which consented voice speaks each source speaker, per target language.

Only voices whose consent covers the language, the title and the use today are offered or
accepted. In a series, a character keeps one voice per language across episodes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import SYSTEM, Context
from ..errors import DubdeskError
from ..store.audit import audit
from ..store.models import Casting, Project
from ..voices.consent import check_consent
from ..voices.records import ProfileRecord
from ..voices.registry import ConsentError
from .scripting import script as script_of


def eligible_voices(ctx: Context, project: Project, language: str, use: str = "dubbing") -> list[ProfileRecord]:
    """The profiles that may speak this project's lines in `language` today."""
    offered = []
    for profile_id in ctx.registry.profile_ids():
        try:
            record = check_consent(ctx.registry, profile_id, language, project.name, use)
        except ConsentError:
            continue
        offered.append(record)
    return offered


def series_voice(session: Session, project: Project, character: str | None, language: str) -> Casting | None:
    """The casting another episode of the same series already gave this character."""
    if not project.series or not character:
        return None
    return session.scalars(select(Casting).where(
        Casting.series == project.series, Casting.character == character, Casting.language == language,
        Casting.project_id != project.id).order_by(Casting.id)).first()


def cast(ctx: Context, project: Project, speaker: str, language: str, profile_id: str, by: str = SYSTEM,
         use: str = "dubbing") -> Casting:
    """Cast `profile_id` as `speaker` in `language`, if its consent covers it and the series agrees."""
    check_consent(ctx.registry, profile_id, language, project.name, use)
    character = (project.characters or {}).get(speaker)
    with ctx.sessions() as session:
        earlier = series_voice(session, project, character, language)
        if earlier is not None and earlier.profile_id != profile_id:
            raise DubdeskError(f"series '{project.series}' keeps one voice per character: {character} is voiced by "
                               f"'{earlier.profile_id}' in {language} (project {earlier.project_id})")
        casting = session.scalars(select(Casting).where(
            Casting.project_id == project.id, Casting.speaker == speaker, Casting.language == language)).first()
        casting = casting or Casting(project_id=project.id, speaker=speaker, language=language)
        casting.profile_id, casting.series, casting.character = profile_id, project.series, character
        session.add(casting)
        audit(session, by, "cast", project.id, speaker=speaker, language=language, voice_profile=profile_id)
        session.commit()
        return casting


def castings(ctx: Context, project: Project, language: str) -> dict[str, str]:
    """speaker -> profile id for one language."""
    with ctx.sessions() as session:
        rows = session.scalars(select(Casting).where(Casting.project_id == project.id, Casting.language == language))
        return {row.speaker: row.profile_id for row in rows}


@dataclass(frozen=True)
class CastRow:
    """One speaker of the script as casting sees it: the character they play, the voice cast (or None)
    and, when that voice may no longer speak the title (say, its consent was revoked), why."""

    speaker: str
    character: str | None
    voice: str | None
    refused: str | None

    @property
    def needs_voice(self) -> bool:
        return self.voice is None or self.refused is not None


def cast_sheet(ctx: Context, project: Project, language: str, use: str = "dubbing") -> list[CastRow]:
    """Every speaker of the script with their character and voice in `language`, each voice's consent
    checked today, so a speaker whose voice was revoked shows as one to recast."""
    cast, characters = castings(ctx, project, language), project.characters or {}
    return [CastRow(speaker, characters.get(speaker), cast.get(speaker), _refusal(ctx, project, cast.get(speaker), language, use))
            for speaker in script_of(ctx, project).speakers]


def _refusal(ctx: Context, project: Project, profile_id: str | None, language: str, use: str) -> str | None:
    if profile_id is None:
        return None
    try:
        check_consent(ctx.registry, profile_id, language, project.name, use)
    except ConsentError as error:
        return str(error)
    return None
