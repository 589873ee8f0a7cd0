"""The consent check, and the grant every synthesis engine demands before it speaks.

`authorize` verifies the profile's signed history and its reference files, then checks the
current terms for this language, title, use and day. Only it can mint a `ConsentGrant`: grants
carry a MAC under a key that exists only in this process, expire after two minutes and name the
profile and language they cover, so an engine handed anything else refuses.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import astuple, dataclass, replace
from datetime import date

from .records import ProfileRecord
from .registry import ConsentError, ConsentRegistry

GRANT_LIFETIME_S = 120.0
_GRANT_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class ConsentGrant:
    profile_id: str
    record_hash: str
    language: str
    title: str
    use: str
    issued: float
    mac: str = ""


def _mac(grant: ConsentGrant) -> str:
    fields = "\x1f".join(map(str, astuple(replace(grant, mac=""))))
    return hmac.new(_GRANT_KEY, fields.encode(), hashlib.sha256).hexdigest()


def authorize(registry: ConsentRegistry, profile_id: str, language: str, title: str, use: str,
              day: date | None = None) -> tuple[ProfileRecord, ConsentGrant]:
    """The verified current record and a fresh grant, or ConsentError saying why not."""
    record = registry.current(profile_id)
    if record.revoked:
        raise ConsentError(f"voice profile '{profile_id}' was revoked on {record.revoked_at:%Y-%m-%d %H:%M}: "
                           f"{record.revocation_reason}")
    registry.verify_references(record)
    refusal = record.terms.refusal(language, title, use, day or date.today())
    if refusal:
        raise ConsentError(f"voice profile '{profile_id}': {refusal}")
    grant = ConsentGrant(profile_id, record.hash, language, title, use, time.monotonic())
    return record, replace(grant, mac=_mac(grant))


def require_grant(grant: object, profile_id: str, language: str) -> None:
    """Engines call this first: no valid, current grant for this voice and language, no speech."""
    if not isinstance(grant, ConsentGrant) or not hmac.compare_digest(grant.mac, _mac(grant)):
        raise ConsentError("synthesis refused: no valid consent grant (synthesis runs only through dubdesk.synth)")
    if grant.profile_id != profile_id or grant.language != language:
        raise ConsentError(f"synthesis refused: the consent grant covers '{grant.profile_id}' in '{grant.language}', "
                           f"not '{profile_id}' in '{language}'")
    if time.monotonic() - grant.issued > GRANT_LIFETIME_S:
        raise ConsentError("synthesis refused: the consent grant has expired; consent is checked again per line")
