"""Loader volume: 1,000,000 travel records and 100,000 case rows from a source database into an empty store.

    python bench/volume.py [--store sqlite|postgresql|both] [--travel 1000000] [--cases 100000]

For each backend (source and store on it: SQLite files, or a throwaway PostgreSQL 15 cluster
started from Debian's packages like the tests do) it fills a source database, then in a fresh
child process runs the real loader (`SourcePoller.poll`: keyset batches, validation, mapping,
travel records counted into arrivals with the dedup ledger, one transaction per batch) until
it has caught up, and in another fresh child process the baseline: the same rows read from the
source in the same batches and written with plain SQLAlchemy Core executemany inserts into
tables with the same indexes as the store's (no validation, no mapping). Each child reports its
wall time and peak resident memory (ru_maxrss).

Prints one JSON object per backend: rows/s of loader and baseline, their ratio, peak MB.
Targets: >= 50,000 rows/s, >= 0.5 of the baseline, < 500 MB. Exit status 1 if one is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
TARGET_RATE, TARGET_RATIO, TARGET_MB = 50_000, 0.5, 500
BATCH = int(os.environ.get("SITROOM_BENCH_BATCH", 50_000))  # the children read it from the environment
T0 = datetime(2026, 11, 1)      # source local times start here
ORIGINS = ["湖北省武汉市", "北京市朝阳区", "上海市浦东新区", "广东省广州市", "陕西省西安市", "河北省石家庄市"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------- the source
TRIP_DDL = ("CREATE TABLE trip (rid TEXT PRIMARY KEY, person TEXT, origin TEXT, dest TEXT, arrived TEXT,"
            " minutes INTEGER, mode TEXT, updated TEXT)", "CREATE INDEX ix_trip_updated ON trip (updated, rid)")


def fill_source(url: str, travel: int, cases: int) -> None:
    """Rows as the departments' systems hold them: local times as text, personal columns included."""
    from sqlalchemy import text

    from loaders.demo.health_commission import SCHEMA
    from sitroom.regions import load_gazetteer
    from sitroom.store import make_engine
    gaz = load_gazetteer(("410000", "610000"), Path(tempfile.gettempdir()) / "sitroom-bench-gazetteer")
    counties = [r.adcode for p in gaz.prefectures("410000") for r in gaz.children(p.adcode)]
    rng = random.Random(1)
    engine = make_engine(url)
    span = 14 * 86400
    with engine.begin() as c:
        for ddl in (*TRIP_DDL, *SCHEMA):
            c.execute(text(ddl))
    fmt = "%Y-%m-%d %H:%M:%S"

    def trips(lo, hi):
        for i in range(lo, hi):
            t = T0 + timedelta(seconds=span * i / travel)
            yield (f"T{i:09d}", f"P{rng.randrange(travel // 3):08d}", rng.choice(ORIGINS), rng.choice(counties),
                   (t - timedelta(minutes=rng.randrange(30, 600))).strftime(fmt), rng.randrange(10, 2000),
                   rng.choice("RAD"), t.strftime(fmt))

    def case_rows(lo, hi):
        for i in range(lo, hi):
            t = T0 + timedelta(seconds=span * i / cases)
            c_ = rng.choice(counties)
            yield (f"B{i:09d}", "王某", "410101199001011234", "13800000000", c_, "", t.strftime(fmt),
                   t.strftime(fmt), rng.choice("1234"))
    with engine.connect() as c:
        raw = c.connection.dbapi_connection
        cur = raw.cursor()
        ph = "?" if engine.dialect.name == "sqlite" else "%s"
        for name, n, gen, width in (("trip", travel, trips, 8), ("bl_report", cases, case_rows, 9)):
            for lo in range(0, n, 50_000):
                cur.executemany(f"INSERT INTO {name} VALUES ({', '.join([ph] * width)})", list(gen(lo, min(n, lo + 50_000))))
            raw.commit()
    engine.dispose()


def source_config(url: str):
    from sitroom.config import load_config
    from sitroom.config.sources import SourcesConfig
    hc = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"}).source("hc_cases")
    cfg = SourcesConfig.model_validate({"sources": [
        {**hc.model_dump(exclude_none=True), "url": url, "batch_size": BATCH},
        {"name": "trips", "title": {"zh": "行程", "en": "Trips"}, "kind": "travel_records", "url": url,
         "table": "trip", "units": {"stay": "minutes"}, "batch_size": BATCH,
         "columns": {"source_key": "rid", "updated_at": "updated", "origin": "origin", "region_code": "dest",
                     "arrived_at": "arrived", "stay": "minutes", "mode": "mode"},
         "values": {"mode": {"R": "rail", "A": "air", "D": "road"}}}]})
    return cfg


# ------------------------------------------------------------------------- child processes
def run_loader(source_url: str, store_url: str) -> dict:
    from loaders.poller import SourcePoller
    from sitroom.regions import load_gazetteer
    from sitroom.store import make_engine, session_factory, upgrade
    upgrade(store_url)
    gaz = load_gazetteer(("410000", "610000"), Path(tempfile.gettempdir()) / "sitroom-bench-gazetteer")
    cfg = source_config(source_url)
    engine = make_engine(store_url)
    sessions = session_factory(engine)
    now = datetime(2026, 11, 23)
    out = {}
    t = time.perf_counter()
    for src in cfg.sources:
        p = SourcePoller(src, sessions, gaz, cfg)
        r = p.poll(now=now, force=True)
        p.close()
        if r.error:
            raise SystemExit(f"{src.name}: {r.error}")
        out[src.name] = {"read": r.read, "inserted": r.inserted, "quarantined": r.quarantined}
    out["seconds"] = time.perf_counter() - t
    return out


