"""Takes read from the store: each line's newest clip with its fit, verdicts and latest decision, as
the core `Take`, in three queries however many lines there are. The one place rows become takes."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import CheckResult, Decision, Take
from .models import Clip, QCResult, Review


def newest_clips(session: Session, project_id: int, language: str,
                 line_ids: Collection[str] | None = None) -> dict[str, Clip]:
    """Each line's newest clip in `language` (of the lines `line_ids` names, or all): the version under review.
    A take a script edit retired (its line changed or is gone) is never current again."""
    some = [] if line_ids is None else [Clip.line_id.in_(line_ids)]
    rows = session.scalars(select(Clip).where(Clip.project_id == project_id, Clip.language == language,
                                              Clip.retired_by.is_(None), *some).order_by(Clip.id))
    return {clip.line_id: clip for clip in rows}


def current_takes(session: Session, project_id: int, language: str,
                  line_ids: Collection[str] | None = None) -> dict[str, Take]:
    """Each line's current take in `language` (of the lines `line_ids` names, or all)."""
    clips = newest_clips(session, project_id, language, line_ids)
    ids = [clip.id for clip in clips.values()]
    verdicts = defaultdict(list)
    for result in session.scalars(select(QCResult).where(QCResult.clip_id.in_(ids)).order_by(QCResult.id)):
        verdicts[result.clip_id].append(CheckResult(result.check, result.verdict, result.numbers, result.reason))
    latest = {}
    for review in session.scalars(select(Review).where(Review.clip_id.in_(ids)).order_by(Review.id)):
        latest[review.clip_id] = Decision(review.decision, review.reviewer, review.created_at.isoformat(), review.note,
                                          review.override_reason)
    return {line_id: take(clip, verdicts[clip.id], latest.get(clip.id)) for line_id, clip in clips.items()}


def take(clip: Clip, verdicts: list[CheckResult], decision: Decision | None) -> Take:
    """One clip row with its verdicts and latest decision, as a Take."""
    blocked = (clip.blocked_reason or "blocked") if clip.status == "blocked" else None
    return Take(clip.id, clip.line_id, clip.language, clip.text, clip.profile_id, clip.consent_record, clip.engine,
                clip.settings.get("use", "dubbing"), clip.path, clip.sha256, clip.created_at.isoformat(), blocked,
                clip.fitted, tuple(verdicts), decision, processing(clip.settings))


def processing(settings: dict) -> tuple[str, ...]:
    """Each step the clip's settings record as applied to the engine's audio ({applied, tool, ...}), named
    with its tool: what the delivery's provenance says was done to the voice."""
    return tuple(f"{name}: {step['tool']}" for name, step in settings.items()
                 if isinstance(step, dict) and step.get("applied") and "tool" in step)
