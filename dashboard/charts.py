"""The timeline's charts as HTML drawn on the server and shown with st.html: reports per day by language (each
bar a link to that day alone), events per day, and a strip of the days facts refer to. Vega-Lite drew them
before, but its code is the largest part of a first page load (775 KB to fetch and compile on two cores), and
Streamlit reveals the page only once every element's code is in: the list waited on the chart library."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Optional

from dashboard.render import LANGUAGE_LABELS

LANGUAGE_ORDER = list(LANGUAGE_LABELS)  # bar parts bottom up, coloured by class (pr-hi, pr-en); others after them
MOST_LABELS = 8  # dates under the x axis, at most

STYLE = (
    "<style>"
    ".pr-legend{font-size:.8em;color:#444;margin:0 0 .3em 2.4em}"
    ".pr-key{display:inline-block;width:.75em;height:.75em;margin:0 .3em 0 .9em;vertical-align:-.05em}"
    ".pr-plot{position:relative;height:200px;margin:.5em 0 0 2.4em;border-bottom:1px solid #bbb}"
    ".pr-grid{position:absolute;left:0;right:0;border-top:1px solid #eee;font-size:.7em;color:#666}"
    ".pr-grid span{position:absolute;right:100%;margin-right:.4em;transform:translateY(-50%)}"
    ".pr-bar{position:absolute;bottom:0;display:flex;flex-direction:column-reverse;min-width:2px}"
    ".pr-bar i{display:block}.pr-bar i,.pr-key{background:#7b4fa0}"
    ".pr-bar i.pr-hi,.pr-key.pr-hi{background:#83c9ff}.pr-bar i.pr-en,.pr-key.pr-en{background:#0068c9}"
    "a.pr-bar{cursor:pointer}a.pr-bar:hover{opacity:.7}"
    ".pr-axis{position:relative;height:1.5em;margin-left:2.4em;font-size:.7em;color:#666}"
    ".pr-axis span{position:absolute;top:.3em;transform:translateX(-50%);white-space:nowrap}"
    ".pr-strip{position:relative;height:14px;margin:.2em 0 .4em 2.4em}"
    ".pr-strip i{position:absolute;top:1px;width:2px;height:12px;background:#c0392b}"
    "</style>"
)


def as_day(value: Optional[str]) -> Optional[date]:
    """The calendar day an ISO date or time starts with; None for none, or for one that does not parse."""
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def day_span(days: Iterable[Optional[str]]) -> Optional[tuple[date, date]]:
    """The first and last of some ISO days (undated or unreadable ones left out), or None when there are none."""
    known = sorted(day for day in map(as_day, days) if day)
    return (known[0], known[-1]) if known else None


def _slots(span: tuple[date, date]) -> int:
    return (span[1] - span[0]).days + 1


def _left(day: date, span: tuple[date, date], inset: float = 0.0) -> float:
    """Where a day's column starts, in percent of the plot's width (inset: a fraction of one column)."""
    return round(((day - span[0]).days + inset) * 100 / _slots(span), 3)


def _step(top: int) -> int:
    """A round gridline step (1, 2 or 5 times a power of ten) giving about four lines up to `top`."""
    rough = max(top / 4, 1)
    power = 10 ** math.floor(math.log10(rough))
    return next(power * m for m in (1, 2, 5, 10) if power * m >= rough)


def _axis(span: tuple[date, date]) -> str:
    """Dates under the plot, evenly spaced, at most MOST_LABELS of them."""
    every = math.ceil(_slots(span) / MOST_LABELS)
    labels = (span[0] + timedelta(days=n) for n in range(0, _slots(span), every))
    return "<div class='pr-axis'>" + "".join(
        f"<span style='left:{_left(day, span, 0.5)}%'>{day.isoformat()}</span>" for day in labels) + "</div>"


def _plot(columns: dict[date, list[tuple[str, int]]], span: tuple[date, date], unit: str,
          link: Optional[Callable[[str], str]]) -> str:
    """Stacked bars, one per day, over gridlines; each bar's tooltip names the day and every part's count.
    A million-article store has hundreds of days, so the markup per bar is kept short."""
    top = max((sum(n for _, n in parts) for parts in columns.values()), default=1)
    step = _step(top)
    ceiling = math.ceil(top / step) * step
    grid = "".join(f"<div class='pr-grid' style='bottom:{value * 100 / ceiling:.2f}%'><span>{value:,}</span></div>"
                   for value in range(0, ceiling + 1, step))
    bars = []
    for day, parts in sorted(columns.items()):
        total = sum(n for _, n in parts)
        label = f"{day.isoformat()}: {total:,} {unit}" + (
            " (" + ", ".join(f"{LANGUAGE_LABELS.get(part, part)} {n:,}" for part, n in parts) + ")" if len(parts) > 1 else "")
        pieces = "".join(f"<i class='pr-{html.escape(part)}' style='flex:{n}'></i>" for part, n in parts)
        tag, target = ("a", f" href='{html.escape(link(day.isoformat()))}'") if link else ("div", "")
        bars.append(f"<{tag} class='pr-bar'{target} title='{html.escape(label)}' "
                    f"style='left:{_left(day, span, 0.1)}%;height:{total * 100 / ceiling:.2f}%'>{pieces}</{tag}>")
    width = f"<style>.pr-bar{{width:{round(80 / _slots(span), 3)}%}}</style>"
    return f"{width}<div class='pr-plot' role='img' aria-label='{unit} per day'>{grid}{''.join(bars)}</div>" + _axis(span)


def _language_rank(code: str) -> int:
    return LANGUAGE_ORDER.index(code) if code in LANGUAGE_ORDER else len(LANGUAGE_ORDER)


def report_bars(rows: list[dict], span: Optional[tuple[date, date]], link: Callable[[str], str]) -> str:
    """Reports per day ({day, language, count} rows), stacked by language; a click on a bar opens the link made
    for its day."""
    if span is None:
        return ""
    columns: dict[date, list[tuple[str, int]]] = {}
    for row in rows:
        if day := as_day(row["day"]):
            columns.setdefault(day, []).append((row["language"], row["count"]))
    for parts in columns.values():
        parts.sort(key=lambda part: _language_rank(part[0]))
    languages = sorted({row["language"] for row in rows}, key=_language_rank)
    legend = "<div class='pr-legend'>" + "".join(
        f"<span class='pr-key pr-{html.escape(code)}'></span>"
        f"{html.escape(LANGUAGE_LABELS.get(code, code))}" for code in languages) + "</div>"
    return legend + _plot(columns, span, "reports", link)


def event_bars(rows: list[dict], span: Optional[tuple[date, date]]) -> str:
    """Events per day ({day, count} rows), on the day they happened."""
    if span is None:
        return ""
    columns = {day: [("events", row["count"])] for row in rows if (day := as_day(row["day"]))}
    return _plot(columns, span, "events", None)


def fact_strip(rows: list[dict], span: Optional[tuple[date, date]]) -> str:
    """A thin strip of red ticks on the days facts refer to ({day, count} rows), lined up under the bars."""
    if span is None:
        return ""
    ticks = "".join(f"<i title='{day.isoformat()}: {row['count']:,} facts' style='left:{_left(day, span, 0.5)}%'></i>"
                    for row in rows if (day := as_day(row["day"])))
    return f"<div class='pr-strip'>{ticks}</div>"
