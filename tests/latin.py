"""Latin-script words in text meant for the Chinese UI, outside proper names and codes."""
from __future__ import annotations

import re

# Proper names, codes and units a Chinese screen writes in Latin letters (method and standard names,
# formats, config files and keys, datums); anything else in Latin letters is English that leaked.
ALLOWED = {
    "sitroom", "EWMA", "EARS", "C1", "C2", "C3", "ESSENCE", "Rt", "CSV", "PNG", "API", "UTC", "CDC", "Cori",
    "UTF-8", "NUL", "Unicode", "HTTP", "GCJ-02", "gcj02", "wgs84", "WGS84", "p", "English", "Leaflet", "YYYY-MM-DD", "km", "kB",
    "rules.yaml", "notify.yaml", "dashboard.yaml", "sources.yaml", "regions.yaml", "for_minutes", "counties",
    "buckets", "aliases", "separate", "included", "risk_areas",
}
# a word: Latin letters (ASCII and the Latin supplements) with the digits, dots, dashes and
# underscores a code or a file name holds
WORD = re.compile(r"(?<![A-Za-z0-9_.\-])[A-Za-z\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f_.\-]*")


def latin_words(text: str, allowed=frozenset()) -> list[str]:
    """The words of `text` in Latin script that are not on the allow-lists (a trailing dot is punctuation)."""
    ok = ALLOWED | set(allowed)
    return [w for w in (m.group(0).rstrip(".-") for m in WORD.finditer(text)) if w and w not in ok]
