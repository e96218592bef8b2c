"""Many open screens on one `sitroom serve`: how fast a new data version reaches every one of them.

    python bench/push_screens.py [--screens 50] [--minutes 5] [--every 10]

Starts `sitroom loaders` and `sitroom serve` on a temp data dir (the stack of the browser tests:
a simulated health-commission source with 10 days of history), then opens N push streams
(GET /api/v1/push, each its own connection and reader thread, as N wall browsers would) and
keeps them open for --minutes. Every --every seconds the bench commits a new data version in the
store (the loaders' `bump_version`, one transaction; t0 = right after the commit) and each
screen records when the message with that version arrives, then re-reads what a wall shows
(GET /api/v1/summary and /api/v1/alerts), so the server also serves the screens' reads.
Meanwhile /healthz is asked every 2 s (the server must keep answering).

Output (JSON): `fanout_p50_ms`, `fanout_p95_ms`, `fanout_max_ms` over every screen and version
change (nearest rank), `missed` (a screen not told within 5 s), `healthz_p95_ms`,
`server_rss_mb` before the screens, once they are connected and at the end, `server_threads`,
`stream_bytes_per_screen_per_minute`, `reconnects`. Exit status 1 if the fan-out p95 is over
200 ms, anything was missed or /healthz failed.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from stack import Stack  # noqa: E402

TARGET_P95_MS = 200
KEY = re.compile(rb'"key":"(\d+)\.')


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def nearest_rank(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[max(0, math.ceil(p / 100 * len(xs)) - 1)], 1)


def proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


class Screen(threading.Thread):
    """One wall display (a device: its token in the cookie `sitroom walls add` gives its screen)."""

    def __init__(self, port: int, stop: threading.Event, token: str):
        super().__init__(daemon=True)
        self.port, self.stop_ = port, stop
        self.cookie = f"sitroom_wall={token}"
        self.arrivals: dict[int, float] = {}   # version -> first time a message named it
        self.bytes = 0
        self.reconnects = 0
        self.connected = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop_.is_set():
            try:
                self._stream()
            except OSError as e:
                self.errors.append(str(e))
            if not self.stop_.is_set():
                self.reconnects += 1
                time.sleep(1)

    def _stream(self) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            s.sendall(f"GET /api/v1/push HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: {self.cookie}\r\n\r\n"
                      .encode())
            seen = -1
            while not self.stop_.is_set():
                chunk = s.recv(65536)
                now = time.perf_counter()
                if not chunk:
                    return
                self.bytes += len(chunk)
                for m in KEY.finditer(chunk):
                    v = int(m.group(1))
                    self.arrivals.setdefault(v, now)
                    self.connected.set()
                    if v != seen:
                        seen = v
                        threading.Thread(target=self._reread, daemon=True).start()
        finally:
            s.close()

    def _reread(self) -> None:
        for path in ("/api/v1/summary", "/api/v1/alerts"):
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"Cookie": self.cookie})
                urllib.request.urlopen(req, timeout=30).read()
            except OSError as e:
                self.errors.append(f"{path}: {e}")


def bump(store_path: Path) -> tuple[int, float]:
    con = sqlite3.connect(store_path, timeout=30)
    try:
        with con:
            con.execute("UPDATE data_version SET version = version + 1, changed_at = CURRENT_TIMESTAMP WHERE id = 1")
        t0 = time.perf_counter()
        (v,), = con.execute("SELECT version FROM data_version WHERE id = 1").fetchall()
        return v, t0
    finally:
        con.close()


def run(args) -> dict:
    root = Path(tempfile.mkdtemp(prefix="sitroom-screens-"))
    stack = Stack(root, args.seed)
    stop = threading.Event()
    result: dict = {}
    try:
        log(f"starting loaders + server in {root} ...")
        stack.start()
        pid = stack.procs["serve"].pid
        time.sleep(2)
        rss0, threads0 = proc_status(pid, "VmRSS"), proc_status(pid, "Threads")
        token = stack.wall_url("bench-wall").rsplit("/", 1)[1]   # every screen one wall device
        screens = [Screen(stack.port, stop, token) for _ in range(args.screens)]
        for s in screens:
            s.start()
        for s in screens:
            if not s.connected.wait(30):
                raise RuntimeError("a screen got no first message within 30 s")
        time.sleep(2)
        rss1, threads1 = proc_status(pid, "VmRSS"), proc_status(pid, "Threads")
        log(f"{args.screens} screens open; server RSS {rss1 / 1024:.1f} MB, {threads1} threads")
        bytes0 = sum(s.bytes for s in screens)
        t_start = time.perf_counter()
        changes: list[tuple[int, float]] = []
        health_ms, health_failed = [], 0
        next_bump = time.perf_counter() + args.every
        while time.perf_counter() - t_start < args.minutes * 60:
            t = time.perf_counter()
            try:
                urllib.request.urlopen(stack.url + "/healthz", timeout=10).read()
                health_ms.append((time.perf_counter() - t) * 1000)
            except urllib.error.HTTPError as e:   # 503 (the loaders lag) is still an answer
                if e.code == 503:
                    health_ms.append((time.perf_counter() - t) * 1000)
                else:
                    health_failed += 1
            except OSError:
                health_failed += 1
            if time.perf_counter() >= next_bump:
                changes.append(bump(stack.store_path))
                next_bump += args.every
            time.sleep(2)
        time.sleep(5)   # the last change's messages
        elapsed_min = (time.perf_counter() - t_start) / 60
        stream_bytes = sum(s.bytes for s in screens) - bytes0
        rss2, threads2 = proc_status(pid, "VmRSS"), proc_status(pid, "Threads")
        fanout, missed = [], 0
        for v, t0 in changes:
            for s in screens:
                at = min((t for ver, t in s.arrivals.items() if ver >= v), default=None)
                if at is None or at - t0 > 5:
                    missed += 1
                else:
                    fanout.append((at - t0) * 1000)
        result = {
            "screens": args.screens, "minutes": round(elapsed_min, 2), "version_changes": len(changes),
            "fanout_p50_ms": nearest_rank(fanout, 50), "fanout_p95_ms": nearest_rank(fanout, 95),
            "fanout_max_ms": nearest_rank(fanout, 100), "missed": missed,
            "healthz_p95_ms": nearest_rank(health_ms, 95), "healthz_failed": health_failed,
            "server_rss_mb": {"before_screens": round(rss0 / 1024, 1), "screens_connected": round(rss1 / 1024, 1),
                              "end": round(rss2 / 1024, 1)},
            "server_threads": {"before_screens": threads0, "screens_connected": threads1, "end": threads2},
            "stream_bytes_per_screen_per_minute": round(stream_bytes / args.screens / elapsed_min),
            "reconnects": sum(s.reconnects for s in screens),
            "screen_errors": sorted({e for s in screens for e in s.errors})[:10],
            "target_fanout_p95_ms": TARGET_P95_MS,
        }
        result["meets_target"] = bool(fanout and result["fanout_p95_ms"] <= TARGET_P95_MS and not missed
                                      and not health_failed)
    finally:
        stop.set()
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--screens", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between two version changes")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    result = run(args)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result.get("meets_target") else 1


if __name__ == "__main__":
    sys.exit(main())
