"""The trends page's state (from the URL, validated), its figures per region and metric, the
ranked table and the CSV export: one place, used by the page and by the export route alike,
so the chart, the table and the CSV show the same numbers."""
from __future__ import annotations

import base64
import csv
import io
import re

import plotly.graph_objects as go
from dataclasses import dataclass
from datetime import date, timedelta

from dashboard.i18n import num, t
from dashboard.plain import plotly as _plain
from sitroom import trends as tr
from sitroom.regions import RegionError
from sitroom.series import local_day, series_start
from sitroom.store.db import utcnow

METRICS = ("new", "cumulative", "active", "incidence", "growth", "doubling", "rt")
LEVELS = ("province", "prefecture", "county")
COLUMNS = ("name", "cumulative", "new7", "incidence", "growth", "doubling", "rt")   # the table's sortable columns
DEFAULT_DAYS = 60
MAX_DAYS = 366
LOOKBACK = 42   # days read before the range, so that 7-day sums, growth and Rt exist on its first day
SPARK_DAYS = 28


@dataclass(frozen=True)
class TrendState:
    lang: str
    regions: tuple[str, ...]
    metric: str
    start: date
    end: date
    level: str
    sort: str
    desc: bool
    dropped: tuple[str, ...] = ()   # what the URL asked for that is not a region we know (shown, not lost)

    def query(self) -> dict[str, str]:
        """The URL's query arguments of this state (what a shared link carries)."""
        return {"lang": self.lang, "regions": ",".join(self.regions), "metric": self.metric,
                "start": self.start.isoformat(), "end": self.end.isoformat(), "level": self.level,
                "sort": self.sort, "desc": "1" if self.desc else "0"}


def _day(text, default: date) -> date:
    try:
        return date.fromisoformat(str(text)[:10]) if text else default
    except ValueError:
        return default


