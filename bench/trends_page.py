"""How long /trends takes to compute, per part, on a store: the level series (SQL), the chart's
metrics for 8 regions, the ranked table, and the CSV's size. Prints JSON.

    python bench/trends_page.py --database-url sqlite:///DATA_DIR/sitroom.db [--provinces 410000,610000]
                                [--days 60] [--repeat 5]

(e.g. the store of a running `sitroom demo --data-dir DATA_DIR`, with its simulated history).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard import trends_view as tv  # noqa: E402
from sitroom import trends as tr  # noqa: E402
from sitroom import trends_queries as tq  # noqa: E402
from sitroom.regions import load_gazetteer  # noqa: E402
from sitroom.series import local_day  # noqa: E402
from sitroom.store import make_engine, session_factory  # noqa: E402
from sitroom.store.db import utcnow  # noqa: E402


class Data:
    """What trends_view needs of the web's ScreenData: the gazetteer and the level series."""
    def __init__(self, sessions, gaz):
        self.sessions, self.gaz, self.memo = sessions, gaz, {}

    def trend_series(self, level, first, last):
        key = (level, first, last)
        if key not in self.memo:
            with self.sessions() as s:
                self.memo[key] = tq.level_series(s, level, first, last)
        return self.memo[key]


def timed(fn, repeat):
    out, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(out), 1), value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--provinces", default="410000,610000")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    gaz = load_gazetteer(a.provinces.split(","))
    url = a.database_url
    sessions = session_factory(make_engine(url))
    today = local_day(utcnow())
    first, last = today - timedelta(days=a.days - 1 + tv.LOOKBACK), today
    out = {"store": make_engine(url).dialect.name, "days": a.days, "lookback_days": tv.LOOKBACK}
    for level in tv.LEVELS:
        def q(level=level):
            with sessions() as s:
                return tq.level_series(s, level, first, last)
        ms, data = timed(q, a.repeat)
        out[f"series_{level}_ms"], out[f"series_{level}_regions"] = ms, len(data)
    w = tr.serial_interval(4.7, 2.9)
    d = Data(sessions, gaz)
    codes = [r.adcode for r in gaz.prefectures()[:8]]
    start = today - timedelta(days=a.days - 1)
    for metric in ("new", "incidence", "rt"):
        out[f"chart_8_regions_{metric}_ms"], _ = timed(
            lambda metric=metric: [tv.region_trend(d, c, metric, start, today, today, w) for c in codes], a.repeat)
    for level in tv.LEVELS:
        st = tv.TrendState("zh", tuple(codes), "new", start, today, level, "incidence", True)
        ms, rows = timed(lambda st=st: tv.table_rows(d, st, today, w), a.repeat)
        out[f"table_{level}_ms"], out[f"table_{level}_rows"] = ms, len(rows)
        out[f"table_{level}_csv_bytes"] = len(tv.table_csv(rows, "zh").encode())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
