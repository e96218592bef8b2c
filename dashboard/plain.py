"""Text from sources and from people, where something would parse it as markup: always text.

Dash's html.* children and attributes are text already (React makes text nodes of them).
Two things on the pages parse markup instead:
- Leaflet sets a tooltip given as a string with innerHTML, so tooltips travel as data (`tip`)
  and assets/sitroom.js (`tipNode`) builds them from text nodes;
- plotly reads <b>, <br>, <a href>, <span style> ... in titles, legend names, tick labels,
  annotations and hover text, so such text goes through `plotly`.
"""
from __future__ import annotations

import html


def plotly(text) -> str:
    """Text plotly shows as typed: it turns &lt; &gt; &amp; back into the characters."""
    return html.escape(str(text), quote=False)


def tip(*lines) -> list[list[list[str]]]:
    """A tooltip as data: each line a list of parts, a part is text or (css class, text).
    JSON: [[[class, text], ...], ...]; sitroom.js puts each text in a span with textContent."""
    return [[["", str(p)] if isinstance(p, str) else [p[0], str(p[1])] for p in line] for line in lines]
