"""Noticing that a config file changed while a process runs (rules.yaml, notify.yaml)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class FileWatch:
    """`changed()` is True once per change of the file's content (or its appearing or going).

    Each call costs a stat(); the file is read only when its mtime moved, and a new mtime with
    the same bytes (an editor's save without an edit, a touch) is no change.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._mtime = self._stat()
        self.digest = digest_of(self.path)

    def _stat(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def changed(self) -> bool:
        mtime = self._stat()
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        digest = digest_of(self.path)
        if digest == self.digest:
            return False
        self.digest = digest
        return True
