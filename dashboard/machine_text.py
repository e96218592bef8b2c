"""What the store and the API keep in English, said in the page's language through the catalog.

The loaders and the alert engine write plain English sentences: quarantine reasons, how a place
name resolved, the engine's trail notes and reasons, a source's error. They are the API's contract
and what rows stored long ago hold, so they stay as they are; each kind of sentence has a template
in the catalog (i18n.py, mt_*) whose English side is the sentence with its {named} parts. Here a
sentence is read back into its template and parts and said again from the template's other side.
Parts are values (quoted from a source, names, figures, codes) and stay as written, except field
words (fw_*) and nested sentences, which are said in the page's language too. A sentence no
template reads is shown as it was stored: nothing is lost.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .i18n import TEXT, t

# catalog entries that are pieces of a sentence, not whole sentences
_PIECES = {"mt_conflict_how", "mt_person_place", "mt_column", "mt_expected", "mt_field_prefixed"}
_COLUMN = re.compile(r" \(column ([^)]*)\)")   # as loaders/mapping.py names the columns at fault
_TOKEN = re.compile("\x01(\\d+)\x02")
_EXPECTED = "; expected one of "
SYSTEM = "system"   # sitroom.alerts.SYSTEM: the engine's own entries in the trail


@lru_cache(maxsize=1)
def _fields() -> dict[str, str]:
    """English field word -> its catalog key (fw_*)."""
    return {en: k for k, (_zh, en) in TEXT.items() if k.startswith("fw_")}


@lru_cache(maxsize=1)
def _templates() -> list[tuple[str, re.Pattern]]:
    """(catalog key, the regex that reads its English sentence), in the catalog's order."""
    words = "|".join(re.escape(w) for w in sorted(_fields(), key=len, reverse=True))
    out = []
    for key, (_zh, en) in TEXT.items():
        if not key.startswith("mt_") or key in _PIECES:
            continue
        parts = re.split(r"\{(\w+)\}", en)
        rx = "".join(re.escape(p) if i % 2 == 0 else
                      (f"(?P<field>{words})" if p == "field" else f"(?P<{p}>.*?)")
                      for i, p in enumerate(parts))
        out.append((key, re.compile(rx + r"\Z", re.S)))
    return out


def _read(sentence: str) -> tuple[str, dict] | None:
    for key, rx in _templates():
        m = rx.match(sentence)
        if m:
            return key, m.groupdict()
    return None


def reason_query(typed: str | None) -> str | None:
    """What a filter typed in Chinese looks for in the English stored: the words of the template (or
    field) whose Chinese holds them ('无法识别的地区' -> 'unknown region'); anything else as typed."""
    q = (typed or "").strip()
    if not re.search(r"[\u4e00-\u9fff]", q):
        return typed
    for key, (zh, en) in TEXT.items():
        if not key.startswith(("mt_", "fw_")) or key in _PIECES:
            continue
        if any(q in piece for piece in re.split(r"\{\w+\}", zh)):
            return max(re.split(r"\{\w+\}", en), key=len).strip()
    return typed


def field_word(word: str, lang: str) -> str:
    key = _fields().get(word.strip())
    return t(key, lang) if key else word


def reason(text, lang: str) -> str:
    """A quarantine reason (or a place name's resolution) in the page's language."""
    if lang == "en" or not isinstance(text, str):
        return text if isinstance(text, str) else str(text)
    said = _reason_zh(text, lang)
    return text if said is None else said


def _reason_zh(text: str, lang: str) -> str | None:
    cols: list[str] = []

    def token(m):
        cols.append(m.group(1))
        return f"\x01{len(cols) - 1}\x02"
    s = _COLUMN.sub(token, text)
    expected = ""
    i = s.rfind(_EXPECTED)
    if i >= 0 and not _TOKEN.search(s, i):
        expected = t("mt_expected", lang, list=s[i + len(_EXPECTED):])
        s = s[:i]
    tail = ""
    while (m := re.search("\x01\\d+\x02\\Z", s)):   # the columns named last: said last
        tail = m.group(0) + tail
        s = s[:m.start()]
    core = _sentence(s, lang)
    if core is None:
        return None
    out = core + tail + expected
    return _TOKEN.sub(lambda m: t("mt_column", lang, col=cols[int(m.group(1))]), out)


