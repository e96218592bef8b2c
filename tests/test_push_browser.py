"""The push in a real headless Chromium against real `sitroom loaders` and `sitroom serve`: a new
data version reaches the open wall without any polling, and after a restart of the server too."""
from __future__ import annotations

import time

import pytest

from stack import banner_row

pytestmark = pytest.mark.browser


def answers(url: str) -> bool:
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:   # 503 while the loaders lag: an answer all the same
        pass
    return True


def dash_requests(duo) -> list[str]:
    return duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('_dash-update-component'))")


def forget_requests(duo) -> None:
    duo.driver.execute_script("performance.setResourceTimingBufferSize(10000); performance.clearResourceTimings()")


def test_a_new_version_reaches_the_open_wall_without_polls(wall, stack):
    duo, console, open_ = wall
    open_()
    duo._wait_for(lambda d: d.execute_script("return window.sitroomPush.state().applied['push-version']"), 20,
                  "the first pushed message")
    time.sleep(2)                      # the first drawing's callbacks are done
    forget_requests(duo)
    time.sleep(5)
    assert dash_requests(duo) == [], "the page asked the server although nothing changed"
    code = stack.gaz.resolve("洛阳")
    stack.sim.add_cases(code, 320)
    duo.wait_for_element(banner_row(code, "I") + ".firing", timeout=20)
    assert dash_requests(duo), "redrawn without asking the server?"
    assert duo.find_element("#push-lost").get_attribute("hidden") is not None
    console.assert_clean("after the pushed version")


def test_the_wall_reconnects_by_itself_after_a_server_restart(wall, stack):
    duo, console, open_ = wall
    open_()
    duo._wait_for(lambda d: d.execute_script("return window.sitroomPush.state().applied['push-version']"), 20,
                  "the first pushed message")
    proc = stack.procs["serve"]
    proc.terminate()
    proc.wait(timeout=20)
    time.sleep(3)
    stack.spawn("serve", "serve", "--port", str(stack.port))
    stack.wait_for(lambda: answers(stack.url + "/healthz"), 60, "the server to be back")
    code = stack.gaz.resolve("南阳")
    stack.sim.add_cases(code, 320)
    duo.wait_for_element(banner_row(code, "I") + ".firing", timeout=30)
    # the only console errors allowed: the stream's connection refused while the server was away
    severe = [e for e in console.collect() if e.get("level") == "SEVERE"]
    console.seen = [e for e in console.seen if not ("/api/v1/push" in e.get("message", "")
                                                    or "ERR_CONNECTION_REFUSED" in e.get("message", ""))]
    assert all("/api/v1/push" in e["message"] or "ERR_CONNECTION_REFUSED" in e["message"] for e in severe), severe


def test_pages_left_behind_close_their_streams(wall, stack):
    """A browser opens at most six connections to one server; a page left for another (kept in the
    back/forward cache) must not keep its stream, or the seventh page never loads."""
    duo, console, open_ = wall
    for i in range(8):
        open_("/" if i % 2 else "/?view=410000")
        duo._wait_for(lambda d: d.execute_script("return window.sitroomPush.state().open"), 20,
                      f"the stream of page {i + 1}")
    duo.driver.set_script_timeout(15)
    got = duo.driver.execute_async_script(
        "const done = arguments[0]; const t = setTimeout(() => done('hung'), 8000);"
        "fetch('/healthz').then(r => { clearTimeout(t); done(r.status); }).catch(e => done(String(e)));")
    assert got in (200, 503), f"a request after eight pages: {got}"
