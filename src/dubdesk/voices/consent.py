"""The consent check, and the grant every synthesis engine demands before it speaks.

`authorize` verifies the profile's signed history and its reference files, checks the current
terms for this language, title and use today, and only then lets the caller choose the voice that
will speak (from the verified record). Only it can mint a `ConsentGrant`: grants carry a MAC under a
key that exists only in this process and bind the profile, its record, the language, the engine's
voice and the reference recordings. An engine handed anything else refuses, and each time an
engine speaks the registry is read again, so a revocation stops a grant minted before it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import astuple, replace
from datetime import date
from pathlib import Path

from ..core import ConsentGrant, Voice  # pure data, defined in core; still importable from here
from ..files import sha256_file
from .records import ProfileRecord
from .registry import ConsentError, ConsentRegistry

GRANT_LIFETIME_S = 120.0
_GRANT_KEY = secrets.token_bytes(32)
_MINTED_BY: dict[str, tuple[ConsentRegistry, float]] = {}  # grant MAC -> the registry that checked it, read
# again each time the grant is used, and when it was minted


def _mac(grant: ConsentGrant) -> str:
    fields = "\x1f".join(map(str, astuple(replace(grant, mac=""))))
    return hmac.new(_GRANT_KEY, fields.encode(), hashlib.sha256).hexdigest()


def check_consent(registry: ConsentRegistry, profile_id: str, language: str, title: str, use: str) -> ProfileRecord:
    """The verified current record if its consent covers this language, title and use today;
    ConsentError saying why not."""
    record = registry.current(profile_id)
    if record.revoked:
        raise ConsentError(f"voice profile '{profile_id}' was revoked on {record.revoked_at:%Y-%m-%d %H:%M}: "
                           f"{record.revocation_reason}")
    registry.verify_references(record)
    refusal = record.terms.refusal(language, title, use, date.today())
    if refusal:
        raise ConsentError(f"voice profile '{profile_id}': {refusal}")
    return record


def authorize(registry: ConsentRegistry, profile_id: str, language: str, title: str, use: str,
              choose_voice: Callable[[ProfileRecord, list[Path]], Voice]) -> tuple[ProfileRecord, Voice, ConsentGrant]:
    """Check consent now, let `choose_voice` pick the voice from the verified record and its
    references, and mint a grant bound to both."""
    record = check_consent(registry, profile_id, language, title, use)  # the reference files match the record
    consented = {path: reference.sha256 for path, reference in zip(registry.reference_paths(record), record.references)}
    voice = choose_voice(record, list(consented))
    uncovered = [path.name for path in voice.references if path not in consented]
    if uncovered:
        raise ConsentError(f"voice profile '{profile_id}': {', '.join(uncovered)} is not one of its consented references")
    grant = ConsentGrant(profile_id, record.hash, language, title, use, voice.engine, voice.name,
                         tuple(consented[path] for path in voice.references), time.monotonic())
    grant = replace(grant, mac=_mac(grant))
    _forget_expired()
    _MINTED_BY[grant.mac] = (registry, grant.issued)
    return record, voice, grant


def require_grant(grant: object, profile_id: str, language: str, engine: str, voice: Voice) -> None:
    """Engines call this first, naming themselves: no valid, current grant for this voice, language
    and these references, no speech. The consent is read again from the registry at this moment."""
    if not isinstance(grant, ConsentGrant) or not hmac.compare_digest(grant.mac, _mac(grant)):
        raise ConsentError("synthesis refused: no valid consent grant (synthesis runs only through dubdesk.synth)")
    asked = (profile_id, language, engine, voice.name)
    if (grant.profile_id, grant.language, grant.engine, grant.voice) != asked or voice.engine != engine:
        raise ConsentError(f"synthesis refused: the consent grant covers '{grant.profile_id}' in '{grant.language}' "
                           f"spoken by {grant.engine} '{grant.voice}', not '{profile_id}' in '{language}' by "
                           f"{engine} '{voice.name}'")
    require_references(grant, voice.references)
    if time.monotonic() - grant.issued > GRANT_LIFETIME_S:
        raise ConsentError("synthesis refused: the consent grant has expired; consent is checked again per line")
    minted = _MINTED_BY.get(grant.mac)
    if minted is None:
        raise ConsentError("synthesis refused: the consent grant is no longer held; consent is checked again per line")
    current = minted[0].current(profile_id)
    if current.revoked or current.hash != grant.record_hash:
        raise ConsentError(f"synthesis refused: the consent of '{profile_id}' changed since the grant was made"
                           + (f" (revoked: {current.revocation_reason})" if current.revoked else ""))


def require_references(grant: ConsentGrant, references: tuple[Path, ...]) -> None:
    """Any recording an engine or the voice matcher listens to must be one the grant covers."""
    uncovered = [path.name for path in references if sha256_file(path) not in grant.references]
    if uncovered:
        raise ConsentError(f"synthesis refused: the consent grant does not cover the recording(s) {', '.join(uncovered)}")


def _forget_expired() -> None:
    """Drop what is kept of grants past their lifetime (a long run mints one per line)."""
    now = time.monotonic()
    for mac in [mac for mac, (_, issued) in _MINTED_BY.items() if now - issued > GRANT_LIFETIME_S]:
        del _MINTED_BY[mac]
