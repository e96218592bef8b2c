"""Screen text in Chinese (default) and English. One table; pages look words up with t()."""
from __future__ import annotations

TEXT = {
    "title": ("疫情态势指挥大屏", "Epidemic situation wall"),
    "as_of": ("数据截至", "Data as of"),
    "stale": ("数据源 {source} 已 {seconds} 秒未更新 — 画面数据可能过时", "Source {source} has not updated for {seconds} s — figures may be out of date"),
    "source_down": ("数据源 {source} 连接失败：{error}", "Source {source} is failing: {error}"),
    "no_data": ("尚无数据", "No data yet"),
    "metric_new_24h": ("24小时新增确诊", "New confirmed, 24 h"),
    "metric_cumulative": ("累计确诊", "Cumulative confirmed"),
    "metric_per_100k": ("每10万人累计确诊", "Confirmed per 100,000"),
    "kpi_confirmed": ("累计确诊", "Confirmed"),
    "kpi_new_24h": ("24小时新增", "New in 24 h"),
    "kpi_active": ("现有确诊", "Active"),
    "kpi_suspected": ("疑似", "Suspected"),
    "kpi_cured": ("治愈", "Cured"),
    "kpi_dead": ("死亡", "Deaths"),
    "kpi_active_alerts": ("待确认预警", "Unacknowledged alerts"),
    "trend_title": ("{region} 每日新增（近{days}天）", "{region}: new cases per day (last {days} days)"),
    "trend_confirmed": ("新增确诊", "New confirmed"),
    "trend_suspected": ("新增疑似", "New suspected"),
    "trend_avg": ("7日平均", "7-day average"),
    "all_regions": ("全部地区", "All regions"),
    "back": ("返回全省", "Back to overview"),
    "ack": ("确认", "Acknowledge"),
    "ack_name": ("值班员姓名", "Duty officer name"),
    "ack_need_name": ("请先填写值班员姓名", "Enter the duty officer's name first"),
    "acked_by": ("已由 {by} 于 {at} 确认", "Acknowledged by {by} at {at}"),
    "alert_text": ("{level}级预警 {region}：{rule} {value}（阈值 {threshold}）", "Level {level} warning, {region}: {rule} {value} (threshold {threshold})"),
    "level_IV": ("Ⅳ级 一般", "IV Minor"),
    "level_III": ("Ⅲ级 较大", "III Serious"),
    "level_II": ("Ⅱ级 重大", "II Major"),
    "level_I": ("Ⅰ级 特别重大", "I Extreme"),
    "no_alerts": ("当前无预警", "No active warnings"),
    "more_alerts": ("另有 {n} 条预警", "{n} more warnings"),
    "legend_no_data": ("无数据", "No data"),
    "lang_switch": ("English", "中文"),
    "nav_wall": ("态势大屏", "Wall"),
    "nav_sources": ("数据源", "Sources"),
    "sources_title": ("数据源与隔离区", "Sources and quarantine"),
    "col_source": ("数据源", "Source"),
    "col_status": ("状态", "Status"),
    "col_last_success": ("最近成功", "Last success"),
    "col_lag": ("滞后(秒)", "Lag (s)"),
    "col_read": ("已读", "Read"),
    "col_inserted": ("新增", "Inserted"),
    "col_updated": ("更新", "Updated"),
    "col_quarantined": ("隔离", "Quarantined"),
    "col_error": ("最近错误", "Last error"),
    "col_key": ("源主键", "Source key"),
    "col_reasons": ("原因", "Reasons"),
    "col_row": ("原始值（仅映射列）", "Values read (mapped columns only)"),
    "col_seen": ("最近出现", "Last seen"),
    "status_ok": ("正常", "OK"),
    "status_stale": ("数据滞后", "Stale"),
    "status_failing": ("连接失败", "Failing"),
    "quarantine_title": ("隔离区：{n} 行", "Quarantine: {n} rows"),
    "filter_source": ("全部数据源", "All sources"),
    "filter_reason": ("按原因筛选，如 unknown region", "Filter by reason, e.g. unknown region"),
}
LANGS = ("zh", "en")


def t(key: str, lang: str = "zh", **kw) -> str:
    zh, en = TEXT[key]
    s = en if lang == "en" else zh
    return s.format(**kw) if kw else s


def pick_lang(requested: str | None, default: str) -> str:
    return requested if requested in LANGS else default
