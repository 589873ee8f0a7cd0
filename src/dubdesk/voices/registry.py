"""The consent registry: voice profiles under `home/voices/`, each an append-only signed history.

Tamper evidence: every record is signed with the registry key and chained to the one before; the
database keeps each profile's head hash, so a truncated history (say, a revocation removed) is
caught too. Anything that does not verify is refused with the reason.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..errors import DubdeskError
from ..export.script_files import atomic_write
from ..ingest import decode_audio, sha256_file
from ..store.models import VoiceProfile, utcnow
from .records import ConsentTerms, ProfileRecord, Reference, StockVoice
from .references import check_reference

HISTORY = "history.jsonl"


class ConsentError(DubdeskError):
    """Synthesis in this voice is not allowed now; the message says why."""


class TamperedError(ConsentError):
    """A profile's records do not verify."""


def _load_or_create_key(folder: Path) -> Ed25519PrivateKey:
    path = folder / "registry-ed25519.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        atomic_write(path, lambda tmp: (tmp.write_bytes(pem), os.chmod(tmp, 0o600)))
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


class ConsentRegistry:
    def __init__(self, home: Path, sessions: sessionmaker[Session]) -> None:
        self.folder = home / "voices"
        self.sessions = sessions
        self._key = _load_or_create_key(home / "keys")
        self.public_key = self._key.public_key()
        self.signer = fingerprint(self.public_key)

    # writing ---------------------------------------------------------------------------------

    def _history_path(self, profile_id: str) -> Path:
        return self.folder / profile_id / HISTORY

    def _append(self, record: ProfileRecord) -> ProfileRecord:
        signed = replace(record, signer=self.signer)
        signed = replace(signed, signature=base64.b64encode(self._key.sign(signed.signed_content())).decode())
        path = self._history_path(record.profile_id)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        line = json.dumps(signed.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        with self.sessions() as session:
            row = session.get(VoiceProfile, record.profile_id) or VoiceProfile(id=record.profile_id)
            row.actor, row.stock, row.head_hash, row.version, row.updated_at = (
                signed.actor, signed.stock is not None, signed.hash, signed.version, utcnow())
            session.add(row)
            atomic_write(path, lambda tmp: tmp.write_text(existing + line, encoding="utf-8"))
            session.commit()
        return signed

    def _store_references(self, profile_id: str, files: list[Path], stock: bool) -> tuple[Reference, ...]:
        """Check every recording first (usable as a reference, see voices.references; a stock voice's need
        only decode), then copy them in."""
        check = decode_audio if stock else check_reference
        checked = [(Path(source), check(Path(source))) for source in files]
        folder = self.folder / profile_id / "references"
        folder.mkdir(parents=True, exist_ok=True)
        references = []
        for source, audio in checked:
            digest = sha256_file(source)
            target = folder / f"{digest[:16]}{source.suffix.lower()}"
            shutil.copyfile(source, target)
            references.append(Reference(target.name, digest, hashlib.sha256(audio.tobytes()).hexdigest(),
                                        round(len(audio) / 16000, 2)))
        return tuple(references)

    def create(self, actor: str, terms: ConsentTerms, references: list[Path] = (), stock: StockVoice | None = None,
               profile_id: str | None = None) -> ProfileRecord:
        profile_id = profile_id or f"{re.sub(r'[^a-z0-9]+', '-', actor.lower()).strip('-')[:24]}-{uuid.uuid4().hex[:6]}"
        if self._history_path(profile_id).exists():
            raise DubdeskError(f"voice profile '{profile_id}' exists already")
        references = self._store_references(profile_id, references, stock is not None)
        record = ProfileRecord(profile_id, 1, None, actor, terms, references, stock)
        return self._append(record)

    def update_terms(self, profile_id: str, terms: ConsentTerms) -> ProfileRecord:
        current = self.current(profile_id)
        if current.revoked:
            raise ConsentError(f"voice profile '{profile_id}' is revoked; create a new profile to give consent again")
        return self._append(current.next(terms=terms))

    def revoke(self, profile_id: str, reason: str) -> ProfileRecord:
        current = self.current(profile_id)
        if current.revoked:
            return current
        return self._append(current.next(revoked_at=datetime.now(), revocation_reason=reason or "revoked"))

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
            previous = record.hash
        if not records or records[-1].hash != row.head_hash:
            raise TamperedError(f"voice profile '{profile_id}': history does not end at the registered head "
                                f"(version {row.version}); records were removed or replaced")
        return records

    def _verify(self, record: ProfileRecord, profile_id: str, version: int, previous: str | None) -> None:
        where = f"voice profile '{profile_id}', version {version}"
        if record.profile_id != profile_id or record.version != version or record.previous != previous:
            raise TamperedError(f"{where}: breaks the hash chain")
        if record.signer != self.signer:
            raise TamperedError(f"{where}: signed by an unknown key {record.signer}")
        try:
            self.public_key.verify(base64.b64decode(record.signature), record.signed_content())
        except (InvalidSignature, ValueError) as error:
            raise TamperedError(f"{where}: signature does not verify; the record was edited") from error

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
