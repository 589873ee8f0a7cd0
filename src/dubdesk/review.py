"""Review: a person approves or rejects each line version (clip). A line whose QC failed is approved
only with a written override reason; every decision goes to the audit log and is sealed together
with the seals of the clip, fit and verdicts it was made on (see takes.py)."""
from __future__ import annotations

from sqlalchemy import select, update

from .errors import ProjectError
from .seal import Seal
from .store.audit import audit
from .store.models import Clip, QCResult, Review, utcnow
from .takes import check_clip, check_verdicts, decision_body


def qc_results(session, clip_id: int) -> list[QCResult]:
    return list(session.scalars(select(QCResult).where(QCResult.clip_id == clip_id).order_by(QCResult.id)))


def decisions(session, clip_id: int) -> list[Review]:
    """Every decision on a clip, in the order made."""
    return list(session.scalars(select(Review).where(Review.clip_id == clip_id).order_by(Review.id)))


def decide(sessions, seal: Seal, clip_id: int, reviewer: str, approve: bool, note: str | None = None,
           override_reason: str | None = None) -> Review:
    """Record a decision. Approval needs QC run and no QC fail, unless `override_reason` explains why."""
    if not reviewer.strip():
        raise ProjectError("a decision must name the person who made it")
    with sessions() as session:
        # first a write on the clip's row: it holds the row (the database) until commit, so two decisions
        # on one clip are made one after the other, each chained to the one before
        session.execute(update(Clip).where(Clip.id == clip_id).values(status=Clip.status))
        clip = session.get(Clip, clip_id)
        if clip is None:
            raise ProjectError(f"no clip {clip_id}")
        if approve:
            check_clip(seal, clip)
            _check_approvable(session, seal, clip, override_reason)
        review = Review(clip_id=clip.id, decision="approved" if approve else "rejected", reviewer=reviewer.strip(),
                        note=note, override_reason=override_reason, created_at=utcnow())
        earlier = decisions(session, clip.id)
        review.seal = seal.sign("decision", decision_body(review, clip, earlier[-1] if earlier else None))
        session.add(review)
        audit(session, reviewer.strip(), review.decision, clip.project_id, clip.line_id, clip_id=clip.id,
              language=clip.language, note=note, override_reason=override_reason)
        session.commit()
        session.refresh(review)
        return review


def _check_approvable(session, seal: Seal, clip: Clip, override_reason: str | None) -> None:
    if clip.status == "blocked":
        raise ProjectError(f"line {clip.line_id} is blocked ({clip.blocked_reason}); it cannot be approved")
    results = qc_results(session, clip.id)
    if not results:
        raise ProjectError(f"line {clip.line_id} has no QC results yet; run QC before approving")
    check_verdicts(seal, clip, results)
    failed = [f"{r.check}: {r.reason}" for r in results if r.verdict == "fail"]
    if failed and not (override_reason or "").strip():
        raise ProjectError(f"line {clip.line_id} failed QC ({'; '.join(failed)}); approve it only with a written "
                           f"override reason")
