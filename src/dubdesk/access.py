"""Who may do what: users with hashed passwords and one role each, checked on the server.

Roles: localization (projects, review, approval, mixing; sees rights), rights_manager (title
clearances and input rights), voice_actor (their own voice profiles only), distributor (deliveries,
their disclosure and verification), admin (users). Every service call made for a
signed-in person goes through `require`, whatever the page shows or hides.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from .errors import DubdeskError
from .store.audit import audit
from .store.models import User

ROLES = ("localization", "rights_manager", "voice_actor", "distributor", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Checked when the name is unknown, so an unknown name costs the same scrypt as a known one.
_NOBODY = f"scrypt${'00' * 16}${'00' * 64}"
log = logging.getLogger(__name__)


class AccessDenied(DubdeskError):
    """A signed-in person reached for something their role does not allow."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex(), digest)


def add_user(sessions, name: str, password: str, role: str, actor: str = "dubdesk") -> User:
    """Add a user; the audit log names `actor`, the person who added them ('dubdesk' for the program's own set-up)."""
    name = name.strip()
    if role not in ROLES:
        raise DubdeskError(f"unknown role '{role}'; roles: {', '.join(ROLES)}")
    if not name or len(password) < 8:
        raise DubdeskError("a user needs a name and a password of at least 8 characters")
    with sessions() as session:
        if session.scalar(select(User).where(User.name == name)) is not None:
            raise DubdeskError(f"user '{name}' exists already")
        user = User(name=name, password_hash=hash_password(password), role=role)
        session.add(user)
        audit(session, actor, "added user", None, user=name, role=role)
        session.commit()
        return user


def authenticate(sessions, name: str, password: str) -> bool:
    """Whether the password is this user's; an unknown name takes as long, so names cannot be told by timing."""
    with sessions() as session:
        user = session.scalar(select(User).where(User.name == name))
    matches = password_matches(password, user.password_hash if user is not None else _NOBODY)
    return user is not None and matches


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Failed sign-ins counted per user name and per client address.

    After `free_tries` failures for a name (or `client_free_tries` from one address, which may try
    many names) that key is locked for `first_lock_s`, doubled with every further failure up to
    `max_lock_s`; while locked even the right password is refused. A success clears the name's count
    (not the address's, or an attacker with one account could reset it between guesses); failures
    older than `forget_after_s` are forgotten. Thread-safe: password checks run in a thread pool.
    """

    free_tries: int = 5
    client_free_tries: int = 20
    first_lock_s: float = 30.0
    max_lock_s: float = 3600.0
    forget_after_s: float = 3600.0
    _keys: dict[tuple[str, str], _Failures] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait_s(self, name: str, client: str) -> float:
        """Seconds until this name may try again from this address (0: now)."""
        now = time.monotonic()
        with self._lock:
            return max(0.0, *(self._keys.get(key, _Failures()).locked_until - now for key in self._pair(name, client)))

    def failed(self, name: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, free in zip(self._pair(name, client), (self.free_tries, self.client_free_tries), strict=True):
                failures = self._keys.setdefault(key, _Failures())
                if now - failures.last > self.forget_after_s:
                    failures.count = 0
                failures.count, failures.last = failures.count + 1, now
                if failures.count >= free:
                    lock_s = min(self.max_lock_s, self.first_lock_s * 2 ** (failures.count - free))
                    failures.locked_until = now + lock_s
                    log.warning("sign-in locked for %.0f s: %s %r after %d failures", lock_s, *key, failures.count)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._keys.pop(("name", name.casefold()), None)

    @staticmethod
    def _pair(name: str, client: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("name", name.casefold()), ("client", client)


def sign_in(sessions, throttle: LoginThrottle, name: str, password: str, client: str) -> bool:
    """A password check that the throttle may refuse before it looks (slow: run it off the event loop)."""
    if throttle.wait_s(name, client) > 0:
        return False
    if authenticate(sessions, name, password):
        throttle.succeeded(name)
        return True
    throttle.failed(name, client)
    return False


def user(sessions, name: str | None) -> User:
    with sessions() as session:
        found = session.scalar(select(User).where(User.name == (name or "")))
    if found is None:
        raise AccessDenied("not signed in")
    return found


def users(sessions) -> list[User]:
    with sessions() as session:
        return list(session.scalars(select(User).order_by(User.name)))


def require(person: User, *roles: str) -> User:
    """The person, if their role is one of `roles` (admin is not a superuser: it manages users)."""
    if person.role not in roles:
        raise AccessDenied(f"{person.name} ({person.role}) may not do this; it needs the role {' or '.join(roles)}")
    return person
