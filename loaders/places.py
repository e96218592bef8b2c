"""A free-text place cut to the part that names a region: 郑州市金水区花园路12号院 -> 郑州市金水区.

A person's home address (a case's 现住址) may reach sitroom as a place; sitroom keeps no street,
number or building of it, anywhere — only the leading administrative units (省/市/区/县…).
"""
from __future__ import annotations

import re

from sitroom.regions import Gazetteer, RegionError

LONGEST = 40   # characters of a text tried as a region name: no region path is longer
# An administrative unit the gazetteer may not know (a misspelt or invented county): a few letters
# and an administrative suffix, none of a street's or building's words, no digits.
_STREET = "路街道巷弄胡同号楼栋座室院村组里"
_UNIT = re.compile(rf"[^\W\d_a-zA-Z{_STREET}]{{1,8}}?(?:特别行政区|自治区|自治州|自治县|自治旗|地区|林区|省|市|州|盟|区|县|旗)")
_STREET_WORDS = tuple(_STREET) + ("大道", "大街")
_NOT_UNITS = ("小区", "社区", "园区", "校区", "厂区", "景区", "片区")   # a residential compound is no region
CUT = "…"


def known_prefix(text: str, gaz: Gazetteer) -> tuple[str, str] | None:
    """(the longest leading part of `text` the gazetteer resolves, its code), or None."""
    s = text.strip()
    for n in range(min(len(s), LONGEST), 1, -1):
        try:
            return s[:n], gaz.resolve(s[:n])
        except RegionError:
            continue
    return None


def region_part(text: str, gaz: Gazetteer) -> str:
    """The leading part of a place that names regions, with … where the rest was cut."""
    s = text.strip()
    if s.isdigit() and len(s) <= 12:   # a region code, known or not: no address in it
        return s
    hit = known_prefix(s, gaz)
    kept = hit[0] if hit else ""
    for _ in range(4):                 # then units the gazetteer does not know (火星市…)
        m = _UNIT.match(s, len(kept))
        if not m or m.group().endswith(_NOT_UNITS) or s.startswith(_STREET_WORDS, m.end()):
            break   # 中州大道 is a road, not 中州
        kept = s[:m.end()]
    if not kept and len(s) <= 6 and not re.search(rf"[\d{_STREET}]", s):
        kept = s                       # a short word, no address: 不详, 外省
    return kept if kept == s else kept + CUT
