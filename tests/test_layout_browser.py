"""Every page at every screen size its users have, in one headless Chromium resized in turn.

Asserted from bounding boxes and computed styles, as a person would see it: the map keeps its
room (≥ 45 % of the height on a wall, never under 360 px), nothing lies over anything else
(banner, status line, legends, map, KPI tiles, nav), nothing scrolls sideways, labels and links
are not broken one character per line, and the wall's text grows with the screen.
"""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

SIZES = [(3840, 2160), (2560, 1440), (1920, 1080), (1366, 768), (1280, 800), (1024, 768), (768, 1024)]
WALLS = {(3840, 2160), (2560, 1440), (1920, 1080)}   # video walls: one screen, map ≥ 45 % of its height
LUOYANG = "410300"

# Boxes of what must never overlap: (selector, name); every element matching is one box.
WALL_BOXES = [("#stale-banner", "status line"), ("#alert-banner .alert-row", "alert row"), ("#alert-banner .alert-foot", "banner foot"),
              ("#legend", "case legend"), ("#layer-legends", "layer legends"), ("#map", "map"), (".map-tools", "map tools"),
              (".kpi", "KPI tile"), (".kpi-note", "KPI note"), (".trend", "trend"), (".wall-header h1", "title"),
              (".nav-link", "nav link"), (".as-of-box", "as of"), (".ack-name", "name box"), (".sound-toggle", "sound")]
DESK_BOXES = [(".page-header h1", "title"), (".nav-link", "nav link"), ("#alert-banner .alert-row", "alert row"),
              (".ack-name", "name box"), (".sound-toggle", "sound")]
# Text that must stay on one line (a link, a tile's figure) or at most two (a tile's label).
ONE_LINE = [".nav-link", ".kpi-value", ".layer-picker label", ".metric-picker label", ".legend-row"]
TWO_LINES = [".kpi-label"]

MEASURE = """
const [boxSpecs, oneLine, twoLines] = arguments;
const vis = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
                   return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
const boxes = [];
for (const [sel, name] of boxSpecs) {
  document.querySelectorAll(sel).forEach((e, i) => { if (vis(e)) {
    const r = e.getBoundingClientRect();
    boxes.push({name: name + (i ? ' ' + (i + 1) : ''), el: e, r: [r.left, r.top, r.right, r.bottom]}); } });
}
const overlaps = [];
for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
  const a = boxes[i], b = boxes[j];
  if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
  const w = Math.min(a.r[2], b.r[2]) - Math.max(a.r[0], b.r[0]), h = Math.min(a.r[3], b.r[3]) - Math.max(a.r[1], b.r[1]);
  if (w > 1 && h > 1) overlaps.push(a.name + ' / ' + b.name + ' (' + Math.round(w) + 'x' + Math.round(h) + ' px)');
}
const broken = [];
for (const [sels, most] of [[oneLine, 1], [twoLines, 2]]) for (const sel of sels)
  document.querySelectorAll(sel).forEach(e => { if (vis(e)) {
    // lines of its text: the text's boxes, those whose middles are within half a font size being one line
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT); const mids = [];
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      const range = document.createRange(); range.selectNodeContents(t);
      for (const r of range.getClientRects()) if (r.width > 0) mids.push((r.top + r.bottom) / 2); }
    const tol = parseFloat(getComputedStyle(e).fontSize) / 2; const rows = [];
    for (const m of mids.sort((a, b) => a - b)) if (!rows.length || m - rows[rows.length - 1] > tol) rows.push(m);
    const n = rows.length;
    if (n > most) broken.push(sel + ' "' + e.innerText.slice(0, 20) + '" on ' + n + ' lines'); } });
const outside = boxes.filter(b => b.r[2] > window.innerWidth + 1 || b.r[0] < -1).map(b => b.name);
const map = document.querySelector('#map');
const kpi = document.querySelector('.kpi-value');
return {overlaps, broken, outside,
        scroll: document.documentElement.scrollWidth - window.innerWidth,
        map: map ? map.getBoundingClientRect().height : null,
        kpiFont: kpi ? parseFloat(getComputedStyle(kpi).fontSize) : null,
        alertFont: (e => e ? parseFloat(getComputedStyle(e).fontSize) : null)(document.querySelector('#alert-banner .alert-row')),
        vh: window.innerHeight};
"""


@pytest.fixture(scope="module")
def fired(stack):
    """A level-I warning on the banner: the banner the legend used to lie over."""
    stack.sim.add_cases(LUOYANG, 320)
    stack.wait_for(lambda: stack.alert_for(LUOYANG), 20, "the Luoyang alert")


def _resize(duo, w: int, h: int) -> None:
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})


def _problems(m: dict, size: tuple[int, int], wall: bool) -> list[str]:
    w, h = size
    out = [f"overlap: {o}" for o in m["overlaps"]] + [f"broken: {b}" for b in m["broken"]]
    out += [f"outside the screen: {o}" for o in m["outside"]]
    if m["scroll"] > 0:
        out.append(f"scrolls sideways by {m['scroll']} px")
    if wall:
        least = max(360, 0.45 * h) if size in WALLS else 360
        if m["map"] is None or m["map"] < least - 0.5:
            out.append(f"map {m['map']} px high, less than {least:.0f}")
    return out


