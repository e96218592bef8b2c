"""Unit tests: one source row -> its store values or its reasons; source times; cursor values."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from loaders.mapping import RowMapper
from loaders.timeparse import decode_cursor, encode_cursor, shift_raw, to_utc
from sitroom.config import load_config

from conftest import REPO

NOW = datetime(2026, 11, 23, 4, 0)  # UTC
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def mapper(gaz):
    return RowMapper(load_config(REPO / "config", {"SITROOM_DATA_DIR": "/d"}).source("hc_cases"), gaz)


def row(**kw):
    base = {"bgkid": "A1", "gxsj": "2026-11-23 11:00:00", "bgrq": "2026-11-23 10:00:00", "zt": "1",
            "xzdm": "410102", "xzdz": "郑州市中原区"}
    return {**base, **kw}


def test_good_row(mapper):
    v, reasons, _ = mapper.map(row(), NOW)
    assert reasons == []
    assert (v["source_key"], v["status"], v["region"], v["prefecture"], v["province"]) == \
        ("A1", "confirmed", "410102", "410100", "410000")
    assert v["reported_at"] == datetime(2026, 11, 23, 2, 0)  # 10:00 Beijing = 02:00 UTC


def test_selected_columns_exclude_personal_data(mapper):
    assert sorted(mapper.selected_columns) == ["bgkid", "bgrq", "gxsj", "xzdm", "xzdz", "zt"]


@pytest.mark.parametrize("raw,expected", [
    (row(xzdm=None, xzdz="Luoyang"), "410300"),
    (row(xzdm="", xzdz="洛阳市西工区"), "410303"),
    (row(xzdm="410102000000"), "410102"),
    (row(xzdm="999999", xzdz="西安"), "610100"),       # a bad code falls back to the place name
])
def test_region_from_code_or_name(mapper, raw, expected):
    v, reasons, _ = mapper.map(raw, NOW)
    assert reasons == [] and v["region"] == expected


@pytest.mark.parametrize("raw,reason", [
    (row(bgkid=None), "missing key (column bgkid)"),
    (row(bgrq="2026-13-45"), "unreadable report time '2026-13-45' (column bgrq)"),
    (row(gxsj=None), "missing update time (column gxsj)"),
    (row(zt="9"), "unknown status '9' (column zt); expected one of 1, 2, 3, 4, 5"),
    (row(xzdm="", xzdz=""), "missing region (column xzdm / xzdz)"),
    (row(xzdm="", xzdz="山阳"), "ambiguous region '山阳'"),
])
def test_reasons(mapper, raw, reason):
    _, reasons, _ = mapper.map(raw, NOW)
    assert any(r.startswith(reason) for r in reasons), reasons


def test_all_reasons_at_once(mapper):
    _, reasons, _ = mapper.map(row(bgkid="", zt=None, xzdm="", xzdz="火星市", bgrq=None), NOW)
    assert len(reasons) == 4


def test_time_parsing_and_cursor_round_trip():
    assert to_utc("2026/11/23 08:30", SH) == datetime(2026, 11, 23, 0, 30)
    assert to_utc(datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("UTC")), SH) == datetime(2026, 11, 23, 8, 30)
    with pytest.raises(ValueError):
        to_utc("yesterday", SH)
    assert shift_raw("2026-11-23 08:30:00", 60) == "2026-11-23 08:29:00"
    assert shift_raw("2026-11-23T08:30:00.250000", 1) == "2026-11-23T08:29:59.250000"
    assert shift_raw(datetime(2026, 1, 1), 1) == datetime(2025, 12, 31, 23, 59, 59)
    for ts, key in [("2026-11-23 08:30:00", "K1"), (datetime(2026, 1, 1, 5), 42)]:
        assert decode_cursor(encode_cursor(ts, key)) == (ts, key)
