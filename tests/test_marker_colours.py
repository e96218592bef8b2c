"""The map's marker layers never borrow the warning levels' colours (nor the cases' oranges): a red
clinic must not read as a level-I warning. Distances in RGB; 60 is clearly another colour."""
from __future__ import annotations

import pytest

from dashboard.components import choropleth, map_layers as ml
from sitroom.config import LEVEL_COLOURS


def _rgb(h: str) -> tuple[int, int, int]:
    h = h.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def _far(a: str, b: str) -> bool:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b))) ** 0.5 >= 60


MARKERS = ([c for _hi, c, _k in ml.LOAD_CLASSES] + [c for _hi, c in ml.COVER_CLASSES]
           + [ml.INFLOW_PLAIN, ml.INFLOW_RISK])


@pytest.mark.parametrize("colour", MARKERS)
def test_marker_colours_are_not_warning_or_case_colours(colour):
    for level, warning in LEVEL_COLOURS.items():
        assert _far(colour, warning), f"{colour} looks like the level {level} colour {warning}"
    for case in choropleth.COLOURS[2:]:   # the oranges of the case choropleth
        assert _far(colour, case), f"{colour} looks like the case colour {case}"
