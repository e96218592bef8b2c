"""Callback arguments as the pages expect them, whatever a request sends.

Every Input and State of a Dash callback comes from the browser, so it is as untrusted as a
query argument: a value no page of ours would send (a language 'fr', an alert id of 10^30, a
number where a list belongs) falls back to the default here instead of failing in the callback.
"""
from __future__ import annotations

import re

from sitroom.validate import record_id

from .i18n import LANGS


def lang_arg(value, default: str = "zh") -> str:
    return value if value in LANGS else (default if default in LANGS else "zh")


def choice(value, options, default):
    return value if isinstance(value, str) and value in options else default


def id_arg(value) -> int | None:
    """A store row id, or None for anything else (nothing selected)."""
    try:
        return record_id(value)
    except ValueError:
        return None


def text_arg(value, limit: int = 200) -> str:
    """Text typed into a filter: '' for a non-string, cut to `limit`, no control characters."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value[:limit] if c.isprintable() or c == " ").strip()


def str_list(value, allowed=None) -> list[str]:
    """A checklist's value: the strings in it (only the allowed ones, when given)."""
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and (allowed is None or v in allowed)]


def version_arg(value) -> str | None:
    """A pushed data version key ("<version>.<day>"), or None for anything else: it is echoed into a
    store, and a JSON number past 64 bits cannot be answered."""
    return value if isinstance(value, str) and re.fullmatch(r"\d{1,20}(\.\d{1,12})?", value) else None


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}
