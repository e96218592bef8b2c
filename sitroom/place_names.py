"""Place names as sources really write them -> a region, with the rule that matched.

In order: a source's `aliases` (杨凌: 610403), a GB/T 2260 code (411500, 411500.0, 9 or 12
digits), a historical code or name (sitroom/data/gbt2260_changes.csv: 长垣县 410728 ->
长垣市 410783), the gazetteer's names (full, short, pinyin, path). A bracketed note
(南阳（含邓州）, half- or full-width) is taken off first and kept: the rest must resolve
("pattern" when nothing else matched by the full text). A name that resolves nowhere
says so, with the nearest known name when there is one ("did you mean").
"""
from __future__ import annotations

import csv
import difflib
import functools
import io
import re
from dataclasses import dataclass
from importlib import resources

from .regions import AmbiguousRegion, Gazetteer, RegionError, UnknownRegion, _code, _key

CHANGES_FILE = "gbt2260_changes.csv"
_NOTE = re.compile(r"^(.+?)\s*[（(]([^（）()]*)[）)]\s*$")
# what may follow an alias in the raw name: 杨凌 also covers 杨凌示范区, 杨凌区
_ALIAS_TAIL = re.compile(r"^(?:示范区|新区|开发区|高新区|地区|区|市|县)?$")


@dataclass(frozen=True)
class Resolved:
    code: str
    rule: str                 # code | exact | short | pinyin | alias | historical | pattern
    note: str | None = None   # the bracketed note, as written
    detail: str | None = None  # e.g. the historical change


@dataclass(frozen=True)
class Change:
    old_code: str
    old_name: str
    code: str
    name: str
    year: str
    change: str


@functools.cache
def changes() -> tuple[Change, ...]:
    text = resources.files("sitroom").joinpath("data", CHANGES_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(l for l in text.splitlines(True) if not l.startswith("#"))))
    return tuple(Change(**r) for r in rows)


def split_note(text: str) -> tuple[str, str | None]:
    """'南阳（含邓州）' -> ('南阳', '含邓州'); a name without a note -> (name, None)."""
    m = _NOTE.match(text.strip())
    return (m.group(1).strip(), m.group(2).strip() or None) if m else (text.strip(), None)


def is_no_code(v) -> bool:
    """0, 0.0, '0', '' in a code column mean "no code": the name is used instead."""
    if v is None:
        return True
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v == 0
    s = str(v).strip()
    return not s or re.fullmatch(r"0+(\.0*)?", s) is not None


class PlaceNames:
    """One source's resolver: the gazetteer, the source's aliases and the historical changes."""

    def __init__(self, gaz: Gazetteer, aliases: dict[str, str] | None = None):
        self.gaz = gaz
        self.aliases: dict[str, str] = {}
        self.alias_errors: dict[str, str] = {}
        for name, target in (aliases or {}).items():
            try:
                self.aliases[_key(name)] = gaz.resolve(str(target))
            except RegionError as e:
                self.alias_errors[_key(name)] = f"alias {name}: {target} is not a region here ({e})"
        self._old_codes = {c.old_code: c for c in changes() if c.code in gaz.regions}
        self._old_names: dict[str, list[Change]] = {}
        for c in changes():
            if c.code in gaz.regions:
                self._old_names.setdefault(_key(c.old_name), []).append(c)
        self._near = None

    def resolve(self, text) -> Resolved:
        """The region for a raw place; raises RegionError with the reason (and a near name)."""
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        shown = str(text).strip()
        try:
            return self._resolve(shown)
        except UnknownRegion:
            pass
        base, note = split_note(shown)
        if note is not None:
            try:
                hit = self._resolve(base)
            except UnknownRegion:
                pass
            else:
                rule = "pattern" if hit.rule in ("code", *Gazetteer.NAME_RULES) else hit.rule
                return Resolved(hit.code, rule, note, hit.detail)
        raise UnknownRegion(f"unknown region '{shown}'" + self._did_you_mean(base))

    def _resolve(self, text: str) -> Resolved:
        key = _key(text)
        if key in self.alias_errors:
            raise RegionError(self.alias_errors[key])
        for alias, code in self.aliases.items():
            if key.startswith(alias) and _ALIAS_TAIL.match(key[len(alias):]):
                return Resolved(code, "alias", None, f"aliases: {alias}")
        code = _code("".join(text.split()))
        if code is not None and code not in self.gaz.regions and code in self._old_codes:
            c = self._old_codes[code]
            return Resolved(c.code, "historical", None, f"{c.old_code} {c.old_name} → {c.code} {c.name} ({c.year})")
        try:
            code, rule = self.gaz.resolve_rule(text)
            return Resolved(code, rule)
        except AmbiguousRegion:
            raise
        except UnknownRegion:
            olds = self._old_names.get(key)
            if not olds:
                raise
        targets = {c.code for c in olds}
        if len(targets) > 1:
            raise AmbiguousRegion(f"ambiguous region '{text}': a former name of " + ", ".join(
                f"{c.code} {c.name}" for c in olds), sorted(targets))
        c = olds[0]
        return Resolved(c.code, "historical", None, f"{c.old_name} {c.old_code} → {c.name} {c.code} ({c.year})")

    def _did_you_mean(self, text: str) -> str:
        if self._near is None:
            self._near = {}
            for name, code in self.gaz.names():
                self._near.setdefault(name, code)
            for c in changes():
                self._near.setdefault(c.old_name, c.code)
        got = difflib.get_close_matches(text, list(self._near), n=1, cutoff=0.6)
        if not got:
            return ""
        code = self._near[got[0]]
        return f"; did you mean {got[0]} ({code} {self.gaz.get(code).name})?" if code in self.gaz.regions else ""
