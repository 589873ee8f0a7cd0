"""Voice profiles and their consent terms, as signed, hash-chained records.

Each change to a profile (creation, new terms, new references, revocation) appends one record.
A record is signed with the registry's Ed25519 key over its canonical JSON (RFC 8785) and names
the hash of the record before it, so an edited, removed or reordered record breaks the chain.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any, Self

import rfc8785

ANY = "*"
USES = ("dubbing", "promo", "trailer")


@dataclass(frozen=True)
class Reference:
    """A reference recording: its file hash and the hash of its decoded PCM (which survives a re-wrap)."""

    file: str
    sha256: str
    pcm_sha256: str
    duration_s: float


@dataclass(frozen=True)
class ConsentTerms:
    """What the actor agreed to: languages, titles and uses ("*" = any), for which dates, on which terms."""

    languages: tuple[str, ...]
    titles: tuple[str, ...] = (ANY,)
    uses: tuple[str, ...] = ("dubbing",)
    valid_from: date = date(2000, 1, 1)
    valid_until: date | None = None
    terms_ref: str = ""

    def refusal(self, language: str, title: str, use: str, day: date) -> str | None:
        """Why these terms do not cover this language, title, use and day; None when they do."""
        if language not in self.languages and ANY not in self.languages:
            return f"consent does not cover language '{language}' (covers {', '.join(self.languages)})"
        if title not in self.titles and ANY not in self.titles:
            return f"consent does not cover title '{title}'"
        if use not in self.uses and ANY not in self.uses:
            return f"consent does not cover use '{use}' (covers {', '.join(self.uses)})"
        if day < self.valid_from:
            return f"consent starts on {self.valid_from.isoformat()}"
        if self.valid_until is not None and day > self.valid_until:
            return f"consent expired on {self.valid_until.isoformat()}"
        return None


@dataclass(frozen=True)
class StockVoice:
    """A voice that ships with the install: which engine speaks it, and under which licence."""

    engine: str
    voice: str
    weights_licence: str
    source: str


class ChainedRecord:
    """What a signed, hash-chained record does (a voice's consent, a title's clearance): the record is a
    frozen dataclass with the fields version, previous, revoked_at, created_at, signer and signature."""

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def signed_content(self) -> bytes:
        """What its signature covers: the record without the signature."""
        body = self.to_json()
        body.pop("signature")
        return rfc8785.dumps(body)

    @property
    def hash(self) -> str:
        return hashlib.sha256(rfc8785.dumps(self.to_json())).hexdigest()

    def next(self, **changes: Any) -> Self:
        """The following version, unsigned."""
        return replace(self, version=self.version + 1, previous=self.hash, created_at=datetime.now(),
                       signer="", signature="", **changes)

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass(frozen=True)
class ProfileRecord(ChainedRecord):
    """One signed version of a voice profile."""

    profile_id: str
    version: int
    previous: str | None
    actor: str
    terms: ConsentTerms
    references: tuple[Reference, ...] = ()
    stock: StockVoice | None = None
    revoked_at: datetime | None = None
    revocation_reason: str = ""
    created_at: datetime = field(default_factory=datetime.now)
    signer: str = ""
    signature: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfileRecord:
        terms = data["terms"]
        return cls(
            profile_id=data["profile_id"], version=data["version"], previous=data["previous"], actor=data["actor"],
            terms=ConsentTerms(tuple(terms["languages"]), tuple(terms["titles"]), tuple(terms["uses"]),
                               date.fromisoformat(terms["valid_from"]),
                               date.fromisoformat(terms["valid_until"]) if terms["valid_until"] else None,
                               terms["terms_ref"]),
            references=tuple(Reference(**r) for r in data["references"]),
            stock=StockVoice(**data["stock"]) if data["stock"] else None,
            revoked_at=datetime.fromisoformat(data["revoked_at"]) if data["revoked_at"] else None,
            revocation_reason=data["revocation_reason"], created_at=datetime.fromisoformat(data["created_at"]),
            signer=data["signer"], signature=data["signature"],
        )


def jsonable(value: Any) -> Any:
    """A record as JSON: tuples as lists, dates and times in ISO 8601."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
