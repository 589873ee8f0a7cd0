"""The workbench's seal: one Ed25519 key whose signatures the database alone cannot forge.

Consent records, clips, fits, QC verdicts and review decisions are signed with it over their
canonical JSON (RFC 8785); synthesis, approval, mixing and verification trust a row only when its
seal verifies. The key is a file only the service user can read (mode 0600). Its fingerprint is
pinned in the database the first time it is used (the pin can be neither changed nor removed) and
may be pinned in the settings too, so a key swapped on disk, with every record re-signed by it,
is refused.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .errors import TamperedError
from .store.models import KeyPin

KEY_FILE = "registry-ed25519.pem"
R = TypeVar("R")


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def digest(signature: str) -> str:
    """A short, stable name for a signed thing (what a later signature binds to)."""
    return hashlib.sha256(signature.encode()).hexdigest()


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key at `path`; made once, readable by its owner only (a key left readable by others is
    closed up). Two processes starting together agree on one key: the file is linked into place
    only if it is not there yet."""
    if path.exists() and path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        handle, temporary = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mode 0600
        try:
            os.write(handle, pem)
            os.close(handle)
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


class Seal:
    """Signs and checks the records mixing and verification rely on."""

    def __init__(self, folder: Path, sessions: sessionmaker[Session], pinned: str | None = None) -> None:
        self._key = _load_or_create_key(folder / KEY_FILE)
        self.public_key = self._key.public_key()
        self.fingerprint = fingerprint(self.public_key)
        self._check_pin(sessions, pinned)

    def _check_pin(self, sessions: sessionmaker[Session], pinned: str | None) -> None:
        if pinned and pinned != self.fingerprint:
            raise TamperedError(f"the workbench key is {self.fingerprint}, but the settings pin {pinned}: the key file "
                                f"was replaced; restore the original key")
        with sessions() as session:
            pin = session.get(KeyPin, "workbench")
            if pin is None:
                try:
                    session.add(KeyPin(name="workbench", fingerprint=self.fingerprint))
                    session.commit()
                    return
                except IntegrityError:  # another process pinned it first
                    session.rollback()
                    pin = session.get(KeyPin, "workbench")
        if pin.fingerprint != self.fingerprint:
            raise TamperedError(f"the workbench key is {self.fingerprint}, but the database pins {pin.fingerprint}: "
                                f"the key file was replaced; restore the original key")

    def sign_bytes(self, data: bytes) -> str:
        return base64.b64encode(self._key.sign(data)).decode()

    def verifies(self, data: bytes, signature: str | None) -> bool:
        try:
            self.public_key.verify(base64.b64decode(signature or ""), data)
            return True
        except (InvalidSignature, ValueError):
            return False

    def sign_record(self, record: R) -> R:
        """A history record (a voice's consent, a title's clearance) signed by this key over its canonical JSON."""
        signed = replace(record, signer=self.fingerprint)
        return replace(signed, signature=self.sign_bytes(signed.signed_content()))

    def check_record(self, record, where: str, version: int, previous: str | None,
                     error: type[Exception] = TamperedError) -> None:
        """`error` naming `where` unless the record is the `version`th of its history, follows `previous` and
        carries this key's signature over exactly what it says."""
        if record.version != version or record.previous != previous:
            raise error(f"{where}: breaks the hash chain")
        if record.signer != self.fingerprint:
            raise error(f"{where}: signed by an unknown key {record.signer}")
        if not self.verifies(record.signed_content(), record.signature):
            raise error(f"{where}: signature does not verify; the record was edited")

    def sign(self, kind: str, body: dict[str, Any]) -> str:
        """The seal of one record of `kind` (clip, fit, verdicts, decision)."""
        return self.sign_bytes(_canonical(kind, body))

    def check(self, kind: str, body: dict[str, Any], signature: str | None, what: str) -> None:
        """TamperedError naming `what` unless `signature` seals exactly `body`."""
        if not signature:
            raise TamperedError(f"{what} carries no seal: it was not made by dubdesk (or before seals existed)")
        if not self.verifies(_canonical(kind, body), signature):
            raise TamperedError(f"{what} does not match its seal: it was changed outside dubdesk")


def _canonical(kind: str, body: dict[str, Any]) -> bytes:
    """RFC 8785 JSON of the body as the database gives it back (tuples become lists)."""
    return rfc8785.dumps(json.loads(json.dumps({"kind": kind, **body})))
