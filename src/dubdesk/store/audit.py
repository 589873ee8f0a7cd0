"""The audit log: who did what to which project and line, appended in the same transaction as the change."""
from __future__ import annotations

from sqlalchemy import select

from .models import AuditEvent


def audit(session, actor: str, action: str, project_id: int | None, line_id: str | None = None, **detail) -> None:
    session.add(AuditEvent(actor=actor, action=action, project_id=project_id, line_id=line_id, detail=detail))


def audit_events(sessions, newest: int = 1000, line_id: str | None = None, actor: str | None = None,
                 action: str | None = None) -> list[AuditEvent]:
    """The audit log, newest first; only one line's, one person's or one kind of event when asked
    (empty means any)."""
    chosen = [column == value.strip() for column, value in
              ((AuditEvent.line_id, line_id), (AuditEvent.actor, actor), (AuditEvent.action, action)) if value and value.strip()]
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(*chosen).order_by(AuditEvent.id.desc()).limit(newest)))


def audit_kinds(sessions) -> list[str]:
    """Every kind of event the log holds (for a filter)."""
    with sessions() as session:
        return sorted(session.scalars(select(AuditEvent.action).distinct()))
