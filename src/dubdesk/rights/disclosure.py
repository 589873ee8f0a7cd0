"""The disclosure a delivery carries: who allowed this AI dub, why AI was used and what it did, whose voices
(under which consents) and who approved the lines. The same record goes into the package manifest, each
file's C2PA credential and, for people, a short DISCLOSURE.txt."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from ..voices.records import jsonable
from .records import ClearanceRecord

AI_DID = {"translation": "translated the dialogue", "voices": "spoke the dub in synthetic voices"}


@dataclass(frozen=True)
class VoiceConsent:
    actor: str
    profile: str
    consent_record: str


@dataclass(frozen=True)
class Disclosure:
    """One delivery's disclosure: the clearance it went out under, on which day, for which territories and uses."""

    project: str
    language: str
    territories: tuple[str, ...]
    uses: tuple[str, ...]
    delivered_on: date
    holder: str
    title: str
    clearance_id: str
    clearance_record: str
    document_ref: str
    document_sha256: str
    purpose: str
    ai_did: tuple[str, ...]
    voices: tuple[VoiceConsent, ...]
    approvers: tuple[str, ...]

    @classmethod
    def of(cls, clearance: ClearanceRecord, project: str, language: str, territories: tuple[str, ...],
           uses: tuple[str, ...], purpose: str, ai_did: tuple[str, ...], voices: tuple[VoiceConsent, ...],
           approvers: tuple[str, ...], day: date) -> Disclosure:
        terms = clearance.terms
        return cls(project, language, territories, uses, day, terms.holder, terms.title, clearance.clearance_id,
                   clearance.hash, terms.document_ref, terms.document_sha256, purpose, ai_did, voices, approvers)

    def to_json(self) -> dict[str, Any]:
        return {**jsonable(asdict(self)), "text": self.text()}

    def text(self) -> str:
        """The disclosure as a person reads it (DISCLOSURE.txt)."""
        voices = "\n".join(f"  - {v.actor} (voice profile {v.profile}, consent record {v.consent_record[:16]})"
                           for v in self.voices)
        return (f"AI disclosure: {self.project}, {self.language} dub\n\n"
                f"This dub was made with generative AI: it {' and '.join(AI_DID[d] for d in self.ai_did)}.\n"
                f"Purpose: {self.purpose}\n\n"
                f"Approved by the rights holder {self.holder} for the title \"{self.title}\": "
                f"{', '.join(self.uses)} in {self.language} for {', '.join(self.territories)} "
                f"(clearance {self.clearance_id}, record {self.clearance_record[:16]}; document "
                f"{self.document_ref}, SHA-256 {self.document_sha256}).\n"
                f"Delivered on {self.delivered_on.isoformat()}.\n\n"
                f"Voices, each used under the actor's recorded consent:\n{voices}\n\n"
                f"Every line was approved by: {', '.join(self.approvers)}\n")
