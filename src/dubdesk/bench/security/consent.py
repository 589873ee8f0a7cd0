"""The consent attacks: every way round the consent check that tests/test_consent.py makes (terms, the
signed history and its records, revocation, grants handed to the engine, the registry key), each
tried on a profile of its own; `actor`, `speak` and `pico_voice` are the helpers the tests reuse.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import update

from ... import errors
from ...audio import RATE, decode_audio
from ...config import Settings
from ...context import Context
from ...errors import TamperedError
from ...seal import KEY_FILE, Seal
from ...services import projects, speech
from ...store import open_database
from ...store.models import VoiceProfile
from ...synth.engines import voice_engine
from ...synth.voice_match import VoiceMatcher
from ...voices.consent import ConsentGrant, Voice, authorize
from ...voices.records import ConsentTerms
from ...voices.registry import ConsentError
from .common import Attempt, clip_of, refused


def actor(ctx: Context, reference: Path, **terms) -> object:
    """An actor's profile consenting to dub 'Pilot' into Spanish for a month (override any term)."""
    today = date.today()
    defaults = dict(languages=("es",), titles=("Pilot",), uses=("dubbing",), valid_from=today - timedelta(days=1),
                    valid_until=today + timedelta(days=30), terms_ref="contract 42")
    return ctx.registry.create("Ana Actriz", ConsentTerms(**{**defaults, **terms}), [reference], by="Ana Actriz")


def speak(ctx: Context, project, profile_id: str, language: str = "es", text: str = "Hola."):
    """A voice trial (an id no script line has: spoken at the engine's own pace), through the one gate."""
    return speech.synthesize(ctx, project, "T0001", text, language, profile_id)


def pico_voice(record, references) -> Voice:
    return Voice("pico", "es-ES", tuple(references))


def _history(ctx: Context, profile) -> Path:
    return ctx.registry.folder / profile.profile_id / "history.jsonl"


def consent_attacks(settings: Settings, sample: Path, scratch: Path) -> list[Attempt]:
    """Every way round the consent check that tests/test_consent.py makes, each on a profile of its own."""
    ctx = Context(settings)
    project = projects.create_project(ctx, sample, name="Pilot")
    reference = clip_of(sample, scratch / "actor reference.wav", 6.5, 6.0)
    stranger = clip_of(sample, scratch / "someone else.wav", 0.0, 5.0, "stranger")
    return [*_terms_attacks(ctx, project, reference), *_record_attacks(ctx, project, reference, scratch),
            *_revocation_attacks(ctx, project, lambda i: clip_of(sample, scratch / f"revoked {i}.wav", 6.5 + i / 10, 6.0),
                                 scratch),
            *_grant_attacks(ctx, project, clip_of(sample, scratch / "granted.wav", 7.5, 6.0), stranger),
            *_key_attacks(ctx, scratch)]


def _terms_attacks(ctx: Context, project, reference: Path) -> list[Attempt]:
    today = date.today()
    cases = [("speak after the consent expired", {"valid_until": today - timedelta(days=1)}, "es", "expired"),
             ("speak before the consent starts", {"valid_from": today + timedelta(days=1)}, "es", "starts on"),
             ("speak a language not consented to", {}, "fr", "does not cover language 'fr'"),
             ("speak for a title not consented to", {"titles": ("Another show",)}, "es", "does not cover title 'Pilot'"),
             ("speak for a use not consented to", {"uses": ("promo",)}, "es", "does not cover use 'dubbing'")]
    attempts = [refused("consent", attack, lambda t=terms, lang=language: speak(
        ctx, project, actor(ctx, reference, **t).profile_id, lang), ConsentError, match)
                for attack, terms, language, match in cases]
    attempts.append(refused("consent", "speak in a voice nobody registered",
                            lambda: speak(ctx, project, "nobody"), ConsentError, "no voice profile 'nobody'"))
    return attempts


def _record_attacks(ctx: Context, project, reference: Path, scratch: Path) -> list[Attempt]:
    edited = actor(ctx, reference)
    history = _history(ctx, edited)
    history.write_text(history.read_text().replace('"languages": ["es"]', '"languages": ["es", "fr"]'))
    attempts = [refused("consent", "widen a record's languages in its history file",
                        lambda: speak(ctx, project, edited.profile_id, "fr"), TamperedError, "signature does not verify")]
    forged = actor(ctx, reference)
    _append_forged_record(ctx, forged, Seal(scratch / "other-keys", open_database(f"sqlite:///{scratch / 'other.db'}")))
    attempts.append(refused("consent", "append a record signed with another key (files and database)",
                            lambda: speak(ctx, project, forged.profile_id, "fr"), TamperedError, "signed by an unknown key"))
    changed = actor(ctx, reference)
    (stored,) = ctx.registry.reference_paths(changed)
    stored.write_bytes(stored.read_bytes()[:-100])
    attempts.append(refused("consent", "change a stored reference recording",
                            lambda: speak(ctx, project, changed.profile_id), TamperedError, "reference .* missing or changed"))
    return attempts


def _append_forged_record(ctx: Context, profile, other_key: Seal) -> None:
    """A wider record signed with `other_key`, appended to the history and made the database's head."""
    forged = replace(profile.next(terms=replace(profile.terms, languages=("es", "fr"))), signer=other_key.fingerprint)
    forged = replace(forged, signature=other_key.sign_bytes(forged.signed_content()))
    with _history(ctx, profile).open("a") as lines:
        lines.write(json.dumps(forged.to_json()) + "\n")
    with ctx.sessions() as session:
        session.execute(update(VoiceProfile).where(VoiceProfile.id == profile.profile_id)
                        .values(head_hash=forged.hash, version=forged.version))
        session.commit()


