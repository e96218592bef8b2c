"""Accounts: add, list, disable, reset, and the password check with its lockout.

Passwords are hashed with Argon2id (argon2-cffi, its RFC 9106 low-memory profile). A lockout is
counted from the audit log itself (failed logins of the account / from an address), so every
server process agrees on it without a counter of its own.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitroom.store.db import utcnow
from sitroom.validate import TextError, person_text

from . import audit
from .models import Account
from .roles import ROLES

HASHER = PasswordHasher()
MIN_PASSWORD = 10
_DUMMY_HASH = HASHER.hash("not a password of anyone")  # same work for an unknown name: no timing oracle


class AccountError(ValueError):
    """A refused change, with the reason a person can act on."""


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() or not c.isprintable() for c in name):
        raise AccountError(f"account name '{name}' must be 1 to 64 characters without spaces")
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def get(s: Session, name: str) -> Account | None:
    return s.scalar(select(Account).where(Account.name == name))


def add(s: Session, name: str, role: str, regions: list[str], password: str | None,
        display: str | None = None) -> Account:
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}; got '{role}'")
    if get(s, name) is not None:
        raise AccountError(f"account '{name}' exists already")
    now = utcnow()
    try:   # the name written on every action: checked like any person's text (no markup tricks, not "system")
        display = person_text("by", display or name)
    except TextError as e:
        raise AccountError(f"--display: {e}") from None
    acc = Account(name=name, display=display, role=role, regions=list(regions),
                  password_hash=HASHER.hash(check_password(password)) if password is not None else None,
                  disabled=False, created_at=now, credentials_at=now)
    s.add(acc)
    s.flush()
    return acc


def listing(s: Session) -> list[Account]:
    return list(s.scalars(select(Account).order_by(Account.name)))


def _existing(s: Session, name: str) -> Account:
    acc = get(s, name)
    if acc is None:
        raise AccountError(f"no account '{name}'")
    return acc


def disable(s: Session, name: str) -> Account:
    acc = _existing(s, name)
    acc.disabled, acc.credentials_at = True, utcnow()   # its open sessions end with it
    return acc


def reset(s: Session, name: str, password: str) -> Account:
    """A new password (and enabled again); sessions opened with the old one end."""
    acc = _existing(s, name)
    acc.password_hash, acc.disabled, acc.credentials_at = HASHER.hash(check_password(password)), False, utcnow()
    return acc


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    reason: str | None = None              # bad | locked | throttled | disabled
    locked_until: datetime | None = None


def authenticate(s: Session, name: str, password: str, address: str | None, cfg) -> LoginResult:
    """Check a password, honouring the lockout; records the attempt in the audit log."""
    now = utcnow()
    name = (name or "").strip()[:64]
    if audit.count(s, "login_failed", now - timedelta(minutes=1), address=address) >= cfg.ip_failures_per_minute:
        audit.record(s, "login_failed", name, ok=False, address=address, detail="throttled")
        return LoginResult(None, "throttled")
    window = now - timedelta(minutes=cfg.lockout_minutes)
    if audit.count(s, "login_failed", window, actor=name) >= cfg.lockout_failures:
        until = audit.last_at(s, "login_failed", name) + timedelta(minutes=cfg.lockout_minutes)
        audit.record(s, "login_failed", name, ok=False, address=address, detail="locked")
        return LoginResult(None, "locked", until)
    acc = get(s, name) if name else None
    try:
        ok = HASHER.verify(acc.password_hash if acc and acc.password_hash else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or acc is None or acc.password_hash is None:
        audit.record(s, "login_failed", name, ok=False, address=address, detail="bad password or name")
        return LoginResult(None, "bad")
    if acc.disabled:
        audit.record(s, "login_failed", name, ok=False, address=address, detail="disabled")
        return LoginResult(None, "disabled")
    if HASHER.check_needs_rehash(acc.password_hash):
        acc.password_hash = HASHER.hash(password)
    audit.record(s, "login", name, address=address)
    return LoginResult(acc)
