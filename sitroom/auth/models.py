"""Store tables of access control: accounts, wall devices, API tokens, the audit log, the app's secret.

Tokens and passwords are stored hashed only. The audit log is append-only (the migration adds
triggers that refuse UPDATE and DELETE on both SQLite and PostgreSQL).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sitroom.store.models import Base

ID = BigInteger().with_variant(Integer, "sqlite")


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)        # the login name
    display: Mapped[str] = mapped_column(String(100))                 # shown as the actor of an action
    role: Mapped[str] = mapped_column(String(16))                     # wall | leader | officer | admin
    regions: Mapped[list] = mapped_column(JSON, default=list)         # region codes; [] = every region
    password_hash: Mapped[str | None] = mapped_column(String(200))    # None: single sign-on only
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # bumped by a reset or a disable: a session made before it is no longer valid
    credentials_at: Mapped[datetime] = mapped_column(DateTime)


class Wall(Base):
    """A wall display as a device: logged in by the long random token in its URL."""
    __tablename__ = "walls"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    regions: Mapped[list] = mapped_column(JSON, default=list)
    layers: Mapped[str | None] = mapped_column(String(200))           # the wall's ?layers=
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_address: Mapped[str | None] = mapped_column(String(64))


class Login(Base):
    """One browser's login: its session cookie names it (by a random nonce, stored hashed), so that a
    logout, an idle end or a reset ends that session on the server, not only in that browser."""
    __tablename__ = "logins"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))                   # shown in lists to tell tokens apart
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    scope: Mapped[str] = mapped_column(String(8))                     # read | act
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(64))     # account or wall name; None: unknown
    action: Mapped[str] = mapped_column(String(32))           # login, login_failed, alert.ack, user.add ...
    target: Mapped[str | None] = mapped_column(String(200))   # what it was done to (alert 12, user zhang)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    address: Mapped[str | None] = mapped_column(String(64))   # where from (client address; "cli")
    detail: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor_action_at", "actor", "action", "at"),
                      Index("ix_audit_log_address_action_at", "address", "action", "at"))


class AppSecret(Base):
    """The key that signs session cookies: one per store, so every server and every restart agree."""
    __tablename__ = "app_secrets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