def _revocation_attacks(ctx: Context, project, recording: Callable[[int], Path], scratch: Path) -> list[Attempt]:
    """`recording(i)`: a recording of its own for each profile revoked here (a revoked one cannot back another)."""
    def revoked_profile(index: int):
        profile = actor(ctx, recording(index))
        speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
        return profile

    spoken = revoked_profile(1)
    attempts = [refused("consent", "speak in a revoked voice", lambda: speak(ctx, project, spoken.profile_id),
                        ConsentError, "revoked"),
                refused("consent", "widen a revoked voice's terms", lambda: ctx.registry.update_terms(
                    spoken.profile_id, spoken.terms, by="attacker"), ConsentError, "revoked")]
    undone = revoked_profile(2)
    current = ctx.registry.current(undone.profile_id)
    attempts.append(refused("consent", "append a record after the revocation through the registry", lambda: ctx.registry._append(
        current.next(revoked_at=None, revocation_reason=""), by="attacker", action="undo"), ConsentError, "revocation is final"))
    cut = revoked_profile(3)
    history = _history(ctx, cut)
    history.write_text(history.read_text().splitlines(keepends=True)[0])
    attempts.append(refused("consent", "cut the revocation from the history file",
                            lambda: speak(ctx, project, cut.profile_id), TamperedError, "does not end at the registered head"))
    attempts += _database_revocation_attacks(ctx, project, cut)
    rewrapped = scratch / "same voice.flac"  # the same recording, another container and name
    sf.write(rewrapped, decode_audio(recording(3)), RATE)
    attempts.append(refused("consent", "register a revoked voice again as a new profile (re-wrapped recording)",
                            lambda: actor(ctx, rewrapped), ConsentError, "a revoked voice cannot be registered again"))
    return attempts


def _database_revocation_attacks(ctx: Context, project, profile) -> list[Attempt]:
    """Roll the head back in the database, delete the revocation row, then drop the guard and roll back."""
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")
    roll_back = ("UPDATE voice_profiles SET head_hash = ?, version = 1 WHERE id = ?", (profile.hash, profile.profile_id))
    try:
        attempts = [refused("consent", "roll a revoked profile's head back in the database",
                            lambda: database.execute(*roll_back), sqlite3.DatabaseError, "only moves forward"),
                    refused("consent", "delete the revocation row", lambda: database.execute(
                        "DELETE FROM revocations WHERE profile_id = ?", (profile.profile_id,)), sqlite3.DatabaseError,
                        "revocation is final")]
        database.rollback()
        database.execute("DROP TRIGGER IF EXISTS voice_profiles_forward")  # an attacker who removes the guard too
        database.execute(*roll_back)
        database.commit()
    finally:
        database.close()
    attempts.append(refused("consent", "drop the trigger, roll the head back and cut the history",
                            lambda: speak(ctx, project, profile.profile_id), TamperedError, "the revocation was removed"))
    return attempts


def _grant_attacks(ctx: Context, project, reference: Path, stranger: Path) -> list[Attempt]:
    profile, other = actor(ctx, reference), actor(ctx, reference, languages=("de",))
    engine = voice_engine("pico")
    voice = pico_voice(profile, ctx.registry.reference_paths(profile))
    forged = ConsentGrant(profile.profile_id, profile.hash, "es", "Pilot", "dubbing", "pico", "es-ES", (), 0.0, mac="0" * 64)
    _, _, others = authorize(ctx.registry, other.profile_id, "de", "Pilot", "dubbing", pico_voice)
    _, _, grant = authorize(ctx.registry, profile.profile_id, "es", "Pilot", "dubbing", pico_voice)

    def spoken(with_grant, as_voice=voice):
        return lambda: engine.speak("Hola.", as_voice, "es", with_grant, profile.profile_id)

    attempts = [refused("consent", f"call the engine with {name}", spoken(given), ConsentError, "no valid consent grant")
                for name, given in (("no grant", None), ("a string for a grant", "yes"), ("a forged grant", forged))]
    attempts += [
        refused("consent", "use another profile's grant", spoken(others), ConsentError, "covers"),
        refused("consent", "use a grant for another of the engine's voices", spoken(grant, replace(voice, name="it-IT")),
                ConsentError, "covers"),
        refused("consent", "use a grant with a reference nobody consented with",
                spoken(grant, replace(voice, references=(stranger,))), ConsentError, "does not cover the recording"),
        refused("consent", "let the voice matcher hear a reference nobody consented with", lambda: VoiceMatcher(
            ctx.folder(project)).apply(np.zeros(RATE, np.float32), RATE, grant, (stranger,), "k", 200.0),
                ConsentError, "does not cover the recording")]
    speech.revoke_voice(ctx, profile.profile_id, "withdrawn", by="Ana Actriz")
    attempts.append(refused("consent", "use a grant minted before the revocation", spoken(grant), ConsentError, "revoked"))
    return attempts


def _key_attacks(ctx: Context, scratch: Path) -> list[Attempt]:
    """Last: bring a registry key of one's own (the data folder's key is gone afterwards)."""
    pinned = ctx.registry.signer
    (ctx.settings.home / "keys" / KEY_FILE).unlink()
    fresh = ctx.settings.model_copy(update={"home": scratch / "fresh", "key_fingerprint": pinned})
    return [refused("consent", "replace the registry key (the database pins it)",
                    lambda: Context(ctx.settings).registry.profile_ids(), errors.TamperedError, "the database pins"),
            refused("consent", "start with another key (the settings pin it)",
                    lambda: Context(fresh).registry.profile_ids(), errors.TamperedError, "the settings pin")]
