"""The key that signs session cookies, kept in the store: the same for every server and restart."""
from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from .models import AppSecret


def session_key(sessions: sessionmaker) -> str:
    with sessions() as s:
        found = s.get(AppSecret, "session")
        if found:
            return found.value
    try:
        with sessions.begin() as s:
            s.add(AppSecret(name="session", value=secrets.token_hex(32)))
    except IntegrityError:  # another server made it first: use theirs
        pass
    with sessions() as s:
        return s.get(AppSecret, "session").value
