"""The demo's four source systems with their history, `sitroom loaders` and `sitroom serve` as
separate processes on a temp data dir, and nothing writing after that: a wall that is idle.

    from quiet_demo import QuietDemo
    with QuietDemo(port=None) as demo:      # demo.url, demo.pids(), demo.live() starts the simulators
        ...
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class QuietDemo:
    def __init__(self, port: int | None = None, keep: bool = False, serve_args: tuple[str, ...] = ()):
        self.root = Path(tempfile.mkdtemp(prefix="sitroom-bench-"))
        self.data_dir = self.root / "data"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keep, self.serve_args = keep, serve_args
        self.procs: dict[str, subprocess.Popen] = {}
        self._stop_sims = threading.Event()
        self._sim_threads: list[threading.Thread] = []

    def __enter__(self) -> "QuietDemo":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
        env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), SITROOM_DATA_DIR=str(self.data_dir))
        return env

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        out = open(self.root / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "sitroom", *args, "--data-dir", str(self.data_dir)],
                                            cwd=REPO, env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        return self.procs[name]

    def get(self, path: str, timeout: float = 10):
        """The JSON answer, also of a 503 (/healthz says 503 while the loaders are busy catching up)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def start(self) -> None:
        from loaders.demo.suite import backfill_all, demo_simulators
        from sitroom.config import load_config
        from sitroom.regions import load_gazetteer

        self.data_dir.mkdir(parents=True)
        self.config = load_config(REPO / "config", {"SITROOM_DATA_DIR": str(self.data_dir)})
        self.gaz = load_gazetteer(tuple(self.config.regions.provinces), self.data_dir / "cache")
        self.sims = demo_simulators(self.config, self.gaz, seed=1)
        log(f"writing the demo sources' history in {self.data_dir} ...")
        backfill_all(self.sims)
        self.spawn("loaders", "loaders")
        self._wait(lambda: "loaders running" in (self.root / "loaders.log").read_text(errors="replace"), 120,
                   "the loaders")
        self.spawn("serve", "serve", "--port", str(self.port), *self.serve_args)
        self._wait(lambda: "version" in self.get("/healthz"), 120, "/healthz")
        log("waiting for the loaders to catch up with the sources ...")
        self.settle_version()

    def store_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'sitroom.db'}"

    def add_account(self, name: str = "bench-officer", role: str = "officer") -> tuple[str, str]:
        """An account to log the benchmark's browser in with (name, password)."""
        from sitroom.auth import accounts
        from sitroom.store import make_engine, session_factory
        password = "bench-password-1"
        engine = make_engine(self.store_url())
        try:
            with session_factory(engine).begin() as s:
                if accounts.get(s, name) is None:
                    accounts.add(s, name, role, [], password, name)
        finally:
            engine.dispose()
        return name, password

    def settle_version(self, quiet_for: float = 8.0, timeout: float = 300) -> int:
        """Wait until the data version has not moved for `quiet_for` seconds (the loaders caught up)."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            v = self.get("/healthz")["version"]
            if v != last:
                last, since = v, time.monotonic()
            elif time.monotonic() - since >= quiet_for:
                return v
            time.sleep(0.5)
        raise RuntimeError(f"the data version kept moving for {timeout} s")

    def live(self) -> None:
        """Start the simulators: the sources change every second or two, as in `sitroom demo`."""
        from loaders.demo.suite import start_all
        self._sim_threads = start_all(self.sims, self._stop_sims)

    def pids(self) -> dict[str, int]:
        return {k: p.pid for k, p in self.procs.items()}

    def rss_mb(self, name: str = "serve") -> float:
        for line in Path(f"/proc/{self.procs[name].pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def threads(self, name: str = "serve") -> int:
        for line in Path(f"/proc/{self.procs[name].pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        return -1

    def _wait(self, cond, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"`sitroom {name}` exited with {p.returncode}:\n"
                                       + (self.root / f"{name}.log").read_text(errors="replace")[-3000:])
            try:
                if cond():
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}")

    def stop(self) -> None:
        self._stop_sims.set()
        for t in self._sim_threads:
            t.join(timeout=5)
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for sim in getattr(self, "sims", {}).values():
            engine = getattr(sim, "engine", None)
            if engine is not None:
                engine.dispose()
        if self.keep:
            log(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
