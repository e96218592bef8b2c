"""Replay the recorded provincial bulletin feed through the real loader; print the figures as JSON.

    python bench/feed_replay.py [--store sqlite|postgresql] [--mode per-poll|once|both]

The fixture (tests/fixtures/provincial_feed.csv.gz, made by loaders/demo/provincial_feed.py) is
28 days of two provinces' bulletins, re-published 3-5 times a day. `once` puts every publication
in the source database and reads it in one poll (as `sitroom load --once` does); `per-poll` adds
one publication and polls after each. Then the store's current figures are compared with what the
last publication says: each prefecture's confirmed count, each province's confirmed / cured / dead,
and the publisher's own totals (check_totals). Output: rows, publications, prefectures exact (of
28), provinces exact, totals check differences, quarantined rows, superseded versions, seconds.
Exit status 1 if any figure is not exact.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from sqlalchemy import func, select  # noqa: E402

from loaders.demo.provincial_feed import area_stat, read_recorded  # noqa: E402
from loaders.poller import SourcePoller  # noqa: E402
from sitroom import queries  # noqa: E402
from sitroom.config import SourcesConfig  # noqa: E402
from sitroom.regions import load_gazetteer  # noqa: E402
from sitroom.store import make_engine, session_factory, upgrade  # noqa: E402
from sitroom.store.models import Quarantine  # noqa: E402
from test_feed_replay import EXPECTED, FIXTURE, NOW, feed_source  # noqa: E402


def replay(mode: str, store_url: str, source_url: str, gaz) -> dict:
    upgrade(store_url)
    sessions = session_factory(make_engine(store_url))
    src_engine = make_engine(source_url)
    area_stat.metadata.create_all(src_engine)
    pubs = read_recorded(FIXTURE)
    cfg = SourcesConfig.model_validate({"sources": [feed_source(source_url, 100_000 if mode == "once" else 500)]})
    src = cfg.sources[0]
    poller = SourcePoller(src, sessions, gaz, cfg)
    superseded = 0
    t = time.perf_counter()
    try:
        for batch in ([pubs] if mode == "once" else [[p] for p in pubs]):
            with src_engine.begin() as c:
                c.execute(area_stat.insert(), [r for p in batch for r in p])
            r = poller.poll(now=NOW, force=True)
            if r.error:
                raise SystemExit(r.error)
            superseded += r.superseded
    finally:
        poller.close()
    seconds = time.perf_counter() - t
    with sessions() as s:
        figures = queries.case_figures(s, NOW, 30, {src.name: src.snapshot})
        checks = queries.totals_check(s, figures, [src])
        quarantined = s.scalar(select(func.count()).select_from(Quarantine))
    exact_pref, exact_prov = 0, 0
    for prov in ("410000", "610000"):
        view = queries.roll_up(figures, gaz, prov)
        exact_pref += sum(1 for code, f in view["regions"].items() if f["confirmed"] == EXPECTED["prefectures"][code])
        parts = [*view["regions"].values(), *view["buckets"].values(), view["unplaced"]]
        exact_prov += {m: sum(p[m] for p in parts) for m in ("confirmed", "cured", "dead")} == EXPECTED["provinces"][prov]
    src_engine.dispose()
    return {"mode": mode, "rows": sum(len(p) for p in pubs), "publications": len(pubs),
            "prefectures_exact": exact_pref, "prefectures": len(EXPECTED["prefectures"]),
            "provinces_exact": exact_prov, "totals_check_max_diff": max(abs(c["diff"]) for c in checks),
            "quarantined": quarantined, "superseded": superseded, "seconds": round(seconds, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--mode", choices=["per-poll", "once", "both"], default="both")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sitroom-feed-bench-"))
    gaz = load_gazetteer(("410000", "610000"), tmp / "cache")
    server = None
    if args.store == "postgresql":
        import pgcluster
        server = pgcluster.start_cluster()
    out = []
    try:
        for mode in (["per-poll", "once"] if args.mode == "both" else [args.mode]):
            if server:
                urls = server.create_database(f"store_{mode[:4]}"), server.create_database(f"feed_{mode[:4]}")
            else:
                urls = f"sqlite:///{tmp / f'store-{mode}.db'}", f"sqlite:///{tmp / f'feed-{mode}.db'}"
            out.append({"store": args.store, **replay(mode, *urls, gaz)})
    finally:
        if server:
            server.stop()
    print(json.dumps(out, ensure_ascii=False, indent=1))
    ok = all(r["prefectures_exact"] == r["prefectures"] and r["provinces_exact"] == 2
             and r["totals_check_max_diff"] == 0 for r in out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
