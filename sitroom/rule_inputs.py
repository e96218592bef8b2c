"""Which rules a source's batch can move: the loaders evaluate those right after the batch (the
alert reaches the screens one evaluation sooner than the whole set's), and every rule on the clock.

An input is a kind of fact ("cases", "visits", "supply", "inflows") or one source ("source:NAME",
for a rule about that source's own state). A rule or a source of a kind not listed here reads or
writes everything, so a new kind is evaluated after every batch until it is listed.
"""
from __future__ import annotations

import dataclasses

EVERYTHING = "*"
METRIC_INPUTS = {"new_confirmed": "cases", "new_suspected": "cases", "clinic_visits": "visits",
                 "fever_visits": "visits", "risk_arrivals": "inflows"}
SOURCE_INPUTS = {"case_line_list": "cases", "case_aggregate": "cases", "clinic_registry": "visits",
                 "clinic_visits": "visits", "supply_points": "supply", "supply_stock": "supply",
                 "inflow_counts": "inflows", "travel_records": "inflows"}


def read_by(rule) -> set[str]:
    """What a rule's figure is computed from."""
    if rule.kind in ("threshold", "ears", "ewma", "regression", "switch"):
        return {METRIC_INPUTS.get(rule.metric, EVERYTHING)}
    if rule.kind == "supply_cover":
        return {"supply"}
    if rule.kind == "risk_arrivals":
        return {"inflows"}
    if rule.kind == "source_silent":      # minutes since the source's last answer or change
        return {f"source:{rule.source}"}
    if rule.kind == "data_mismatch":      # the source's rows against its published totals
        return {"cases", f"source:{rule.source}"}
    return {EVERYTHING}


def written_by(src) -> set[str]:
    """What a batch of a source (sources.yaml entry) changes."""
    return {SOURCE_INPUTS.get(src.kind, EVERYTHING), f"source:{src.name}"}


def moved_by(ruleset, inputs: set[str]):
    """The part of `ruleset` (a RuleSet) whose figures a batch writing `inputs` can move."""
    def moves(rule) -> bool:
        reads = read_by(rule)
        return EVERYTHING in reads or EVERYTHING in inputs or bool(reads & inputs)
    return dataclasses.replace(ruleset, rules=tuple(r for r in ruleset.rules if moves(r.config)))
