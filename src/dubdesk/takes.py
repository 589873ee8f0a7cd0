"""A take: one line's clip, its fit, its QC verdicts and the decision on it, each sealed when made.

Synthesis seals the clip (text, voice profile, consent record, engine, file hash), fit seals the
fitted file's hash, QC seals its verdicts and review seals the decision together with the seals of
what was decided on. Approval trusts verdicts only when their seal holds, and mixing trusts a take
only when `check_take` finds every seal intact and the fitted file unchanged, so a row edited,
inserted or relabelled in the database, or a file copied over a clip, stops the mix by name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import TamperedError
from .files import sha256_file
from .seal import Seal, digest
from .store.models import Clip, QCResult, Review

CLIP_FIELDS = ("id", "project_id", "line_id", "language", "text", "profile_id", "consent_record", "engine", "settings",
               "path", "sha256")


def _when(moment) -> str:
    """A stored time as the database gives it back (naive UTC)."""
    return moment.replace(tzinfo=None).isoformat()


def clip_body(clip: Clip) -> dict[str, Any]:
    return {**{name: getattr(clip, name) for name in CLIP_FIELDS}, "created_at": _when(clip.created_at)}


def fit_body(clip: Clip) -> dict[str, Any]:
    return {"clip": clip.id, "clip_seal": digest(clip.seal or ""), "fit": clip.fit}


def verdicts_body(clip: Clip, results: list[QCResult]) -> dict[str, Any]:
    """The verdicts, and what QC read of the take (which later checks of other lines compare with), where kept."""
    body = {"clip": clip.id, "clip_seal": digest(clip.seal or ""),
            "verdicts": sorted([r.check, r.verdict, r.reason] for r in results)}
    return body if clip.qc_reading is None else {**body, "reading": clip.qc_reading}


def decision_body(review: Review, clip: Clip, previous: Review | None) -> dict[str, Any]:
    """A decision bound to what it was made on and to the decision before it on the same clip, so an
    old approval copied in after a rejection does not check out."""
    return {"clip": clip.id, "decision": review.decision, "reviewer": review.reviewer, "note": review.note,
            "override_reason": review.override_reason, "created_at": _when(review.created_at),
            "clip_seal": digest(clip.seal or ""), "fit_seal": digest(clip.fit_seal or ""),
            "qc_seal": digest(clip.qc_seal or ""), "previous": digest(previous.seal or "") if previous else None}


def check_clip(seal: Seal, clip: Clip) -> None:
    seal.check("clip", clip_body(clip), clip.seal, f"line {clip.line_id}: its clip record")


def check_verdicts(seal: Seal, clip: Clip, results: list[QCResult]) -> None:
    seal.check("verdicts", verdicts_body(clip, results), clip.qc_seal, f"line {clip.line_id}: its QC verdicts")


def check_take(seal: Seal, clip: Clip, results: list[QCResult], decisions: list[Review], project_folder: Path) -> None:
    """TamperedError naming the line unless its clip, fit, fitted file, verdicts and latest decision
    (an approval, of `decisions` in the order made) are exactly what dubdesk made."""
    check_clip(seal, clip)
    seal.check("fit", fit_body(clip), clip.fit_seal, f"line {clip.line_id}: its fit")
    fitted = project_folder / clip.fitted.path
    if not fitted.is_file() or sha256_file(fitted) != clip.fitted.sha256:
        raise TamperedError(f"line {clip.line_id}: the fitted clip {fitted.name} is missing or was replaced after it "
                            f"was made; regenerate the line")
    check_verdicts(seal, clip, results)
    approval, previous = decisions[-1], decisions[-2] if len(decisions) > 1 else None
    seal.check("decision", decision_body(approval, clip, previous), approval.seal, f"line {clip.line_id}: its approval")
