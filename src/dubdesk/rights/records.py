"""A title clearance: the rights holder's written approval of AI dubbing, as signed, hash-chained records.

A clearance names who holds the rights, which title, which target languages, territories and uses, from
and until when, and the approving document by its file hash and reference. Like a voice's consent it is
kept as an append-only history (given, then perhaps revoked), each record signed with the workbench key
over its canonical JSON and naming the hash of the one before (see voices.records).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..errors import DubdeskError
from ..voices.records import ChainedRecord

WORLDWIDE = "worldwide"
# What a rights holder may allow: speech in synthetic voices, machine translation, or only a draft for their review.
USES = ("ai-voice", "ai-translation", "draft-review")
# ISO 3166-1 alpha-2, as the IANA time zone database lists them (iso3166.tab).
TERRITORIES = frozenset((
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO "
    "FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE "
    "JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO "
    "MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW "
    "PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM "
    "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
).split())


class RightsError(DubdeskError):
    """A title or an input whose use here is not cleared: names what is missing and how to clear it."""


def territories(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (or "worldwide"), upper-cased and checked; a typo must not clear a territory."""
    cleaned = tuple(sorted({code.strip().upper() if code.strip().lower() != WORLDWIDE else WORLDWIDE
                            for code in codes if code.strip()}))
    unknown = [code for code in cleaned if code != WORLDWIDE and code not in TERRITORIES]
    if unknown or not cleaned:
        raise RightsError(f"unknown territory {', '.join(unknown) or '(none given)'}: give ISO 3166-1 alpha-2 codes "
                          f"(ES, MX, US ...) or '{WORLDWIDE}'")
    return cleaned


def uses(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(sorted({name.strip().lower() for name in names if name.strip()}))
    unknown = [name for name in cleaned if name not in USES]
    if unknown or not cleaned:
        raise RightsError(f"unknown use {', '.join(unknown) or '(none given)'}: uses are {', '.join(USES)}")
    return cleaned


@dataclass(frozen=True)
class ClearanceTerms:
    """What the rights holder approved, and the document that says so."""

    holder: str
    title: str
    languages: tuple[str, ...]
    territories: tuple[str, ...]
    uses: tuple[str, ...]
    valid_from: date
    valid_until: date | None
    document_sha256: str
    document_ref: str

    def refusal(self, language: str, territories: tuple[str, ...], uses: tuple[str, ...], day: date) -> str | None:
        """What these terms do not cover of this delivery (language, territories, uses, day); None when they cover it."""
        missing = []
        if language not in self.languages:
            missing.append(f"language '{language}' (cleared: {', '.join(self.languages)})")
        uncovered = [] if WORLDWIDE in self.territories else [t for t in territories if t not in self.territories]
        if uncovered:
            missing.append(f"territory {', '.join(uncovered)} (cleared: {', '.join(self.territories)})")
        unused = [use for use in uses if use not in self.uses]
        if unused:
            missing.append(f"use {', '.join(unused)} (cleared: {', '.join(self.uses)})")
        if day < self.valid_from:
            missing.append(f"the date {day.isoformat()} (cleared from {self.valid_from.isoformat()})")
        if self.valid_until is not None and day > self.valid_until:
            missing.append(f"the date {day.isoformat()} (expired on {self.valid_until.isoformat()})")
        return "; ".join(missing) or None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClearanceTerms:
        return cls(data["holder"], data["title"], tuple(data["languages"]), tuple(data["territories"]),
                   tuple(data["uses"]), date.fromisoformat(data["valid_from"]),
                   date.fromisoformat(data["valid_until"]) if data["valid_until"] else None,
                   data["document_sha256"], data["document_ref"])


@dataclass(frozen=True)
class ClearanceRecord(ChainedRecord):
    """One signed version of a project's title clearance."""

    clearance_id: str
    project_id: int
    version: int
    previous: str | None
    terms: ClearanceTerms
    revoked_at: datetime | None = None
    revocation_reason: str = ""
    created_at: datetime = field(default_factory=datetime.now)
    signer: str = ""
    signature: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClearanceRecord:
        return cls(data["clearance_id"], data["project_id"], data["version"], data["previous"],
                   ClearanceTerms.from_json(data["terms"]),
                   datetime.fromisoformat(data["revoked_at"]) if data["revoked_at"] else None,
                   data["revocation_reason"], datetime.fromisoformat(data["created_at"]), data["signer"],
                   data["signature"])
