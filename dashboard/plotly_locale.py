"""plotly.js's own words (the chart toolbar's tooltips, month names) in Chinese, handed to a chart in
its config: the basic bundle carries English only, and the closed network loads no locale file.
Strings from plotly.js 3.x, lib/locales/zh-cn.js (MIT, see vendor/plotly-LICENSE.txt), for what
sitroom's charts show."""
from __future__ import annotations

ZH_CN = {
    "dictionary": {
        "Autoscale": "自动缩放", "Box Select": "矩形框选", "Download plot": "下载图表",
        "Download plot as a PNG": "下载图表为PNG格式", "Lasso Select": "套索选择", "Pan": "平移",
        "Reset axes": "重置轴", "Reset view": "重置视图", "Zoom": "缩放", "Zoom in": "放大", "Zoom out": "缩小",
        "Toggle Spike Lines": "启用/禁用尖峰线", "Show closest data on hover": "显示最接近的数据",
        "Compare data on hover": "比较数据", "Double-click to zoom back out": "双击返回缩小显示",
        "Toggle show closest data on hover": "启用/禁用显示最接近的数据", "Produced with Plotly.js": "由 Plotly.js 生成",
        "Snapshot succeeded": "截图成功", "Taking snapshot - this may take a few seconds": "正在截图 - 可能需要几秒钟",
        "Sorry, there was a problem downloading your snapshot!": "抱歉，截图出错！",
        "Click to enter Plot title": "点击输入图表标题", "Click to enter X axis title": "点击输入X轴标题",
        "Click to enter Y axis title": "点击输入Y轴标题", "Double-click on legend to isolate one trace": "双击图例来突显对应轨迹",
        "trace": "轨迹", "new text": "新建文本", "max": "最大值", "min": "最小值", "mean": "平均值",
        "median": "中位数", "upper fence": "上界", "lower fence": "下界",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
        "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
        "date": "%Y-%m-%d",
    },
}


def chart_locale(lang: str) -> dict:
    """What a dcc.Graph's config takes to speak the page's language."""
    return {"locale": "zh-CN", "locales": {"zh-CN": ZH_CN}} if lang == "zh" else {}
