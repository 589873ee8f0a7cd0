"""The voice actor's side: their own profiles only, with validated reference recordings.

Ownership is checked here, on the server, for every read and change; an actor never sees or
touches another actor's profile.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from ..access import AccessDenied, require
from ..context import Context
from ..errors import BadInputError, DubdeskError
from ..store.models import User, VoiceProfile
from ..voices.records import ConsentTerms, ProfileRecord
from ..voices.references import check_reference
from .speech import revoke_voice


def own_profiles(ctx: Context, person: User) -> list[ProfileRecord]:
    require(person, "voice_actor")
    with ctx.sessions() as session:
        ids = list(session.scalars(select(VoiceProfile.id).where(VoiceProfile.owner == person.name).order_by(VoiceProfile.id)))
    return [ctx.registry.current(profile_id) for profile_id in ids]


def own_profile(ctx: Context, person: User, profile_id: str) -> ProfileRecord:
    """The profile, if it is this actor's."""
    require(person, "voice_actor")
    with ctx.sessions() as session:
        row = session.get(VoiceProfile, profile_id)
    if row is None or row.owner != person.name:
        raise AccessDenied(f"{person.name} has no voice profile '{profile_id}'")
    return ctx.registry.current(profile_id)


def create_profile(ctx: Context, person: User, actor: str, languages: list[str], uses: list[str],
                   valid_until: date | None, terms_ref: str, references: list[Path]) -> ProfileRecord:
    require(person, "voice_actor")
    if not references:
        raise BadInputError("references", "upload at least one reference recording")
    for reference in references:
        check_reference(reference)
    terms = _terms(languages, uses, valid_until, terms_ref)
    record = ctx.registry.create(actor.strip() or person.name, terms, list(references), by=person.name)
    with ctx.sessions() as session:
        session.execute(update(VoiceProfile).where(VoiceProfile.id == record.profile_id).values(owner=person.name))
        session.commit()
    return record


def change_terms(ctx: Context, person: User, profile_id: str, languages: list[str], uses: list[str],
                 valid_until: date | None, terms_ref: str) -> ProfileRecord:
    own_profile(ctx, person, profile_id)
    return ctx.registry.update_terms(profile_id, _terms(languages, uses, valid_until, terms_ref), by=person.name)


def _terms(languages: list[str], uses: list[str], valid_until: date | None, terms_ref: str) -> ConsentTerms:
    return ConsentTerms(tuple(languages), uses=tuple(uses) or ("dubbing",), valid_until=valid_until, terms_ref=terms_ref)


def revoke(ctx: Context, person: User, profile_id: str, reason: str) -> int:
    """Withdraw consent now; returns how many unmixed lines were blocked. A revocation is final and
    its reason is what the studio reads on every blocked line, so it must say something."""
    own_profile(ctx, person, profile_id)
    if not (reason or "").strip():
        raise DubdeskError(f"say why you withdraw consent for {profile_id} (the studio sees it on every blocked line); "
                           f"nothing was revoked")
    return revoke_voice(ctx, profile_id, reason.strip(), by=person.name)
