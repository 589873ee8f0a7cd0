"""The clearance registry: title clearances under `home/rights/`, each an append-only signed history.

Designed as the consent registry (voices.registry): every record is signed with the workbench's seal
and chained to the one before; the database keeps each clearance's head hash, so a truncated history
is caught, and a forged row cannot carry the pinned key's signature. A revocation is final: nothing
follows it, and a revocation row that can be neither changed nor removed catches a history that lost it.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import errors
from ..files import atomic_write
from ..seal import Seal
from ..store.audit import audit
from ..store.models import Clearance, ClearanceRevocation, utcnow
from .records import ClearanceRecord, ClearanceTerms, RightsError

HISTORY = "history.jsonl"


class TamperedClearanceError(RightsError, errors.TamperedError):
    """A clearance's records do not verify."""


class ClearanceRegistry:
    def __init__(self, home: Path, sessions: sessionmaker[Session], seal: Seal) -> None:
        self.folder = home / "rights"
        self.sessions = sessions
        self.seal = seal

    def _history_path(self, clearance_id: str) -> Path:
        return self.folder / clearance_id / HISTORY

    def _append(self, record: ClearanceRecord, by: str, action: str) -> ClearanceRecord:
        """Sign `record` and make it the clearance's head, audited in `by`'s name. Nothing follows a revocation."""
        if record.previous is not None and self.current(record.clearance_id).revoked:
            raise RightsError(f"title clearance '{record.clearance_id}' is revoked; a revocation is final")
        signed = self.seal.sign_record(record)
        path = self._history_path(record.clearance_id)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        line = json.dumps(signed.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        with self.sessions() as session:
            row = session.get(Clearance, record.clearance_id) or Clearance(id=record.clearance_id,
                                                                           project_id=record.project_id)
            row.head_hash, row.version, row.updated_at = signed.hash, signed.version, utcnow()
            session.add(row)
            if signed.revoked:
                session.add(ClearanceRevocation(clearance_id=signed.clearance_id, revoked_at=signed.revoked_at))
            audit(session, by, action, record.project_id, clearance=signed.clearance_id, version=signed.version,
                  record=signed.hash, reason=signed.revocation_reason or None)
            session.flush()  # the database refuses a head that moves backwards before the file changes
            atomic_write(path, lambda tmp: tmp.write_text(existing + line, encoding="utf-8"))
            session.commit()
        return signed

    def create(self, project_id: int, terms: ClearanceTerms, *, by: str) -> ClearanceRecord:
        clearance_id = f"clearance-{project_id}-{uuid.uuid4().hex[:8]}"
        return self._append(ClearanceRecord(clearance_id, project_id, 1, None, terms), by, "title cleared")

    def revoke(self, clearance_id: str, reason: str, *, by: str) -> ClearanceRecord:
        current = self.current(clearance_id)
        if current.revoked:
            return current
        return self._append(current.next(revoked_at=datetime.now(), revocation_reason=reason or "revoked"), by,
                            "title clearance revoked")

    def history(self, clearance_id: str) -> list[ClearanceRecord]:
        """Every version of the clearance, verified; TamperedClearanceError names the first fault."""
        path = self._history_path(clearance_id)
        with self.sessions() as session:
            row = session.get(Clearance, clearance_id)
            revocation = session.get(ClearanceRevocation, clearance_id)
        if row is None or not path.exists():
            raise RightsError(f"no title clearance '{clearance_id}' in this workbench")
        try:
            records = [ClearanceRecord.from_json(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
        except (ValueError, KeyError, TypeError) as error:
            raise TamperedClearanceError(f"title clearance '{clearance_id}': history is unreadable ({error})") from error
        previous = None
        for version, record in enumerate(records, start=1):
            where = f"title clearance '{clearance_id}', version {version}"
            if record.clearance_id != clearance_id or record.project_id != row.project_id:
                raise TamperedClearanceError(f"{where}: breaks the hash chain")
            self.seal.check_record(record, where, version, previous, TamperedClearanceError)
            if version > 1 and records[version - 2].revoked:
                raise TamperedClearanceError(f"{where}: follows its revocation, which is final")
            previous = record.hash
        if not records or records[-1].hash != row.head_hash:
            raise TamperedClearanceError(f"title clearance '{clearance_id}': history does not end at the registered "
                                         f"head (version {row.version}); records were removed or replaced")
        if revocation is not None and not records[-1].revoked:
            raise TamperedClearanceError(f"title clearance '{clearance_id}' was revoked on {revocation.revoked_at:%Y-%m-%d}"
                                         f", but its history no longer says so: the revocation was removed")
        return records

    def current(self, clearance_id: str) -> ClearanceRecord:
        return self.history(clearance_id)[-1]

    def clearance_ids(self, project_id: int) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(Clearance.id).where(Clearance.project_id == project_id)
                                        .order_by(Clearance.updated_at, Clearance.id)))
