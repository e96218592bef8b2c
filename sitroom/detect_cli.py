"""`sitroom detect`: the rules' detectors on one series from a CSV, for analysts.

Input: a CSV with a header and the columns `date` (YYYY-MM-DD) and `count`, in any order of
rows; a date not in the file is a day without a report (missing, never zero, unless
`--missing zero`); an empty count is missing too. Output: the input's rows and columns, in date
order, with baseline_expected, statistic, p_value and alert (grey, blue, yellow, red as ESSENCE
colours them; EARS: blue or red at CDC's flag, p_value empty). The numbers come from
`sitroom.detectors`, the code the rules run.
"""
from __future__ import annotations

import csv
import math
from datetime import date

import numpy as np

from . import detectors


class InputError(ValueError):
    """A problem with the input file, naming the line and the column."""


def read_series(lines, name: str, missing: str = "skip") -> tuple[list[str], list[dict], date, np.ndarray]:
    """(header, rows in date order, first day, daily values with NaN for missing days)."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    absent = [c for c in ("date", "count") if c not in header]
    if absent:
        raise InputError(f"{name}: line 1: no column {' or '.join(absent)} (the header must name date and count; "
                         f"it has: {', '.join(header) or 'nothing'})")
    rows, seen = [], {}
    for row in reader:
        line = reader.line_num
        text = (row.get("date") or "").strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{name}: line {line}: column date: '{text[:40]}' is not a date (YYYY-MM-DD)") from None
        if day in seen:
            raise InputError(f"{name}: line {line}: column date: {day} is also on line {seen[day]}; one row a day")
        seen[day] = line
        raw = (row.get("count") or "").strip()
        try:
            value = float(raw) if raw else math.nan
        except ValueError:
            raise InputError(f"{name}: line {line}: column count: '{raw[:40]}' is not a number") from None
        if not math.isnan(value) and (not math.isfinite(value) or value < 0):
            raise InputError(f"{name}: line {line}: column count: {raw[:40]} is not a count (0 or more)")
        rows.append((day, value, row))
    if not rows:
        raise InputError(f"{name}: no rows after the header")
    rows.sort(key=lambda r: r[0])
    first, last = rows[0][0], rows[-1][0]
    y = np.full((last - first).days + 1, np.nan)
    for day, value, _ in rows:
        y[(day - first).days] = value
    if missing == "zero":
        y = np.where(np.isnan(y), 0.0, y)
    return header, [r for _, _, r in rows], first, y


def run(method: str, lines, name: str, baseline: int = 28, guard: int = 2, sd_floor: float = 0.0,
        missing: str = "skip"):
    """(header, output rows as lists) for the CSV writer."""
    method = method.lower()
    if method in ("regression", "switch") and (baseline % 7 or baseline < 14):
        raise InputError(f"--baseline-days {baseline}: the regression needs whole weeks, at least 14")
    header, rows, first, y = read_series(lines, name, missing)
    kw = {"sd_floor": sd_floor} if method in ("c1", "c2", "c3") else {}
    j = detectors.detect(method, y, first, baseline, guard, **kw)
    out = []
    for row in rows:
        i = (date.fromisoformat(row["date"].strip()) - first).days
        d = j.at(0, i)
        out.append([row.get(c, "") for c in header] + [_fmt(d.expected), _fmt(d.statistic), _fmt(d.p_value), d.alert])
    return header + ["baseline_expected", "statistic", "p_value", "alert"], out


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return repr(float(x)) if math.isfinite(x) else ("inf" if x > 0 else "-inf")