def _check(duo, stack, path: str, boxes: list, wall: bool) -> dict[tuple, dict]:
    """Every size: wait until the page has settled into a layout without problems, or report them."""
    seen = {}
    for size in SIZES:
        _resize(duo, *size)
        last = {}

        def settled():
            last.update(duo.driver.execute_script(MEASURE, boxes, ONE_LINE, TWO_LINES))
            return not _problems(last, size, wall)
        try:
            stack.wait_for(settled, 6, f"{path} to lay out at {size}", every=0.25)
        except AssertionError:
            duo.driver.save_screenshot(str(stack.data_dir.parent / f"layout-fail-{size[0]}x{size[1]}.png"))
            pytest.fail(f"{path} at {size[0]}x{size[1]}:\n  " + "\n  ".join(_problems(last, size, wall)), pytrace=False)
        seen[size] = dict(last)
    return seen


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wall_at_every_size(wall, stack, fired, lang):
    duo, console, open_ = wall
    open_(f"/?lang={lang}")
    duo.wait_for_element(f'#alert-banner .alert-row[data-region="{LUOYANG}"]', timeout=20)
    seen = _check(duo, stack, f"/?lang={lang}", WALL_BOXES, wall=True)
    # text grows with the screen: the KPI figure at 4K is at least 1.8x its size at 1080p
    k4, k1080 = seen[(3840, 2160)]["kpiFont"], seen[(1920, 1080)]["kpiFont"]
    assert k4 >= 1.8 * k1080, (k4, k1080)
    assert seen[(3840, 2160)]["alertFont"] >= 1.8 * seen[(1920, 1080)]["alertFont"]
    assert seen[(2560, 1440)]["kpiFont"] > k1080
    # and the trend's text with it (plotly draws it, so its figure is told the wall's unit)
    _resize(duo, 3840, 2160)
    stack.wait_for(lambda: duo.driver.execute_script(
        "const g = document.querySelector('#trend .js-plotly-plot'); return g && g.layout.font.size") >= 1.8 * 16,
        10, "the trend's text to grow at 4K")
    console.assert_clean(f"after every size ({lang})")


@pytest.mark.parametrize("path", ["/alerts", "/sources", "/trends"])
def test_desk_pages_at_every_size(wall, stack, fired, path):
    duo, console, _ = wall
    duo.driver.get(stack.url + path)
    duo.wait_for_element("#alert-banner .alert-row", timeout=20)
    duo.wait_for_element("#al-queue table, #sources-table table, #tr-table-el", timeout=20)
    _check(duo, stack, path, DESK_BOXES, wall=False)
    duo.driver.get(stack.url + path + "?lang=en")
    duo.wait_for_element("#alert-banner .alert-row", timeout=20)
    time.sleep(0.5)
    _check(duo, stack, path + "?lang=en", DESK_BOXES, wall=False)
    console.assert_clean(f"after every size of {path}")


FLASH = """
const row = document.querySelector(arguments[0]); const loud = arguments[1];
if (loud) row.classList.add('escalated');   // the same row as an escalated warning draws it (CSS only)
const seen = [];
const until = performance.now() + (loud ? 1200 : 2600);
return new Promise(done => { (function sample() {
  const s = getComputedStyle(row);
  seen.push({bg: s.backgroundColor, filter: s.filter, opacity: s.opacity, ring: s.boxShadow, anim: s.animationName});
  if (performance.now() < until) setTimeout(sample, 40); else done(seen); })(); });
"""


@pytest.mark.parametrize("loud", [False, True], ids=["firing", "escalated"])
def test_the_flash_keeps_the_levels_colour(wall, stack, fired, loud):
    """While a warning flashes its row keeps the level's colour exactly (no brightness filter, no
    fading): what flashes is a ring at its edge."""
    from sitroom.config import LEVEL_COLOURS
    duo, console, open_ = wall
    open_()
    row = f'#alert-banner .alert-row.firing.level-I[data-region="{LUOYANG}"]'
    duo.wait_for_element(row, timeout=20)
    seen = duo.driver.execute_script(FLASH, row, loud)   # WebDriver waits for the promise
    hexes = LEVEL_COLOURS["I"].lstrip("#")
    want = "rgb({}, {}, {})".format(*(int(hexes[i:i + 2], 16) for i in (0, 2, 4)))
    assert len(seen) > 10
    assert {s["bg"] for s in seen} == {want}, {s["bg"] for s in seen}
    assert {s["filter"] for s in seen} == {"none"} and {s["opacity"] for s in seen} == {"1"}
    assert {s["anim"] for s in seen} == {"flash-loud" if loud else "flash"}
    assert len({s["ring"] for s in seen}) > 1, "the ring does not flash"
    console.assert_clean("while the banner flashed")
