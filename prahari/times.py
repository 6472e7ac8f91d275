"""Times as analysts read them: stored times carry their offset; everything shown or exported is India time
unless $PRAHARI_TZ names another zone."""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import lru_cache
from typing import Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prahari.errors import PrahariError

DEFAULT_ZONE = "Asia/Kolkata"


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PrahariError(f"unknown time zone {name!r} in $PRAHARI_TZ (use a name like Asia/Kolkata or UTC)") from None


def display_zone() -> ZoneInfo:
    """The zone every time on screen and in spreadsheets is shown in ($PRAHARI_TZ, default Asia/Kolkata)."""
    return _zone(os.environ.get("PRAHARI_TZ") or DEFAULT_ZONE)


def zone_label() -> str:
    """A short name for the display zone: IST for India, else the zone's name."""
    name = str(display_zone())
    return "IST" if name == DEFAULT_ZONE else name


def local(value: Optional[str]) -> Optional[Union[datetime, date]]:
    """A stored ISO time in the display zone (a bare YYYY-MM-DD stays a date); None when it is not a time."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment  # a time stored without an offset is shown as it was written
    return moment.astimezone(display_zone())


def shown(value: Optional[str], with_zone: bool = True) -> str:
    """"2022-11-23 21:05 IST" (or the day alone for a date), "" when there is no time."""
    moment = local(value)
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {zone_label()}" if with_zone else "")
