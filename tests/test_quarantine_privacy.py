"""A person's row in quarantine keeps only what was wrong, and a place only up to the regions it
names: the demo health commission's home addresses (现住址) never reach the store, /api/v1/quarantine
or /sources with their street and number."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from sqlalchemy import select, text

from loaders.demo.health_commission import STREETS, HealthCommissionSim
from loaders.poller import SourcePoller
from sitroom.config import load_config
from sitroom.store.models import CaseReport, Quarantine

from conftest import REPO, runtime_on

ADDRESS = re.compile("|".join(STREETS) + r"|\d+号|单元")
PERSONAL = ("hzxm", "sfzh", "lxdh")


@pytest.fixture
def loaded(store, make_source_url, gaz):
    """A day of the demo's case reports, a third of them bad, polled into the store."""
    url = make_source_url("health_commission")
    sim = HealthCommissionSim(url, gaz, seed=11, bad_share=0.3, confirmed_per_day=150, provinces=("410000",))
    sim.create()
    sim.backfill(days=1)
    src = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"}).source("hc_cases") \
        .model_copy(update={"url": url})
    p = SourcePoller(src, store[1], gaz)
    r = p.poll(force=True)
    p.close()
    assert r.error is None and r.quarantined > 20
    yield sim, store
    sim.engine.dispose()


def test_a_case_in_quarantine_keeps_only_its_wrong_columns_and_no_street(loaded):
    sim, (_, sessions) = loaded
    with sessions() as s:
        held = list(s.scalars(select(Quarantine)))
        n_facts = len(list(s.scalars(select(CaseReport.id))))
    assert n_facts > 100   # addresses without a code still resolve by the regions they name
    cut = 0
    for q in held:
        shown = json.dumps(q.row, ensure_ascii=False) + json.dumps(q.reasons, ensure_ascii=False)
        assert not ADDRESS.search(shown), shown
        assert not set(q.row) & set(PERSONAL)
        for col in set(q.row) - {"xzdm", "xzdz"}:   # every column kept is one a reason names (the place: either)
            assert any(f"column {col}" in r for r in q.reasons), (q.row, q.reasons)
        if "xzdz" in q.row:
            assert q.row["xzdz"] in ("火星市…", "外省…", "…"), q.row   # 不详花园路… names no region: nothing kept
            cut += 1
        if any("unknown status" in r for r in q.reasons) and len(q.reasons) == 1:
            assert set(q.row) == {"zt"}
    assert cut, "no unresolvable address among the bad rows"
    with sim.engine.connect() as c:   # the source itself does hold the full addresses
        assert ADDRESS.search(c.execute(text("SELECT xzdz FROM bl_report WHERE xzdz LIKE '火星市%'")).scalar())


def test_the_api_shows_the_cut_place_only(loaded, gaz, tmp_path, login):
    _, (url, _) = loaded
    rt = runtime_on(url, gaz, tmp_path)
    from dashboard.app import create_app
    client = login(create_app(rt), "admin")   # the quarantine: admins only
    body = json.dumps(client.get("/api/v1/quarantine", query_string={"limit": 500}).json, ensure_ascii=False)
    assert "火星市…" in body or "不详…" in body or "外省…" in body
    assert not ADDRESS.search(body)


def test_rows_an_older_version_kept_whole_are_cut_at_the_next_start(store, hc_source, gaz):
    from datetime import datetime
    _, sessions = store
    sim, src = hc_source
    now = datetime.utcnow()
    address = "火星市幸福路88号院3号楼2单元501"
    with sessions.begin() as s:   # as sitroom kept it before: every mapped column, the whole address
        s.add(Quarantine(source=src.name, source_key="OLD1", first_seen=now, last_seen=now,
                         row={"bgkid": "OLD1", "xzdm": "", "xzdz": address, "bgrq": "2026-11-23 10:00:00",
                              "gxsj": "2026-11-23 10:00:00", "zt": "1"},
                         reasons=[f"unknown region '{address}' (column xzdz)"]))
    p = SourcePoller(src, sessions, gaz)
    try:
        assert p.poll(force=True).error is None
    finally:
        p.close()
    with sessions() as s:
        (q,) = s.scalars(select(Quarantine))
    # what a batch keeps of the same row today: both columns at fault (a blank code, an unknown place)
    assert q.row == {"xzdm": "", "xzdz": "火星市…"} and q.reasons == ["unknown region '火星市…' (column xzdz)"]


def test_an_address_stored_as_bytes_is_cut_like_text(store, hc_source, gaz):
    """A BLOB (SQLite) or bytea address is an address all the same."""
    from loaders.demo.health_commission import local
    sim, src = hc_source
    address = "火星市花园路12号院3号楼"
    with sim.engine.begin() as c:
        c.execute(text("INSERT INTO bl_report (bgkid, xzdm, xzdz, bgrq, gxsj, zt) VALUES ('BLOB1', '', :a, :t, :t, '1')"),
                  {"a": address.encode(), "t": local(datetime.utcnow())})
    p = SourcePoller(src, store[1], gaz)
    try:
        assert p.poll(force=True).error is None
    finally:
        p.close()
    with store[1]() as s:
        q = s.scalars(select(Quarantine).where(Quarantine.source_key == "BLOB1")).one()
    assert "花园路" not in json.dumps(q.row, ensure_ascii=False) + " ".join(q.reasons), (q.row, q.reasons)


def test_a_travel_record_in_quarantine_keeps_no_traveller_and_no_itinerary(store, make_source_url, gaz):
    """Travel records: the traveller's key is never read, and a bad record keeps only the columns its
    reasons name, so where a person came from, when and how is not kept for a record sitroom refused."""
    from loaders.demo.transport_supply import TransportSupplySim
    url = make_source_url("transport_supply")
    sim = TransportSupplySim(url, gaz, seed=5, bad_share=0.3, backfill_travel_per_day=400, provinces=("410000",))
    sim.create()
    sim.backfill(days=1)
    src = load_config(REPO / "config", {"SITROOM_DATA_DIR": "/unused"}).source("ts_travel").model_copy(update={"url": url})
    p = SourcePoller(src, store[1], gaz)
    r = p.poll(force=True)
    p.close()
    assert r.error is None and r.quarantined > 20 and r.inserted > 100
    with sim.engine.connect() as c:
        refs = set(c.execute(text("SELECT traveller_ref FROM travel_records")).scalars())
    with store[1]() as s:
        held = list(s.scalars(select(Quarantine).where(Quarantine.source == "ts_travel")))
    assert len(held) == r.quarantined
    for q in held:
        shown = json.dumps(q.row, ensure_ascii=False)
        assert "traveller_ref" not in q.row and not any(ref in shown for ref in refs)
        for col in q.row:   # every column kept is one a reason names: no origin, arrival or mode beside it
            assert any(f"column {col}" in reason for reason in q.reasons), (q.row, q.reasons)
    sim.engine.dispose()
