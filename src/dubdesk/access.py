"""Who may do what: users with hashed passwords and one role each, checked on the server.

Roles: localization (projects, review, approval, mixing), voice_actor (their own voice profiles
only), distributor (deliveries and verification), admin (users). Every service call made for a
signed-in person goes through `require`, whatever the page shows or hides.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from .errors import DubdeskError
from .store.models import User

ROLES = ("localization", "voice_actor", "distributor", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccessDenied(DubdeskError):
    """A signed-in person reached for something their role does not allow."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex(), digest)


def add_user(sessions, name: str, password: str, role: str) -> User:
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
        session.commit()
        return user


def authenticate(sessions, name: str, password: str) -> bool:
    with sessions() as session:
        user = session.scalar(select(User).where(User.name == name))
    return user is not None and password_matches(password, user.password_hash)


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
