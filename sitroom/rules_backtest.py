"""Replay stored history with the current rules: when would each have fired, at which level, where.

The store is read as of each step (rows stamped after it left out), the rules are measured
exactly as the loaders measure them, and the lifecycle runs in memory with the same
`next_step` as `sitroom.alerts` (nothing is written). Acknowledgements and escalations
need people, so they are not replayed. Steps are local days (evaluated at each day's last
second) or hours; a condition seen at a step counts as held since the previous step, so a
rule with for_minutes up to one step fires at the step it is first seen.
Source silence is not replayed: the store keeps no history of source health.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from .alerts import next_step
from .config import LEVEL_COLOURS, LEVEL_NAMES, LEVELS
from .rules_load import RuleSet
from .rules_measure import measure_all
from .series import LOCAL_OFFSET, local_midnight


@dataclass
class Episode:
    """One alert the rule would have raised: its levels over time, and when it would have resolved."""
    rule: str
    region: str
    steps: list[tuple[datetime, str, float]] = field(default_factory=list)  # (at UTC, level, value) per change
    resolved_at: datetime | None = None
    detections: list = field(default_factory=list)   # detector rules: the Detection behind each step

    @property
    def level(self) -> str:
        return max((lv for _, lv, _ in self.steps), key=LEVELS.index)

    @property
    def fired_at(self) -> datetime:
        return self.steps[0][0]


def steps_between(first: date, last: date, step: str) -> list[datetime]:
    """UTC instants to evaluate at: each local day's last second, or each local hour's."""
    end = local_midnight(last + timedelta(days=1))
    delta = timedelta(hours=1) if step == "hour" else timedelta(days=1)
    t = local_midnight(first) + delta
    out = []
    while t <= end:
        out.append(t - timedelta(seconds=1))
        t += delta
    return out


def backtest(s: Session, ruleset: RuleSet, gaz, first: date, last: date, step: str = "day") -> list[Episode]:
    times = steps_between(first, last, step)
    delta = timedelta(hours=1) if step == "hour" else timedelta(days=1)
    open_: dict[tuple[str, str], Episode] = {}
    pending: dict[tuple[str, str], datetime] = {}
    done: list[Episode] = []
    rules = {r.id: r.config for r in ruleset.rules}
    for now in times:
        values, details = measure_all(s, ruleset, gaz, now, replay=True)
        for rule_id, by_region in values.items():
            rule = rules[rule_id]
            for region, value in by_region.items():
                key = (rule_id, region)
                ep = open_.get(key)
                since = pending.get(key)
                if ep is None and since is None and rule.level_for(value):
                    since = pending[key] = now - delta   # seen now: held since the previous step
                what = next_step(rule, value, ep.steps[-1][1] if ep else None, since, now)
                detection = details.get(rule_id, {}).get(region)
                if what == "fire":
                    pending.pop(key, None)
                    open_[key] = Episode(rule_id, region, [(now, rule.level_for(value), value)], None, [detection])
                elif what == "drop":
                    pending.pop(key, None)
                elif what == "rise":
                    ep.steps.append((now, rule.level_for(value), value))
                    ep.detections.append(detection)
                elif what == "resolve":
                    ep.resolved_at = now
                    done.append(open_.pop(key))
    done += open_.values()
    return sorted(done, key=lambda e: (e.fired_at, e.rule, e.region))


def _local(t: datetime) -> str:
    return (t + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M")


def report(episodes: list[Episode], gaz, ruleset: RuleSet) -> list[str]:
    """Readable lines: every firing, rise and resolution, then a count per rule and level."""
    lines = []
    for e in episodes:
        name = gaz.regions[e.region].name if e.region in gaz.regions else e.region
        rule = ruleset.get(e.rule).config
        for i, (at, level, value) in enumerate(e.steps):
            what = "fired" if i == 0 else "rose "
            d = e.detections[i] if i < len(e.detections) else None
            figure = f"value {value:.4g}"
            if d is not None:     # a detector rule: its statistic and p-value, whichever the levels read
                figure = f"statistic {d.statistic:.4g}" + (f" p-value {d.p_value:.3g}" if d.p_value is not None else "")
            lines.append(f"{_local(at)}  {what}  {level:<3} {e.rule}  {e.region} {name}  {figure} "
                         f"(threshold {getattr(rule.thresholds, level):g})")
        end = f"resolved {_local(e.resolved_at)}" if e.resolved_at else "still open at the end"
        lines.append(f"{'':16}  {end}: {e.rule} {e.region} {name}")
    lines.append("")
    for r in ruleset.rules:
        mine = [e for e in episodes if e.rule == r.id]
        per_level = ", ".join(f"{lv} {sum(1 for e in mine if e.level == lv)}" for lv in LEVELS
                              if any(e.level == lv for e in mine))
        lines.append(f"{r.id}: {len(mine)} alert(s)" + (f" (highest level: {per_level})" if mine else ""))
    return lines


def figure(episodes: list[Episode], gaz, first: date, last: date, lang: str = "zh"):
    """A timeline: one row per (rule, region), a bar per level in the level's colour."""
    import plotly.graph_objects as go
    end_of_range = local_midnight(last + timedelta(days=1))
    rows = sorted({(e.rule, e.region) for e in episodes})
    label = {k: f"{k[0]} · {gaz.regions[k[1]].name if k[1] in gaz.regions else k[1]}" for k in rows}
    segments = {lv: ([], []) for lv in LEVELS}
    for e in episodes:
        ends = [t for t, _, _ in e.steps[1:]] + [e.resolved_at or end_of_range]
        for (start, level, _), stop in zip(e.steps, ends):
            xs, ys = segments[level]
            xs += [start + LOCAL_OFFSET, stop + LOCAL_OFFSET, None]
            ys += [label[(e.rule, e.region)]] * 2 + [None]
    fig = go.Figure()
    for lv in LEVELS:
        xs, ys = segments[lv]
        fig.add_scatter(x=xs or [None], y=ys or [None], mode="lines", line={"color": LEVEL_COLOURS[lv], "width": 14},
                        name=LEVEL_NAMES[lv][lang == "en"], connectgaps=False)
    title = (f"规则回测 {first} — {last}（{len(episodes)} 次预警）" if lang == "zh"
             else f"Rules backtest {first} to {last} ({len(episodes)} alerts)")
    # The whole replayed window in local time, whatever fired, with dates as the centre writes them.
    window = [datetime(first.year, first.month, first.day), end_of_range + LOCAL_OFFSET]
    fig.update_layout(title=title, height=max(300, 28 * len(rows) + 150), showlegend=True,
                      xaxis={"range": window, "title": "北京时间" if lang == "zh" else "Beijing time (UTC+8)",
                             "tickformat": "%m-%d %H:%M" if (last - first).days < 3 else "%Y-%m-%d"},
                      yaxis={"categoryorder": "array", "categoryarray": [label[k] for k in reversed(rows)]},
                      margin={"l": 260})
    return fig
