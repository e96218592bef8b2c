"""Wall devices and API tokens: long random secrets, stored only as their SHA-256.

A 32-byte random token needs no slow KDF (nothing to guess), and a hash lookup is one indexed
read per request.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitroom.store.db import utcnow

from .accounts import AccountError, _existing, check_name
from .models import Account, ApiToken, Login, Wall
from .roles import TOKEN_SCOPES

WALL_PREFIX, TOKEN_PREFIX = "w_", "st_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- browser logins
def start_login(s: Session, account_id: int) -> str:
    """A new login of the account; the nonce goes into the session cookie (only its digest is kept)."""
    nonce = secrets.token_urlsafe(32)
    s.add(Login(nonce_hash=digest(nonce), account_id=account_id, started_at=utcnow()))
    return nonce


def login_live(s: Session, nonce: str) -> bool:
    return s.scalar(select(Login.id).where(Login.nonce_hash == digest(nonce), Login.ended_at.is_(None))) is not None


def end_login(s: Session, nonce: str) -> None:
    login = s.scalar(select(Login).where(Login.nonce_hash == digest(nonce), Login.ended_at.is_(None)))
    if login is not None:
        login.ended_at = utcnow()


# ---------------------------------------------------------------- walls
def add_wall(s: Session, name: str, regions: list[str], layers: str | None) -> tuple[Wall, str]:
    """(wall, token): the token is shown once, in the wall's URL."""
    name = check_name(name)
    same = s.scalar(select(Wall).where(Wall.name == name))
    if same is not None and same.revoked_at is None:
        raise AccountError(f"wall '{name}' exists already (revoke it first for a new URL)")
    if same is not None:   # a revoked wall keeps its history under another name; the name is free again
        same.name = f"{name[:50]}~{same.id}"
        s.flush()
    token = _new(WALL_PREFIX)
    wall = Wall(name=name, token_hash=digest(token), regions=list(regions), layers=layers, created_at=utcnow())
    s.add(wall)
    s.flush()
    return wall, token


def revoke_wall(s: Session, name: str) -> Wall:
    wall = s.scalar(select(Wall).where(Wall.name == name, Wall.revoked_at.is_(None)))
    if wall is None:
        raise AccountError(f"no wall '{name}' in use")
    wall.revoked_at = utcnow()
    return wall


def walls(s: Session) -> list[Wall]:
    return list(s.scalars(select(Wall).order_by(Wall.revoked_at.is_not(None), Wall.name)))


def wall_by_token(s: Session, token: str) -> Wall | None:
    if not token.startswith(WALL_PREFIX):
        return None
    return s.scalar(select(Wall).where(Wall.token_hash == digest(token), Wall.revoked_at.is_(None)))


# ---------------------------------------------------------------- API tokens
def parse_duration(text: str | None) -> timedelta | None:
    """'30d', '12h', '90m' -> timedelta; None/'' -> no expiry."""
    if not text:
        return None
    m = re.fullmatch(r"(\d{1,5})([dhm])", text.strip())
    if not m:
        raise AccountError(f"--expires '{text}': write a number and d, h or m (e.g. 30d)")
    n, unit = int(m[1]), m[2]
    return timedelta(days=n) if unit == "d" else timedelta(hours=n) if unit == "h" else timedelta(minutes=n)


def create_token(s: Session, user: str, scope: str, expires: timedelta | None) -> tuple[ApiToken, str]:
    acc = _existing(s, user)
    if scope not in TOKEN_SCOPES:
        raise AccountError(f"scope must be one of {', '.join(TOKEN_SCOPES)}; got '{scope}'")
    token = _new(TOKEN_PREFIX)
    now = utcnow()
    row = ApiToken(token_hash=digest(token), prefix=token[:10], account_id=acc.id, scope=scope, created_at=now,
                   expires_at=now + expires if expires else None)
    s.add(row)
    s.flush()
    return row, token


def tokens(s: Session) -> list[tuple[ApiToken, Account]]:
    return [(t, a) for t, a in s.execute(select(ApiToken, Account).join(Account, Account.id == ApiToken.account_id)
                                         .order_by(ApiToken.created_at.desc()))]


def revoke_token(s: Session, token_id_or_prefix: str) -> ApiToken:
    q = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if token_id_or_prefix.isdigit():
        q = q.where(ApiToken.id == int(token_id_or_prefix))
    else:
        q = q.where(ApiToken.prefix == token_id_or_prefix[:10])
    found = list(s.scalars(q))
    if len(found) != 1:
        raise AccountError(f"no single token in use matches '{token_id_or_prefix}' (give its id from `tokens list`)")
    found[0].revoked_at = utcnow()
    return found[0]


def token_account(s: Session, token: str) -> tuple[ApiToken, Account] | None:
    """The token's row and account, when the token is valid now."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = s.execute(select(ApiToken, Account).join(Account, Account.id == ApiToken.account_id)
                    .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    tok, acc = row
    if acc.disabled or (tok.expires_at and tok.expires_at <= utcnow()):
        return None
    return tok, acc
