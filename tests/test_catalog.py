"""The message catalog: every entry in both languages, Chinese without English in it, and what the
store keeps in English (quarantine reasons from the real row mapper, the alert engine's trail notes,
conflicts of an officer's action, sources' errors) said in Chinese through it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard import machine_text as mt
from dashboard.i18n import TEXT, t
from latin import latin_words
from loaders.mapping import RowMapper
from sitroom.alerts import SYSTEM, AlertConflict, acknowledge, evaluate, resolve, trail
from sitroom.config import ThresholdRule, load_config
from sitroom.store.models import Alert

from conftest import REPO
from test_alerts import NOW, RULE, cases

FIELD = re.compile(r"\{(\w+)[^}]*\}")


def test_every_entry_has_both_languages_with_the_same_fields():
    for key, pair in TEXT.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        zh, en = pair
        assert isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip(), key
        assert set(FIELD.findall(zh)) == set(FIELD.findall(en)), key


def test_chinese_entries_hold_no_english():
    leaks = {k: latin_words(FIELD.sub("", zh)) for k, (zh, _) in TEXT.items()}
    assert not {k: w for k, w in leaks.items() if w}


def _config():
    return load_config(REPO / "config", {"SITROOM_DATA_DIR": "/d"})


def _codes(cfg) -> set[str]:
    """Names from config a Chinese screen shows as they are: source ids, column names, the sources' words."""
    out = set()
    for src in cfg.sources.sources:
        out |= {src.name, *src.columns.mapped().values(), *getattr(src, "check_totals", {}).values()}
        for words in src.values.model_dump().values() if hasattr(src.values, "model_dump") else src.values.values():
            out |= {str(w) for w in (words or {})} | {str(w) for w in (words or {}).values()}
    return {p for w in out for p in re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*", w)}


BAD_VALUES = ("十二", -3, 1.5, 10**15, "火星市", "山阳", "陕西省", "2099-01-01 00:00:00", "1990-01-01",
              "昨天", "甲" * 400, "甲\x00乙", 400, b"\xff\xfe", "20261301")


def _reasons(gaz) -> list[str]:
    """Every reason the real mapper gives rows of every configured source, each column bad in turn."""
    cfg = _config()
    now = datetime(2026, 11, 23, 4, 0)
    out = []
    for src in cfg.sources.sources:
        mapper = RowMapper(src, gaz, cfg.sources)
        cols = mapper.selected_columns
        for col in cols:
            for bad in BAD_VALUES:
                _, reasons, _ = mapper.map({c: None for c in cols} | {col: bad}, now)
                out += reasons
    return sorted(set(out))


def test_every_reason_of_the_mapper_is_said_in_chinese(gaz):
    allowed = _codes(_config())
    reasons = _reasons(gaz)
    assert len(reasons) > 40
    for r in reasons:
        zh = mt.reason(r, "zh")
        quoted = re.sub(r"b?'[^']*'|\"[^\"]*\"", "", zh)   # values quoted from the row are the source's own
        assert not latin_words(quoted, allowed), (r, zh)
        assert mt.reason(r, "en") == r


@pytest.mark.parametrize("stored,said", [
    ("unknown region '火星市' (column xzdz)", "无法识别的地区：'火星市'（列 xzdz）"),
    ("unknown status '9' (column zt); expected one of 1, 2, 3, 4, 5",
     "无法识别的状态：'9'（列 zt）；应为以下之一：1, 2, 3, 4, 5"),
    ("missing region (column xzdm / xzdz)", "缺少地区（列 xzdm / xzdz）"),
    ("confirmed text longer than 200 characters (column ljqz)", "确诊：文字超过 200 个字符（列 ljqz）"),
    ("conflict: 2 rows of key 'K1' with the same update time 2026-11-23 10:00:00 UTC differ: status (column zt) "
     "'1' / '2'; region name (column xzdz) (a person's place: not shown); the stored figure is kept",
     "冲突：键 'K1' 的 2 行更新时间相同 2026-11-23 10:00:00 UTC，内容不同：状态（列 zt） '1' / '2'；"
     "地区名称（列 xzdz） （个人地址，不显示）；保留已存的数字"),
    ("something sitroom never wrote", "something sitroom never wrote"),   # no template: as stored
])
def test_stored_reasons_old_and_new(stored, said):
    assert mt.reason(stored, "zh") == said and mt.reason(stored, "en") == stored


def test_the_engines_trail_notes_are_said_in_chinese(store, gaz):
    _, sessions = store
    held = RULE.model_copy(update={"for_minutes": 5})
    cases(sessions, "410100", 12)
    with sessions.begin() as s:
        evaluate(s, [held], gaz, NOW)                                  # pending
    with sessions.begin() as s:
        evaluate(s, [held], gaz, NOW + timedelta(minutes=5))           # fired: held since …
    cases(sessions, "410100", 40, tag="more")
    with sessions.begin() as s:
        evaluate(s, [held], gaz, NOW + timedelta(minutes=6))           # level IV -> II
    with sessions.begin() as s:
        evaluate(s, [held], gaz, NOW + timedelta(minutes=30))          # unacknowledged for 15 min
    with sessions.begin() as s:
        evaluate(s, [held], gaz, NOW + timedelta(hours=30))            # back below the recover value
    cases(sessions, "410300", 12)
    with sessions.begin() as s:
        evaluate(s, [RULE], gaz, NOW)
    with sessions.begin() as s:
        evaluate(s, [], gaz, NOW)                                      # rule removed from rules.yaml
    with sessions() as s:
        notes = [(e.note, e.by) for a in s.scalars(select(Alert)) for e in trail(s, a.id) if e.note]
    assert len(notes) >= 5 and all(by == SYSTEM for _, by in notes), notes
    for note, by in notes:
        zh = mt.trail_note(note, by, "zh")
        assert not latin_words(zh), (note, zh)
        assert mt.trail_note(note, by, "en") == note
    assert mt.actor(SYSTEM, "zh") == "系统" and mt.actor(SYSTEM, "en") == "system"
    # a person's note is kept as typed, in any language
    assert mt.trail_note("level IV -> III", "值班员甲", "zh") == "level IV -> III"


def test_conflicts_of_an_officers_action_are_said_in_chinese(store, gaz):
    from dashboard.components.alert_banner import conflict_text
    from sitroom.alerts import AlertNotFound
    _, sessions = store
    cases(sessions, "410100", 12)
    with sessions.begin() as s:
        evaluate(s, [RULE], gaz, NOW)
    with sessions() as s:
        alert_id = s.scalar(select(Alert.id))
    said = []
    with sessions.begin() as s:
        acknowledge(s, alert_id, "张三", now=NOW)
    for act in (lambda s: acknowledge(s, alert_id, "李四", now=NOW),
                lambda s: acknowledge(s, alert_id, "李四", now=NOW),
                lambda s: resolve(s, alert_id, "李四", "再次", now=NOW)):
        with pytest.raises(AlertConflict) as e, sessions.begin() as s:
            act(s)
        said.append(conflict_text(e.value, "zh"))
        if len(said) == 1:
            with sessions.begin() as s:
                resolve(s, alert_id, "张三", "演练结束", now=NOW)
    said.append(conflict_text(AlertNotFound("no alert 12345"), "zh"))
    assert said[0].startswith("已由 张三 于") and said[1] == said[2] == f"预警 {alert_id} 已由 张三 解除", said
    assert said[3] == "预警 12345 不存在"
    assert not [w for s in said for w in latin_words(s)]


@pytest.mark.parametrize("error,said", [
    ("source database file not found: /srv/x/hc.db", ("数据源数据库文件不存在", "/srv/x/hc.db")),
    ("SourceMissing: source database file not found: /srv/x/hc.db", ("数据源数据库文件不存在", "/srv/x/hc.db")),
    ("(sqlite3.OperationalError) no such table: bl_report", ("数据源中没有该表", None)),
    ('(psycopg.OperationalError) connection failed: connection refused', ("无法连接数据源（连接被拒绝）", None)),
    ("something else entirely", ("数据源返回错误", None)),
])
def test_a_sources_error_is_said_in_chinese_with_its_own_words_after(error, said):
    zh, raw = mt.source_error(error, "zh")
    assert zh == said[0] and raw == (said[1] or error)
    assert mt.source_error(error, "en") == (error, None)


@pytest.mark.parametrize("error,status,said", [
    ("HTTP 503 Service Unavailable", 503, ("对方应答 HTTP 503", "Service Unavailable")),
    ("timed out", None, ("超时", None)),
    ("target is no longer in notify.yaml", None, ("notify.yaml 中已没有此目标", None)),
    ("ConnectionRefusedError: [Errno 111] Connection refused", None,
     ("无法送达通知目标", "ConnectionRefusedError: [Errno 111] Connection refused")),
    (None, 200, ("对方应答 HTTP 200", None)),
])
def test_a_notifications_failure_is_said_in_chinese(error, status, said):
    assert mt.delivery_error(error, status, "zh") == said
    assert mt.delivery_error(error, status, "en") == ((error, None) if error else ("HTTP 200", None))


@pytest.mark.parametrize("stored,said", [
    ("already acknowledged by 张三 at 2026-11-23 12:00:00 UTC", "已由 张三 于 2026-11-23 12:00:00 UTC 确认"),
    ("alert 7 was already resolved by system", "预警 7 已由 系统 解除"),
    ("alert 7 is resolved", "预警 7 当前为“已解除”"),
    ("alert 7", "预警 7"), ("idle", "长时间未操作，自动退出"),
    ("silence new_cases_24h 410300", "静默 new_cases_24h 410300"), ("60 min: 演练", "60 分钟：演练"),
    ("already silenced by 张三 until 2026-11-23 13:00:00 UTC", "已由 张三 静默至 2026-11-23 13:00:00 UTC"),
])
def test_the_audit_logs_notes_are_said_in_chinese(stored, said):
    assert mt.reason(stored, "zh") == said and mt.reason(stored, "en") == stored


def test_a_chinese_filter_finds_the_english_reasons_stored():
    assert mt.reason_query("无法识别的地区") == "unknown region"
    assert mt.reason_query("报告时间") == "report time"
    assert mt.reason_query("火星") == "火星" and mt.reason_query("unknown") == "unknown"
