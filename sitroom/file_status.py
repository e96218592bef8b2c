"""What the loader processes run from the config files that change while they run (rules.yaml,
notify.yaml), and what is wrong with a file on disk if anything: one row per file in
`rules_status`, written by the loaders, read by the alerts page."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from .store import bump_version
from .store.db import utcnow
from .store.models import RulesStatus


def record(sessions: sessionmaker[Session], name: str, file: Path, problems: list[str], warnings: list[str],
           count: int, loaded_at: datetime | None, digest: str | None = None) -> None:
    """The running version (`count` items read at `loaded_at`) and the last check's problems."""
    with sessions.begin() as s:
        row = s.get(RulesStatus, name) or RulesStatus(name=name)
        row.file, row.ok, row.problems, row.warnings = str(file), not problems, problems, warnings
        row.digest, row.rules, row.loaded_at, row.checked_at = digest, count, loaded_at, utcnow()
        s.add(row)
        bump_version(s)


def status(session: Session, name: str) -> dict:
    """{"ok": True | False | None (no loader has reported), "problems": ["file: key: message", ...],
    "warnings": [...], "loaded_at": datetime (UTC) of the running version, "checked_at", "file": the
    file's name, "count": how many rules or targets run}.

    Paths are cut to the file's name: the page is no place for the server's layout.
    """
    row = session.get(RulesStatus, name)
    if row is None:
        return {"ok": None, "problems": [], "warnings": [], "loaded_at": None, "checked_at": None, "file": None,
                "count": 0}

    def on_screen(lines) -> list[str]:
        return [line.replace(row.file, Path(row.file).name) if row.file else line for line in lines or []]

    return {"ok": row.ok, "problems": on_screen(row.problems), "warnings": on_screen(row.warnings),
            "loaded_at": row.loaded_at, "checked_at": row.checked_at, "file": Path(row.file).name if row.file else None,
            "count": row.rules}
