"""The consent registry: voice profiles under `home/voices/`, each an append-only signed history.

Tamper evidence: every record is signed with the registry key and chained to the one before; the
database keeps each profile's head hash, so a truncated history (say, a revocation removed) is
caught too. Anything that does not verify is refused with the reason.

A revocation is final: no record may follow it, a revocation row that can be neither changed nor
removed catches a history that lost it, and its reference recordings (by decoded-PCM hash) cannot
back a new profile. The key is the workbench's seal, pinned outside the key file (see seal.py).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import errors
from ..audio import RATE, decode_audio
from ..errors import DubdeskError
from ..files import atomic_write, sha256_file
from ..seal import Seal
from ..store.audit import audit
from ..store.models import Revocation, VoiceProfile, utcnow
from .records import ConsentTerms, ProfileRecord, Reference, StockVoice
from .references import check_reference

HISTORY = "history.jsonl"


class ConsentError(DubdeskError):
    """Synthesis in this voice is not allowed now; the message says why."""


class TamperedError(ConsentError, errors.TamperedError):
    """A profile's records do not verify."""


class ConsentRegistry:
    def __init__(self, home: Path, sessions: sessionmaker[Session], seal: Seal) -> None:
        self.folder = home / "voices"
        self.sessions = sessions
        self.seal = seal
        self.signer = seal.fingerprint

    # writing ---------------------------------------------------------------------------------

    def _history_path(self, profile_id: str) -> Path:
        return self.folder / profile_id / HISTORY

    def _append(self, record: ProfileRecord, by: str, action: str) -> ProfileRecord:
        """Sign `record` and make it the profile's head, audited in `by`'s name. Nothing follows a
        revocation: it is final."""
        if record.previous is not None and self.current(record.profile_id).revoked:
            raise ConsentError(f"voice profile '{record.profile_id}' is revoked; a revocation is final")
        signed = self.seal.sign_record(record)
        path = self._history_path(record.profile_id)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        line = json.dumps(signed.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        with self.sessions() as session:
            row = session.get(VoiceProfile, record.profile_id) or VoiceProfile(id=record.profile_id)
            row.actor, row.stock, row.head_hash, row.version, row.updated_at = (
                signed.actor, signed.stock is not None, signed.hash, signed.version, utcnow())
            session.add(row)
            if signed.revoked:
                session.add(Revocation(profile_id=signed.profile_id, revoked_at=signed.revoked_at,
                                       pcm_sha256=[r.pcm_sha256 for r in signed.references]))
            audit(session, by, action, None, voice_profile=signed.profile_id, version=signed.version,
                  record=signed.hash, reason=signed.revocation_reason or None)
            session.flush()  # the database refuses a head that moves backwards before the file changes
            atomic_write(path, lambda tmp: tmp.write_text(existing + line, encoding="utf-8"))
            session.commit()
        return signed

    def _store_references(self, profile_id: str, files: list[Path], stock: bool) -> tuple[Reference, ...]:
        """Check every recording first (usable as a reference, see voices.references; a stock voice's need
        only decode; no revoked voice may come back through one), then copy them in."""
        check = decode_audio if stock else check_reference
        checked = [(Path(source), check(Path(source))) for source in files]
        self._refuse_revoked_recordings([(source, _pcm_sha256(audio)) for source, audio in checked])
        folder = self.folder / profile_id / "references"
        folder.mkdir(parents=True, exist_ok=True)
        references = []
        for source, audio in checked:
            digest = sha256_file(source)
            target = folder / f"{digest[:16]}{source.suffix.lower()}"
            shutil.copyfile(source, target)
            references.append(Reference(target.name, digest, _pcm_sha256(audio), round(len(audio) / RATE, 2)))
        return tuple(references)

    def _refuse_revoked_recordings(self, recordings: list[tuple[Path, str]]) -> None:
        with self.sessions() as session:
            revoked = {pcm: row.profile_id for row in session.scalars(select(Revocation)) for pcm in row.pcm_sha256}
        for source, pcm in recordings:
            if pcm in revoked:
                raise ConsentError(f"{source.name}: this recording backed voice profile '{revoked[pcm]}', whose consent "
                                   f"was revoked; a revoked voice cannot be registered again")

    def create(self, actor: str, terms: ConsentTerms, references: list[Path] = (), stock: StockVoice | None = None,
               profile_id: str | None = None, *, by: str) -> ProfileRecord:
        profile_id = profile_id or f"{re.sub(r'[^a-z0-9]+', '-', actor.lower()).strip('-')[:24]}-{uuid.uuid4().hex[:6]}"
        if self._history_path(profile_id).exists():
            raise DubdeskError(f"voice profile '{profile_id}' exists already")
        references = self._store_references(profile_id, references, stock is not None)
        record = ProfileRecord(profile_id, 1, None, actor, terms, references, stock)
        return self._append(record, by, "consent given")

    def update_terms(self, profile_id: str, terms: ConsentTerms, *, by: str) -> ProfileRecord:
        current = self.current(profile_id)
        if current.revoked:
            raise ConsentError(f"voice profile '{profile_id}' is revoked; create a new profile to give consent again")
        return self._append(current.next(terms=terms), by, "consent terms changed")

    def revoke(self, profile_id: str, reason: str, *, by: str) -> ProfileRecord:
        current = self.current(profile_id)
        if current.revoked:
            return current
        return self._append(current.next(revoked_at=datetime.now(), revocation_reason=reason or "revoked"), by,
                            "consent revoked")

    # reading ---------------------------------------------------------------------------------

    def history(self, profile_id: str) -> list[ProfileRecord]:
        """Every version of the profile, verified; TamperedError names the first fault."""
        path = self._history_path(profile_id)
        with self.sessions() as session:
            row = session.get(VoiceProfile, profile_id)
        if row is None or not path.exists():
            raise ConsentError(f"no voice profile '{profile_id}' in the registry")
        try:
            records = [ProfileRecord.from_json(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
        except (ValueError, KeyError, TypeError) as error:
            raise TamperedError(f"voice profile '{profile_id}': history is unreadable ({error})") from error
        previous = None
        for index, record in enumerate(records, start=1):
            self._verify(record, profile_id, index, previous)
            if index > 1 and records[index - 2].revoked:
                raise TamperedError(f"voice profile '{profile_id}', version {index}: follows its revocation, which is final")
            previous = record.hash
        if not records or records[-1].hash != row.head_hash:
            raise TamperedError(f"voice profile '{profile_id}': history does not end at the registered head "
                                f"(version {row.version}); records were removed or replaced")
        self._check_revocation_kept(profile_id, records[-1])
        return records

    def _check_revocation_kept(self, profile_id: str, head: ProfileRecord) -> None:
        with self.sessions() as session:
            revocation = session.get(Revocation, profile_id)
        if revocation is not None and not head.revoked:
            raise TamperedError(f"voice profile '{profile_id}' was revoked on {revocation.revoked_at:%Y-%m-%d}, but its "
                                f"history no longer says so: the revocation was removed")

    def _verify(self, record: ProfileRecord, profile_id: str, version: int, previous: str | None) -> None:
        where = f"voice profile '{profile_id}', version {version}"
        if record.profile_id != profile_id:
            raise TamperedError(f"{where}: breaks the hash chain")
        self.seal.check_record(record, where, version, previous, TamperedError)

    def current(self, profile_id: str) -> ProfileRecord:
        return self.history(profile_id)[-1]

    def profile_ids(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(VoiceProfile.id).order_by(VoiceProfile.id)))

    def verify_references(self, record: ProfileRecord) -> None:
        """The reference files still hold the audio the record names."""
        for reference in record.references:
            path = self.folder / record.profile_id / "references" / reference.file
            if not path.exists() or sha256_file(path) != reference.sha256:
                raise TamperedError(f"voice profile '{record.profile_id}': reference {reference.file} is missing or changed")

    def reference_paths(self, record: ProfileRecord) -> list[Path]:
        return [self.folder / record.profile_id / "references" / r.file for r in record.references]


def _pcm_sha256(audio) -> str:
    """The hash of the decoded audio: the same recording re-wrapped or renamed has the same one."""
    return hashlib.sha256(audio.tobytes()).hexdigest()