def run_baseline(source_url: str, store_url: str) -> dict:
    """Read the same rows in the same batches; Core executemany into tables with the store's indexes."""
    from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, column, insert, select, table

    from sitroom.store import make_engine
    from sitroom.store.models import CaseReport, TravelSeen
    md = MetaData()
    # Same columns as the mapped source columns (as text), same keys and indexes as the store's tables.
    trips = Table("base_trips", md, *(Column(c, String(200)) for c in ("rid", "origin", "dest", "arrived", "minutes",
                                                                       "mode", "updated")),
                  Column("source", String(64)), Column("loaded_at", DateTime))
    Index("ix_base_trips_key", trips.c.source, trips.c.rid, unique=True)
    Index("ix_base_trips_updated", trips.c.source, trips.c.updated)
    cases = Table("base_cases", md, *(Column(c, String(200)) for c in ("bgkid", "gxsj", "bgrq", "zt", "xzdm", "xzdz")),
                  Column("source", String(64)), Column("loaded_at", DateTime))
    Index("ix_base_cases_key", cases.c.source, cases.c.bgkid, unique=True)
    for ix in CaseReport.__table__.indexes:  # the same number of secondary indexes as case_reports
        Index(f"base_{ix.name}", cases.c.zt, cases.c.bgrq)
    assert TravelSeen.__table__.primary_key is not None
    src_engine, store = make_engine(source_url), make_engine(store_url)
    md.create_all(store)
    now = datetime(2026, 11, 23)
    t = time.perf_counter()
    for target, name, key in ((cases, "bl_report", "bgkid"), (trips, "trip", "rid")):
        cols = [c.name for c in target.c if c.name not in ("source", "loaded_at")]
        src = table(name, *(column(c) for c in cols))
        q = select(*src.c).order_by(src.c[cols[-1] if name == "trip" else "gxsj"], src.c[key]).limit(BATCH)
        stmt = q
        while True:
            with src_engine.connect() as c:
                rows = [dict(r._mapping) for r in c.execute(stmt)]
            if rows:
                with store.begin() as c:
                    c.execute(insert(target), [{**{k: str(v) for k, v in r.items()}, "source": name, "loaded_at": now}
                                               for r in rows])
            if len(rows) < BATCH:
                break
            ts_col = "updated" if name == "trip" else "gxsj"
            last = rows[-1]
            from sqlalchemy import and_, or_
            stmt = q.where(or_(src.c[ts_col] > last[ts_col], and_(src.c[ts_col] == last[ts_col],
                                                                    src.c[key] > last[key])))
    return {"seconds": time.perf_counter() - t}


def child(mode: str, source_url: str, store_url: str) -> dict:
    p = subprocess.run([sys.executable, __file__, f"--child={mode}", source_url, store_url],
                       capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{mode} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout)


# ------------------------------------------------------------------------- one backend
def bench(backend: str, travel: int, cases: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="sitroom-volume-"))
    server = None
    if backend == "postgresql":
        from pgcluster import start_cluster
        server = start_cluster()
        urls = [server.create_database(n) for n in ("source", "store", "baseline")]
    else:
        urls = [f"sqlite:///{tmp / n}.db" for n in ("source", "store", "baseline")]
    try:
        log(f"{backend}: writing {travel:,} travel records and {cases:,} case rows into the source")
        fill_source(urls[0], travel, cases)
        log(f"{backend}: loader")
        loaded = child("loader", urls[0], urls[1])
        log(f"{backend}: baseline")
        base = child("baseline", urls[0], urls[2])
    finally:
        if server is not None:
            server.stop()
    rows = travel + cases
    rate, base_rate = rows / loaded["seconds"], rows / base["seconds"]
    return {"store": backend, "rows": rows, "batch": int(os.environ.get("SITROOM_BENCH_BATCH", BATCH)),
            "loader_seconds": round(loaded["seconds"], 1),
            "loader_rows_per_s": round(rate), "loader_peak_mb": loaded["peak_mb"],
            "baseline_seconds": round(base["seconds"], 1), "baseline_rows_per_s": round(base_rate),
            "baseline_peak_mb": base["peak_mb"], "ratio_to_baseline": round(rate / base_rate, 2),
            "cpu_seconds": {"loader": round(loaded["cpu_seconds"], 1), "baseline": round(base["cpu_seconds"], 1)},
            "sources": {k: v for k, v in loaded.items() if isinstance(v, dict)},
            "targets_met": rate >= TARGET_RATE and rate / base_rate >= TARGET_RATIO and loaded["peak_mb"] < TARGET_MB}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child="):
        mode = sys.argv[1].split("=", 1)[1]
        out = (run_loader if mode == "loader" else run_baseline)(sys.argv[2], sys.argv[3])
        use = resource.getrusage(resource.RUSAGE_SELF)
        out["peak_mb"] = round(use.ru_maxrss / 1024)
        out["cpu_seconds"] = use.ru_utime + use.ru_stime  # includes start-up; less noisy than wall time on a busy box
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--travel", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=BATCH, help="rows per batch, for the loader and the baseline")
    args = ap.parse_args()
    os.environ["SITROOM_BENCH_BATCH"] = str(args.batch)
    ok = True
    for backend in (("sqlite", "postgresql") if args.store == "both" else (args.store,)):
        result = bench(backend, args.travel, args.cases)
        ok &= result["targets_met"]
        print(json.dumps(result, ensure_ascii=False), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
