"""Roles and what each may do. A route or callback names the capability it needs (dashboard/access.py)."""
from __future__ import annotations

CAPABILITIES = ("view", "export", "act", "admin")
# wall: read-only screens; leader: read and export; officer: the alert actions; admin: users,
# tokens, walls, sources resync, quarantine, audit. Each role can do what the ones before it can.
ROLES = {
    "wall": ("view",),
    "leader": ("view", "export"),
    "officer": ("view", "export", "act"),
    "admin": ("view", "export", "act", "admin"),
}
TOKEN_SCOPES = {"read": ("view", "export"), "act": ("view", "export", "act")}


def capabilities(role: str, token_scope: str | None = None) -> frozenset[str]:
    caps = frozenset(ROLES.get(role, ()))
    return caps & frozenset(TOKEN_SCOPES[token_scope]) if token_scope else caps
