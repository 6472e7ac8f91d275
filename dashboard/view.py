"""The dashboard's view (search text and filters), kept in the URL query so a view can be bookmarked."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Mapping, Optional

from index.query import Filters, Scope

FIGURE_KINDS = ("money", "count", "data", "duration", "percent")
IST = "Asia/Kolkata"  # every time on screen is India time


def _date(value: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a hand-edited URL with a bad date just drops that filter


@dataclass
class View(Scope):
    """What the analyst is looking at; every field maps to one URL query parameter."""

    q: str = ""
    kind: Optional[str] = None
    starred: bool = False  # only what an analyst starred (articles, and the reports of starred facts)

    @classmethod
    def from_query(cls, params: Mapping[str, str], entities: list[str]) -> "View":
        """Read a view from st.query_params (entities: the repeated entity= values)."""
        lang = params.get("lang")
        kind = params.get("kind")
        return cls(q=(params.get("q") or "")[:500], incident=params.get("incident") or None,
                   since=_date(params.get("since")), until=_date(params.get("until")),
                   lang=lang if lang in ("hi", "en") else None, source=params.get("source") or None,
                   entity=[e for e in entities if e][:20], kind=kind if kind in FIGURE_KINDS else None,
                   starred=params.get("starred") == "1")

    def to_query(self) -> dict[str, object]:
        """The URL query for this view (empty values left out)."""
        query: dict[str, object] = {"q": self.q, "incident": self.incident, "lang": self.lang,
                                    "source": self.source, "kind": self.kind,
                                    "since": self.since.isoformat() if self.since else None,
                                    "until": self.until.isoformat() if self.until else None,
                                    "entity": list(self.entity) or None, "starred": "1" if self.starred else None}
        return {k: v for k, v in query.items() if v}

    def filters(self, first_seen_since: Optional[str] = None) -> Filters:
        return Filters(**{**self.scope(), "entity": list(self.entity)}, figure_kind=self.kind,
                       first_seen_since=first_seen_since)

    def key(self) -> str:
        """A stable string for cache keys."""
        return json.dumps(asdict(self), default=str, sort_keys=True, ensure_ascii=False)


def widget_state(view: View) -> dict[str, object]:
    """Session-state values for the keyed filter widgets, from a view."""
    return {"w_q": view.q, "w_incident": view.incident, "w_lang": view.lang or "both", "w_source": view.source,
            "w_kind": view.kind, "w_entity": list(view.entity),
            "w_dates": tuple(d for d in (view.since, view.until) if d), "w_starred": view.starred}


def view_from_widgets(state: Mapping[str, object]) -> View:
    """The view the keyed widgets currently show."""
    dates = state.get("w_dates") or ()
    dates = tuple(dates) if isinstance(dates, (list, tuple)) else (dates,)
    return View(q=str(state.get("w_q") or "").strip()[:500], incident=state.get("w_incident"),
                since=dates[0] if len(dates) > 0 else None, until=dates[1] if len(dates) > 1 else None,
                lang=state.get("w_lang") if state.get("w_lang") in ("hi", "en") else None,
                source=state.get("w_source"), entity=list(state.get("w_entity") or []), kind=state.get("w_kind"),
                starred=bool(state.get("w_starred")))


FILTER_KEYS = ("q", "incident", "since", "until", "lang", "source", "entity", "kind", "starred")


def sync_query(params, view: View) -> None:
    """Write the view into st.query_params, touching only the filter keys (pages keep their own)."""
    wanted = view.to_query()
    changed = False
    for key in FILTER_KEYS:
        if key in wanted:
            value = wanted[key]
            if params.get_all(key) != (value if isinstance(value, list) else [value]):
                params[key] = value
                changed = True
        elif key in params:
            del params[key]
            changed = True
    if changed and "page" in params:
        del params["page"]  # another view starts at its first page


def filters_key(filters: Filters) -> str:
    """Filters as a stable JSON string (what the cached data functions take)."""
    return json.dumps(asdict(filters), default=str, sort_keys=True, ensure_ascii=False)


def filters_from_key(key: str) -> Filters:
    data = json.loads(key)
    for name in ("since", "until"):
        data[name] = date.fromisoformat(data[name]) if data.get(name) else None
    return Filters(**data)


@dataclass(frozen=True)
class DayPage:
    """One page of the list: whole days from first to last; a day too big for one page is cut into parts
    (offset and count within that day)."""

    first: Optional[str]
    last: Optional[str]
    count: int
    offset: int = 0
    part: int = 0  # 1, 2, … when one day is cut into parts; 0 for whole days
    parts: int = 0

    def label(self) -> str:
        days = self.first or "undated" if self.first == self.last else f"{self.first} – {self.last}"
        return days + (f" (part {self.part} of {self.parts})" if self.parts else "")


class DayPages(Sequence):
    """The pages of the list, made when asked for: a million-article view has tens of thousands of pages, and
    a run only shows one. Kept as segments: a run of whole days (one page), or one big day cut into parts."""

    def __init__(self, segments: list[tuple[Optional[str], Optional[str], int, int]], size: int):
        self.segments = segments  # (first day, last day, articles, parts: 0 for a run of whole days)
        self.size = size
        self.starts = list(accumulate((max(parts, 1) for *_days, parts in segments), initial=0))

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, number: int) -> DayPage:  # type: ignore[override]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        at = bisect_right(self.starts, number) - 1
        first, last, count, parts = self.segments[at]
        if not parts:
            return DayPage(first, last, count)
        part = number - self.starts[at]
        return DayPage(first, last, min(self.size, count - part * self.size), part * self.size, part + 1, parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)


def day_pages(days: list[dict], size: int, most: int = 0) -> DayPages:
    """Split per-day counts ({day, count}, several rows a day allowed) into pages of whole days holding about
    `size` articles. A day with more than `most` (default 4 × size) is cut into parts of `size`, so no page
    grows without bound; undated articles come last."""
    most = most or 4 * size
    per_day: dict[Optional[str], int] = {}
    for row in days:
        per_day[row["day"]] = per_day.get(row["day"], 0) + row["count"]
    segments: list[tuple[Optional[str], Optional[str], int, int]] = []
    run: list[str] = []
    held = 0

    def close_run() -> None:
        nonlocal run, held
        if run:
            segments.append((run[0], run[-1], held, 0))
        run, held = [], 0

    for day in [d for d in sorted(d for d in per_day if d)] + ([None] if per_day.get(None) else []):
        count = per_day[day]
        if count > most or day is None:
            close_run()
            segments.append((day, day, count, -(-count // size) if count > most else 0))
            continue
        if held and held + count > size:
            close_run()
        run.append(day)
        held += count
    close_run()
    return DayPages(segments or [(None, None, 0, 0)], size)


def yesterday() -> date:
    return date.today() - timedelta(days=1)