def parse_state(args: dict, gaz, default_lang: str, max_regions: int = 8, today: date | None = None,
                scope=None) -> TrendState:
    """A state from query arguments; anything unknown falls back to the default, region names
    (郑州, Zhengzhou, 410100) resolve through the gazetteer; a region outside the account's `scope`
    is dropped as an unknown one (its default: the scope's regions)."""
    today = today or local_day(utcnow())
    lang = args.get("lang") if args.get("lang") in ("zh", "en") else default_lang
    codes, dropped = [], []
    raw = args.get("regions")
    for part in (raw.split(",")[:32] if isinstance(raw, str) else []):   # a link names a few regions, never thousands
        part = part.strip()
        if not part:
            continue
        try:
            code = gaz.resolve(part)
        except RegionError:
            dropped.append(part[:40])
            continue
        if scope is not None and not scope.sees(code):
            dropped.append(part[:40])
            continue
        if code not in codes:
            codes.append(code)
    if not codes and raw is None:
        codes = [p.adcode for p in gaz.provinces()] if scope is None or scope.unlimited else list(scope.codes)
    end = min(_day(args.get("end"), today), today)
    start = _day(args.get("start"), end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    metric = args.get("metric") if args.get("metric") in METRICS else "new"
    level = args.get("level") if args.get("level") in LEVELS else "prefecture"
    sort = args.get("sort") if args.get("sort") in COLUMNS else "incidence"
    desc = args.get("desc") != "0"
    return TrendState(lang, tuple(codes[:max_regions]), metric, start, end, level, sort, desc,
                      tuple(dropped) + tuple(codes[max_regions:]))


# ------------------------------------------------------------------------ series per region
@dataclass
class RegionTrend:
    code: str
    days: list[date]              # the range, start..end
    values: list[float | None]    # the metric per day (None: cannot be computed)
    low: list[float | None] | None = None    # Rt's 95 % credible interval
    high: list[float | None] | None = None
    average: list[float | None] | None = None   # 7-day average of new (complete days only)
    partial: bool = False         # the last day is today, still being reported
    no_population: bool = False
    has_data: bool = True
    first_report: date | None = None   # within the range: no report before it (a gap on the chart, not 0)


def raw_series(d, code: str, first: date, last: date) -> dict[str, list[float]] | None:
    """new / cumulative / active of one region over first..last (None: nothing reported)."""
    level = d.gaz.get(code).level
    return d.trend_series(level, first, last).get(code)


def region_trend(d, code: str, metric: str, start: date, end: date, today: date, w: list[float]) -> RegionTrend:
    first = start - timedelta(days=LOOKBACK)
    raw = raw_series(d, code, first, end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    skip = LOOKBACK
    partial = end == today
    pop = d.gaz.get(code).population
    out = RegionTrend(code, days, [None] * len(days), partial=partial,
                      no_population=metric == "incidence" and not pop, has_data=raw is not None)
    if raw is None:
        return out
    new, cum = raw["new"], raw["cumulative"]
    begins = series_start(new)
    if begins > skip:
        out.first_report = first + timedelta(days=begins)
    if metric in ("new", "cumulative", "active"):
        vals = raw[metric]
        out.values = list(vals[skip:])
        if metric == "new":
            out.average = tr.seven_day_average(new, partial)[skip:]
    elif metric == "incidence":
        out.values = tr.incidence_per_100k(new, pop, partial)[skip:]
    elif metric == "growth":
        out.values = tr.week_growth(new, partial)[skip:]
    elif metric == "doubling":
        out.values = tr.doubling_time(cum, partial)[skip:]
    else:
        est = tr.rt_cori(new, w, partial)[skip:]
        out.values = [e and e.mean for e in est]
        out.low = [e and e.low for e in est]
        out.high = [e and e.high for e in est]
    return out


CASE_KINDS = ("case_line_list", "case_aggregate")   # the sources whose rows /trends reads


def data_stamp(d) -> list:
    """When each case source last changed facts (the heartbeat's, shared by every screen): what the
    page's figures are computed from moves only with it, however often other sources move the version."""
    cases = {s.name for s in d.rt.config.sources.sources if s.kind in CASE_KINDS}
    return [[s["name"], s["last_change"]] for s in d.heartbeat()["sources"] if s["name"] in cases]


def serial_weights(cfg) -> list[float]:
    return tr.serial_interval(cfg.serial_interval_mean, cfg.serial_interval_sd)


# ---------------------------------------------------------------------------- ranked table
def table_rows(d, state: TrendState, today: date, w: list[float]) -> list[dict]:
    """One row per region of the state's level: figures at the last complete day of the range
    (today's partial day counts in the cumulative only), a sparkline of new cases, sorted."""
    end = state.end
    last_complete = end - timedelta(days=1) if end == today else end
    first = end - timedelta(days=LOOKBACK + SPARK_DAYS)
    data = d.trend_series(state.level, first, end)
    regions = (d.gaz.provinces() if state.level == "province" else d.gaz.prefectures() if state.level == "prefecture"
               else [r for r in d.gaz.regions.values() if r.level == "county"])
    regions = [r for r in regions if d.scope.sees(r.adcode)]   # an account's own regions only
    partial = end == today
    rows = []
    for r in regions:
        raw = data.get(r.adcode)
        row = {"code": r.adcode, "name": r.name, "name_en": r.name_en, "population": r.population,
               "has_data": raw is not None, "cumulative": None, "new7": None, "incidence": None, "growth": None,
               "doubling": None, "rt": None, "rt_low": None, "rt_high": None, "spark": []}
        if raw is not None:
            new = raw["new"]
            i = len(new) - 1 - (1 if partial else 0)   # the last complete day
            row["cumulative"] = raw["cumulative"][-1]
            row["new7"] = tr.week_sums(new, partial)[i]
            row["incidence"] = tr.incidence_per_100k(new, r.population, partial)[i]
            row["growth"] = tr.week_growth(new, partial)[i]
            row["doubling"] = tr.doubling_time(raw["cumulative"], partial)[i]
            est = tr.rt_cori(new, w, partial)[i]
            if est:
                row["rt"], row["rt_low"], row["rt_high"] = est.mean, est.low, est.high
            row["spark"] = new[i - SPARK_DAYS + 1:i + 1]
        row["as_of"] = last_complete.isoformat()
        rows.append(row)
    return sort_rows(rows, state.sort, state.desc, state.lang)


def sort_rows(rows: list[dict], column: str, desc: bool, lang: str) -> list[dict]:
    """Sorted by a column; a region without the figure (no data, no population) always last."""
    if column == "name":
        key = "name_en" if lang == "en" else "code"
        return sorted(rows, key=lambda r: r[key], reverse=desc)
    known = [r for r in rows if r[column] is not None]
    unknown = [r for r in rows if r[column] is None]
    return sorted(known, key=lambda r: (r[column], r["code"]), reverse=desc) + sorted(unknown, key=lambda r: r["code"])


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """A data: URI of an SVG polyline of numbers (nothing from a source reaches it but numbers)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    top = max(max(known), 1.0)
    step = width / max(len(values) - 1, 1)
    lines, run = [], []
    for i, v in enumerate(values + [None]):   # a missing day (before the first report) breaks the line
        if v is not None:
            run.append(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}")
        elif run:
            lines.append(" ".join(run if len(run) > 1 else run * 2))
            run = []
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           + "".join(f'<polyline fill="none" stroke="#e0593f" stroke-width="1.5" stroke-linecap="round" '
                     f'points="{p}"/>' for p in lines)
           + '</svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# ------------------------------------------------------------------------------------- CSV
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab / CR, OWASP's
    list) gets a leading apostrophe. A number we formatted ("-12.5") is left a number."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _NUMBER.match(text):
        return "'" + text
    return text


def rounded(x, digits: int = 4):
    return None if x is None else round(float(x), digits)


def to_csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow([safe_cell(h) for h in header])
    for row in rows:
        out.writerow([safe_cell(c) for c in row])
    return buf.getvalue()


def chart_csv(trends: list[RegionTrend], gaz, metric: str, lang: str) -> str:
    header = ["date", "adcode", "region", "metric", "value", "low_95", "high_95", "average_7d", "partial_day"]
    rows = []
    for rt in trends:
        r = gaz.get(rt.code)
        for i, day in enumerate(rt.days):
            rows.append([day.isoformat(), rt.code, r.name_en if lang == "en" else r.name, metric,
                         rounded(rt.values[i]), rounded(rt.low[i]) if rt.low else None,
                         rounded(rt.high[i]) if rt.high else None, rounded(rt.average[i]) if rt.average else None,
                         1 if rt.partial and i == len(rt.days) - 1 else 0])
    return to_csv(header, rows)


def table_csv(rows: list[dict], lang: str) -> str:
    header = ["adcode", "region", "population", "as_of", "cumulative", "new_7d", "incidence_7d_per_100k",
              "growth_week_pct", "doubling_days", "rt", "rt_low_95", "rt_high_95"]
    return to_csv(header, [[r["code"], r["name_en"] if lang == "en" else r["name"], r["population"], r["as_of"],
                            rounded(r["cumulative"]), rounded(r["new7"]), rounded(r["incidence"]),
                            rounded(r["growth"]), rounded(r["doubling"]), rounded(r["rt"]),
                            rounded(r["rt_low"]), rounded(r["rt_high"])] for r in rows])


# -------------------------------------------------------------------- cells and table PNG
def fmt(row: dict, col: str, lang: str) -> str:
    """A table cell as shown (and in the table's PNG)."""
    v = row[col]
    if col == "incidence" and row["has_data"] and not row["population"]:
        return t("trends_no_pop_short", lang)
    if v is None:
        return t("legend_no_data", lang) if not row["has_data"] else "—"
    if col == "growth":
        return f"{v:+.1f}%"
    if col == "rt":
        return f"{v:.2f} ({row['rt_low']:.2f}–{row['rt_high']:.2f})"
    if col in ("incidence", "doubling"):
        return f"{v:,.1f}"
    return num(v)


def table_figure(rows: list[dict], st: TrendState) -> go.Figure:
    """The ranked table as a plotly table, for its PNG export (plain text cells)."""
    lang = st.lang
    cols = COLUMNS
    values = [[_plain(r["name_en"] if lang == "en" else r["name"]) for r in rows]]
    values += [[fmt(r, c, lang) for r in rows] for c in cols[1:]]
    fig = go.Figure(go.Table(header={"values": [t(f"trends_col_{c}", lang) for c in cols], "align": "left",
                                     "fill_color": "#dde6f0"},
                             cells={"values": values, "align": ["left"] + ["right"] * (len(cols) - 1), "height": 26}))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      title={"text": _plain(f"{t('trends_table_title', lang)} · {rows[0]['as_of'] if rows else ''}")},
                      font={"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"})
    return fig
