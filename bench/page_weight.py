"""Page weight: bytes and requests of each page's first load, and what an idle wall transfers.

    python bench/page_weight.py [--idle-seconds 60] [--pages / /alerts /sources] [--url http://HOST:PORT]

Starts the demo's four simulated sources with their history, `sitroom loaders` and `sitroom serve`
on a temp data dir and a free port (bench/quiet_demo.py), and waits until the loaders have read
everything, unless --url names a running server. Nothing writes to the sources after that (an idle
wall), unless --live starts the simulators as `sitroom demo` runs them. Each page is opened in a fresh
headless Chromium (empty cache, 1920x1080) and measured from the DevTools Network events in the
performance log: for every response its `encodedDataLength` (bytes on the wire: headers and the
body as sent, compressed or not), its URL, status, content encoding and Cache-Control. A page
counts as loaded once its main elements are there and no request has started or ended for
--settle seconds (an open push stream does not count). The same browser then loads the page again
(`warm_*`: what the HTTP cache saves) and, on the wall, stays idle for --idle-seconds while every
byte received (finished requests and the chunks of open streams) and every request sent is
counted; the figure is scaled to one minute.

Output (JSON): per page `requests`, `bytes`, `uncompressed_bytes` (decoded body sizes),
`largest` (the five heaviest responses), `not_compressed` (text responses over 1 kB sent as
is), `not_cached` (static bundles without a long max-age); `warm_requests`, `warm_bytes`; for
the wall `idle_bytes_per_minute`, `idle_requests_per_minute`, `idle_sent_bytes_per_minute`.
Targets: first load of the wall <= 2,000,000 bytes, idle wall <= 30,000 bytes a minute; exit
status 1 when one is missed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from quiet_demo import QuietDemo  # noqa: E402
CHROMEDRIVER = "/usr/bin/chromedriver"
TARGET_WALL_BYTES = 2_000_000
TARGET_IDLE_PER_MINUTE = 30_000
READY = {"/": "#kpi-confirmed .kpi-value, #kpi-confirmed", "/alerts": "#al-queue table",
         "/sources": "#sources-table table"}
STATIC = ("/_dash-component-suites/", "/assets/")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1920,1080"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "SEVERE"})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


class Network:
    """Requests seen in the performance log, by request id."""

    def __init__(self, driver):
        self.driver = driver
        self.reqs: dict[str, dict] = {}
        self.last_event = time.monotonic()
        self.chunks: list[tuple[float, int]] = []   # (when, bytes) of data chunks: counts open streams too

    def pump(self) -> None:
        now = time.monotonic()
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            method, p = msg.get("method", ""), msg.get("params", {})
            rid = p.get("requestId")
            if not method.startswith("Network.") or rid is None:
                continue
            r = self.reqs.setdefault(rid, {"id": rid, "bytes": 0, "decoded": 0, "done": False, "sent": 0})
            if method == "Network.requestWillBeSent":
                req = p["request"]
                r.update(url=req["url"], method=req["method"], started=now)
                r["sent"] += len(req["url"]) + sum(len(k) + len(v) + 4 for k, v in req.get("headers", {}).items()) \
                    + len(req.get("postData") or "")
                if not self._is_stream(r):
                    self.last_event = now
            elif method == "Network.responseReceived":
                resp = p["response"]
                headers = {k.lower(): v for k, v in resp.get("headers", {}).items()}
                r.update(status=resp.get("status"), mime=resp.get("mimeType"), headers=headers,
                         cached=resp.get("fromDiskCache") or resp.get("fromMemoryCache") or False)
            elif method == "Network.dataReceived":
                r["decoded"] += p.get("dataLength", 0)
                r["chunk_bytes"] = r.get("chunk_bytes", 0) + p.get("encodedDataLength", 0)
                self.chunks.append((now, p.get("encodedDataLength", 0)))
            elif method == "Network.loadingFinished":
                r.update(bytes=p.get("encodedDataLength", 0), done=True, ended=now)
                if not self._is_stream(r):
                    self.last_event = now
            elif method == "Network.loadingFailed":
                r.update(done=True, failed=p.get("errorText"), ended=now)
                self.last_event = now

    @staticmethod
    def _is_stream(r: dict) -> bool:
        return "text/event-stream" in (r.get("headers") or {}).get("content-type", "") or \
            "/api/v1/push" in r.get("url", "")

    def settle(self, seconds: float, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            pending = [r for r in self.reqs.values() if not r["done"] and not self._is_stream(r) and "url" in r]
            if not pending and time.monotonic() - self.last_event >= seconds:
                return
            time.sleep(0.2)
        log(f"network did not settle within {timeout} s")

    def clear(self) -> None:
        self.pump()
        self.reqs.clear()
        self.chunks.clear()


def wait_ready(driver, page: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.find_elements("css selector", READY.get(page, "body")):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{page} did not render within {timeout} s")


def summary(reqs: list[dict]) -> dict:
    real = [r for r in reqs if "url" in r and not r["url"].startswith("data:")]
    total = sum(r["bytes"] or r.get("chunk_bytes", 0) for r in real)
    out = {"requests": len(real), "bytes": total, "uncompressed_bytes": sum(r["decoded"] for r in real)}
    heavy = sorted(real, key=lambda r: -(r["bytes"] or 0))[:5]
    out["largest"] = [{"url": short(r["url"]), "bytes": r["bytes"], "decoded": r["decoded"],
                       "encoding": (r.get("headers") or {}).get("content-encoding")} for r in heavy]
    out["not_compressed"] = [short(r["url"]) for r in real if r["decoded"] > 1024 and not Network._is_stream(r)
                             and not (r.get("headers") or {}).get("content-encoding")
                             and not str(r.get("mime", "")).startswith(("image/", "font/"))
                             and r.get("status") == 200]
    out["not_cached"] = [short(r["url"]) for r in real if any(s in r["url"] for s in STATIC)
                         and "max-age=31536000" not in (r.get("headers") or {}).get("cache-control", "")
                         and r.get("status") == 200]
    out["all"] = [{"url": short(r["url"]), "status": r.get("status"), "bytes": r["bytes"], "decoded": r["decoded"],
                   "encoding": (r.get("headers") or {}).get("content-encoding"),
                   "cache": (r.get("headers") or {}).get("cache-control")} for r in real]
    return out


def short(url: str) -> str:
    from urllib.parse import urlsplit
    u = urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def log_in(driver, base: str, login: tuple[str, str]) -> None:
    """Through the login page, as a duty officer would (what it loads is not counted)."""
    driver.get(base + "/login")
    wait_ready(driver, "/login")
    driver.find_element("css selector", "#login-name").send_keys(login[0])
    driver.find_element("css selector", "#login-password").send_keys(login[1])
    driver.find_element("css selector", "#login-submit").click()
    deadline = time.monotonic() + 30
    while "/login" in driver.current_url:
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not log in as {login[0]}")
        time.sleep(0.1)
    driver.get("about:blank")   # leave the page the login led to, and forget what it loaded: a first load
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})


def measure_page(base: str, page: str, settle: float, idle_seconds: float, requests: bool = False,
                 login: tuple[str, str] | None = None) -> dict:
    driver = browser()
    try:
        if login:
            log_in(driver, base, login)
        net = Network(driver)
        net.clear()
        driver.get(base + page)
        wait_ready(driver, page)
        net.settle(settle)
        out = summary(list(net.reqs.values()))
        if not requests:
            out.pop("all")
        severe = [e.get("message") for e in driver.get_log("browser") if e.get("level") == "SEVERE"]

        net.clear()
        driver.get(base + page)  # the same browser again: what its cache saves
        wait_ready(driver, page)
        net.settle(settle)
        warm = summary(list(net.reqs.values()))
        out["warm_requests"], out["warm_bytes"] = warm["requests"], warm["bytes"]

        if idle_seconds:
            net.clear()
            t0 = time.monotonic()
            while time.monotonic() - t0 < idle_seconds:
                time.sleep(0.5)
                net.pump()
            reqs = [r for r in net.reqs.values() if "url" in r or r.get("chunk_bytes")]
            scale = 60 / idle_seconds
            received = sum(b for _, b in net.chunks) + sum(
                # headers and the end of a finished request are in its loadingFinished total, not in its chunks
                max(0, r["bytes"] - r.get("chunk_bytes", 0)) for r in reqs if r["done"])
            out["idle_seconds"] = idle_seconds
            out["idle_bytes_per_minute"] = round(received * scale)
            out["idle_requests_per_minute"] = round(len([r for r in reqs if "url" in r]) * scale, 1)
            out["idle_sent_bytes_per_minute"] = round(sum(r["sent"] for r in reqs) * scale)
            out["idle_urls"] = sorted({short(r["url"]).split("?")[0] for r in reqs if "url" in r})
            severe += [e.get("message") for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        out["console_errors"] = severe
        return out
    finally:
        driver.quit()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="measure this running server instead of starting `sitroom demo`")
    ap.add_argument("--pages", nargs="+", default=["/", "/alerts", "/sources"])
    ap.add_argument("--idle-seconds", type=float, default=60.0, help="how long the wall is watched idle (0: not)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds without network activity that end a load")
    ap.add_argument("--requests", action="store_true", help="list every request of each first load")
    ap.add_argument("--keep", action="store_true", help="keep the demo's temp data dir")
    ap.add_argument("--live", action="store_true",
                    help="keep the simulated sources writing (as `sitroom demo` does): the wall is then not idle")
    ap.add_argument("--login", nargs=2, metavar=("NAME", "PASSWORD"),
                    help="with --url: the account to log in as (the demo's own is made for it)")
    args = ap.parse_args()
    demo = None
    login = tuple(args.login) if args.login else None
    try:
        if args.url:
            base = args.url.rstrip("/")
        else:
            demo = QuietDemo(keep=args.keep).__enter__()
            base = demo.url
            login = demo.add_account()
            if args.live:
                demo.live()
        pages = {}
        for page in args.pages:
            log(f"measuring {page} ...")
            pages[page] = measure_page(base, page, args.settle, args.idle_seconds if page == "/" else 0,
                                       args.requests, login)
    finally:
        if demo is not None:
            demo.stop()
    wall = pages.get("/")
    result = {"pages": pages, "target_wall_bytes": TARGET_WALL_BYTES,
              "target_idle_bytes_per_minute": TARGET_IDLE_PER_MINUTE}
    if wall:
        result["wall_bytes"] = wall["bytes"]
        result["wall_idle_bytes_per_minute"] = wall.get("idle_bytes_per_minute")
        result["meets_target"] = wall["bytes"] <= TARGET_WALL_BYTES and \
            (wall.get("idle_bytes_per_minute") is None or wall["idle_bytes_per_minute"] <= TARGET_IDLE_PER_MINUTE)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("meets_target", True) else 1


if __name__ == "__main__":
    sys.exit(main())
