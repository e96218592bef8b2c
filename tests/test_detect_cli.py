"""`sitroom detect`: the rules' detectors on a CSV, in a real process."""
from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from test_detectors import RNSSP_S1, S1

REPO = Path(__file__).resolve().parent.parent


def detect(tmp_path, rows: list[str], *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "series.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "sitroom", "detect", "--input", str(path), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env={"PYTHONPATH": str(REPO),
                                                                                       "PATH": "/usr/bin:/bin"})


def s1_rows(skip=()):
    first = date(2024, 1, 1)
    return [f"{first + timedelta(days=i)},{v}" for i, v in enumerate(S1) if i not in skip]


def test_ewma_on_rows_in_any_order_gives_rnssps_numbers(tmp_path):
    rows = s1_rows()
    random.Random(1).shuffle(rows)
    p = detect(tmp_path, ["date,count"] + rows, "--method", "ewma")
    assert p.returncode == 0, p.stderr
    out = list(csv.DictReader(io.StringIO(p.stdout)))
    assert list(out[0]) == ["date", "count", "baseline_expected", "statistic", "p_value", "alert"]
    assert [r["date"] for r in out] == sorted(r["date"] for r in out) and len(out) == 60
    by_day = {r["date"]: r for r in out}
    for k, (stat, pv, colour) in enumerate(RNSSP_S1):
        r = by_day[str(date(2024, 2, 14) + timedelta(days=k))]
        assert (float(r["statistic"]), float(r["p_value"]), r["alert"]) == (
            pytest.approx(stat, rel=1e-9), pytest.approx(pv, rel=1e-6), colour)
    assert by_day["2024-01-01"]["alert"] == "grey" and by_day["2024-01-01"]["p_value"] == ""


def test_a_gap_is_a_missing_day_and_ears_has_no_p_value(tmp_path):
    p = detect(tmp_path, ["date,count"] + s1_rows(skip={46}), "--method", "ewma")
    out = {r["date"]: r for r in csv.DictReader(io.StringIO(p.stdout))}
    assert "2024-02-16" not in out and out["2024-02-17"]["alert"] == "red"
    zero = {r["date"]: r for r in csv.DictReader(io.StringIO(
        detect(tmp_path, ["date,count"] + s1_rows(skip={46}), "--method", "ewma", "--missing", "zero").stdout))}
    assert float(zero["2024-02-17"]["statistic"]) < float(out["2024-02-17"]["statistic"])
    c1 = list(csv.DictReader(io.StringIO(detect(tmp_path, ["date,count"] + s1_rows(), "--method", "c1").stdout)))
    assert {r["alert"] for r in c1} == {"grey", "blue", "red"} and {r["p_value"] for r in c1} == {""}
    assert c1[45]["alert"] == "red" and c1[7]["alert"] == "blue" and c1[6]["alert"] == "grey"


@pytest.mark.parametrize("rows,args,message", [
    (["day,n", "2024-01-01,3"], ("--method", "ewma"), "line 1: no column date or count"),
    (["date,count", "2024-01-01,3", "2024-13-01,4"], ("--method", "ewma"), "line 3: column date: '2024-13-01'"),
    (["date,count", "2024-01-01,3", "2024-01-02,lots"], ("--method", "c2"), "line 3: column count: 'lots'"),
    (["date,count", "2024-01-01,3", "2024-01-01,4"], ("--method", "c3"), "line 3: column date: 2024-01-01 is also"),
    (["date,count", "2024-01-01,-3"], ("--method", "ewma"), "line 2: column count: -3 is not a count"),
    (["date,count", "2024-01-01,3"], ("--method", "regression", "--baseline-days", "30"), "whole weeks"),
])
def test_bad_input_is_named_by_line_and_column(tmp_path, rows, args, message):
    p = detect(tmp_path, rows, *args)
    assert p.returncode == 2 and message in p.stderr and p.stdout == "", p.stderr