def _sentence(s: str, lang: str) -> str | None:
    hit = _read(s)
    if hit is None:
        # "confirmed text longer than 200 characters": a field word before a value's own reason
        for word in sorted(_fields(), key=len, reverse=True):
            if s.startswith(word + " "):
                inner = _sentence(s[len(word) + 1:], lang)
                if inner is not None:
                    return t("mt_field_prefixed", lang, field=field_word(word, lang), inner=inner)
        return None
    key, parts = hit
    if key == "mt_conflict":
        parts["parts"] = _conflict_parts(parts["parts"], lang)
    if "field" in parts:
        parts["field"] = field_word(parts["field"], lang)
    if "state" in parts and f"state_{parts['state']}" in TEXT:
        parts["state"] = t(f"state_{parts['state']}", lang)
    if parts.get("by") == SYSTEM:
        parts["by"] = t("by_system", lang)
    if "inner" in parts:
        parts["inner"] = _reason_zh(parts["inner"], lang) or parts["inner"]
    return t(key, lang, **parts)


def _conflict_parts(parts: str, lang: str) -> str:
    """'confirmed<col 0> 12 / 15; status<col 1> '1' / '2'' as loaders/poller.py lists the differences."""
    if parts == TEXT["mt_conflict_how"][1]:
        return t("mt_conflict_how", lang)
    out = []
    for part in parts.split("; "):
        m = re.match("(.*?)(\x01\\d+\x02) (.*)\\Z", part, re.S)
        if m is None:
            out.append(part)
            continue
        shown = m.group(3)
        if shown == TEXT["mt_person_place"][1]:
            shown = t("mt_person_place", lang)
        out.append(f"{field_word(m.group(1), lang)}{m.group(2)} {shown}")
    return t("list_sep", lang).join(out)


def trail_note(note: str | None, by: str | None, lang: str) -> str | None:
    """A trail entry's note: the engine's (by 'system') in the page's language, a person's as typed."""
    if not note or by != SYSTEM or lang == "en":
        return note
    hit = _read(note)
    if hit is None:
        return note
    key, parts = hit
    if key == "mt_level_change":
        parts = {k: t(f"level_{v}", lang) if f"level_{v}" in TEXT else v for k, v in parts.items()}
    return t(key, lang, **parts)


def actor(by: str | None, lang: str) -> str:
    """Who did it: a person's display name, or sitroom itself."""
    return t("by_system", lang) if by == SYSTEM else (by or "")


# The first line of a driver's error -> what it means (sqlite3, psycopg and SQLAlchemy words).
_SOURCE_ERRORS = (
    ("src_error_table", re.compile(r"no such table|relation .* does not exist|UndefinedTable", re.I)),
    ("src_error_column", re.compile(r"no such column|column .* does not exist|UndefinedColumn", re.I)),
    ("src_error_refused", re.compile(r"connection refused|could not connect|Connection reset", re.I)),
    ("src_error_timeout", re.compile(r"timed? ?out|timeout expired", re.I)),
    ("src_error_auth", re.compile(r"password authentication failed|authentication|permission denied", re.I)),
    ("src_error_locked", re.compile(r"database is locked", re.I)),
    ("src_error_open", re.compile(r"unable to open database|file is not a database|disk I/O error", re.I)),
)


def source_error(error: str | None, lang: str) -> tuple[str, str | None]:
    """(what the error means in the page's language, the driver's own words or None): a source's
    error is its system's text, shown as written after sitroom's words for it."""
    if not error:
        return "", None
    if lang == "en":
        return error, None
    hit = _read(re.sub(r"\A[A-Za-z_][\w.]*: ", "", error))   # 'SourceMissing: …': the exception's name first
    if hit is not None and hit[0] == "mt_source_missing":
        return t("src_error_missing", lang), hit[1]["path"]
    key = next((k for k, rx in _SOURCE_ERRORS if rx.search(error)), "src_error_other")
    return t(key, lang), error


_HTTP = re.compile(r"HTTP (\d{3})\b ?(.*)\Z", re.S)


def delivery_error(error: str | None, status: int | None, lang: str) -> tuple[str, str | None]:
    """(a notification's failure in the page's language, the target's or the network's own words or None)."""
    if not error:
        return (t("dl_http", lang, code=status), None) if status else ("", None)
    if lang == "en":
        return error, None
    m = _HTTP.match(error)
    if m:
        return t("dl_http", lang, code=m.group(1)), m.group(2) or None
    for key in ("dl_timeout", "dl_removed"):
        if error == TEXT[key][1]:
            return t(key, lang), None
    return t("dl_other", lang), error
