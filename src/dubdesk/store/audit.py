"""The audit log: who did what to which project and line, appended in the same transaction as the change."""
from __future__ import annotations

from sqlalchemy import select

from .models import AuditEvent


def audit(session, actor: str, action: str, project_id: int | None, line_id: str | None = None, **detail) -> None:
    session.add(AuditEvent(actor=actor, action=action, project_id=project_id, line_id=line_id, detail=detail))


def audit_events(sessions, newest: int = 1000) -> list[AuditEvent]:
    """The audit log, newest first."""
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(newest)))
