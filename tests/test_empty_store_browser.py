"""An empty store on the wall: it says there is no data; no region is drawn as zero and the
banner does not say "no warnings" (nothing could have been judged)."""
from __future__ import annotations

import pytest

import stack as stack_module
from stack import text

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = stack_module.Stack(tmp_path_factory.mktemp("empty"), backfill_days=0)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_store_says_it_has_no_data(wall, stack, lang):
    from dashboard.components.choropleth import NO_DATA
    duo, console, open_ = wall
    open_(f"/?lang={lang}")
    duo.wait_for_element("#alert-banner #no-data", timeout=20)
    said = text(duo, "#alert-banner")
    assert ("尚无数据" in said) if lang == "zh" else ("No data yet" in said), said
    assert "当前无预警" not in said and "No active warnings" not in said
    assert {text(duo, f"#kpi-{k}") for k in ("confirmed", "new_24h", "active", "suspected")} == {"—"}
    fills = duo.driver.execute_script(
        "return [...new Set([...document.querySelectorAll('#map path.region')].map(p => p.getAttribute('fill')))]")
    assert fills == [NO_DATA], fills
    console.assert_clean("on an empty store")
