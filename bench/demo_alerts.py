"""How many alerts the shipped rules raise on the demo: "a few alerts, not a sea of red" (issue 11).

    python bench/demo_alerts.py [--settle 20]

Starts the demo's four simulated sources with their history, `sitroom loaders` and `sitroom serve`
(quiet_demo.py), waits until the loaders caught up and the rules ran a few more times, then counts
the alerts not resolved, per rule, level and state, over the regions the demo covers. Target: at
least one alert (the demo shows what a warning looks like) and no more than 5 % of the regions.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quiet_demo import QuietDemo  # noqa: E402

MAX_SHARE = 0.05


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--settle", type=float, default=20.0, help="seconds of rule evaluations after the loaders caught up")
    args = ap.parse_args()
    with QuietDemo() as demo:
        time.sleep(args.settle)
        con = sqlite3.connect(demo.data_dir / "sitroom.db")
        try:
            rows = con.execute("SELECT rule, level, state, count(*) FROM alerts WHERE state != 'resolved' "
                               "GROUP BY rule, level, state ORDER BY rule, level").fetchall()
        finally:
            con.close()
        regions = len(demo.gaz.regions)
    active = sum(n for *_, n in rows)
    out = {"regions": regions, "active_alerts": active,
           "by_rule": [{"rule": r, "level": lv, "state": st, "alerts": n} for r, lv, st, n in rows],
           "target": f"1 to {int(regions * MAX_SHARE)} (5 % of the regions)"}
    out["meets_target"] = 1 <= active <= regions * MAX_SHARE
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if out["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
