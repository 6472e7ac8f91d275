"""The timeline's charts as plain Vega-Lite specs (st.vega_lite_chart). Altair would build the same specs, but
checks each against the whole Vega-Lite schema on every run: a fifth of a first page load's script time."""

from __future__ import annotations

from typing import Optional

DAY_FORMAT = "%Y-%m-%d"  # every axis and tooltip shows the year
PICK = "pick"  # the selection a click on a bar makes: {"pick": [{"day": …}]}


def _day_axis(domain: Optional[list[str]], axis: bool = True) -> dict:
    """The shared x axis: calendar days over the same domain, so bars and the fact strip line up."""
    x: dict = {"field": "day", "type": "temporal", "title": None}
    if domain:
        x["scale"] = {"domain": domain}
    x["axis"] = {"format": DAY_FORMAT, "labelAngle": 0, "labelOverlap": True} if axis else None
    return x


def _day_tooltip() -> dict:
    return {"field": "day", "type": "temporal", "format": DAY_FORMAT}


def report_bars(rows: list[dict], domain: Optional[list[str]]) -> dict:
    """Reports per day, coloured by language; a click picks a day (the others fade)."""
    return {
        "data": {"values": rows}, "height": 200, "mark": {"type": "bar", "cursor": "pointer"},
        "params": [{"name": PICK, "select": {"type": "point", "fields": ["day"], "on": "click"}}],
        "encoding": {
            "x": _day_axis(domain),
            "y": {"field": "count", "type": "quantitative", "title": "reports"},
            "color": {"field": "language", "type": "nominal", "title": "language"},
            "opacity": {"condition": {"param": PICK, "value": 1.0}, "value": 0.45},
            "tooltip": [_day_tooltip(), {"field": "language", "type": "nominal"},
                        {"field": "count", "type": "quantitative"}]}}


def event_bars(rows: list[dict], domain: Optional[list[str]]) -> dict:
    """Events per day, on the day they happened."""
    return {
        "data": {"values": rows}, "height": 200, "mark": {"type": "bar", "color": "#7b4fa0"},
        "encoding": {
            "x": _day_axis(domain),
            "y": {"field": "count", "type": "quantitative", "title": "events"},
            "tooltip": [_day_tooltip(), {"field": "count", "type": "quantitative"}]}}


def fact_strip(rows: list[dict], domain: Optional[list[str]]) -> dict:
    """A thin strip of ticks on the days facts refer to, under the bars."""
    return {
        "data": {"values": rows}, "height": 24, "mark": {"type": "tick", "color": "#c0392b", "thickness": 2, "size": 12},
        "encoding": {
            "x": _day_axis(domain, axis=False),
            "tooltip": [_day_tooltip(), {"field": "count", "type": "quantitative", "title": "facts"}]}}
