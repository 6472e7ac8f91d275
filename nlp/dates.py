"""Dates named in the text, resolved against the publication date (absolute, weekday, relative)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Optional

import dateparser

from prahari.model import DateMention

_EN_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
              r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_HI_MONTHS = r"(?:जनवरी|फरवरी|फ़रवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|सितम्बर|अक्टूबर|अक्तूबर|नवंबर|नवम्बर|दिसंबर|दिसम्बर)"
_MONTH = rf"(?:{_EN_MONTHS}|{_HI_MONTHS})"
_DAY = r"[0-3]?[0-9०-३][0-9०-९]?"
_YEAR = r"(?:20[0-9]{2}|२०[०-९]{2})"
_ABSOLUTE = re.compile(
    rf"(?<![\w\u0900-\u097f])(?:(?P<d1>{_DAY})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})(?:,?\s+(?P<y1>{_YEAR}))?"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>{_DAY})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>{_YEAR}))?"
    rf"|(?P<d3>{_DAY})[-/.](?P<mo3>[01]?[0-9])[-/.](?P<y3>{_YEAR}))(?![\w\u0900-\u097f])", re.IGNORECASE)
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
             "सोमवार": 0, "मंगलवार": 1, "बुधवार": 2, "गुरुवार": 3, "बृहस्पतिवार": 3, "शुक्रवार": 4, "शनिवार": 5, "रविवार": 6}
_WEEKDAY = re.compile(r"(?<![\w\u0900-\u097f])(?:(?:last|this|on|पिछले|बीते)\s+)?(" + "|".join(_WEEKDAYS) +
                      r")(?![\w\u0900-\u097f])", re.IGNORECASE)
_RELATIVE = re.compile(r"(?<![\w\u0900-\u097f])(yesterday|last week|कल|पिछले (?:हफ्ते|हफ़्ते|सप्ताह)|"
                       r"बीते (?:हफ्ते|सप्ताह)|(\d+|two|three|four|five|दो|तीन|चार|पांच) (?:days ago|दिन पहले))"
                       r"(?![\w\u0900-\u097f])", re.IGNORECASE)
_PAST = re.compile(r"(था|थी|थे|गया|गई|गए|हुआ|हुई|हुए|किया|की थी|लिया|बताया|कहा)")
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "दो": 2, "तीन": 3, "चार": 4, "पांच": 5}


@lru_cache(maxsize=4096)
def _parse_day_month(span: str, published: date) -> Optional[date]:
    """dateparser's reading of a day-and-month span, remembered: reports of one day name the same few dates,
    and each parse costs about a millisecond and a half."""
    parsed = dateparser.parse(span, languages=["hi", "en"], settings={
        "RELATIVE_BASE": datetime(published.year, published.month, published.day),
        "PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["day", "month"]})
    return parsed.date() if parsed else None


def load_date_data() -> None:
    """Load dateparser's Hindi and English data now: its first parse takes about 0.15 s."""
    _parse_day_month("23 नवंबर 2022", date(2022, 11, 25))


def _resolve_absolute(match: re.Match, published: date) -> Optional[date]:
    span = match.group().translate(_DIGITS)
    has_year = any(match.group(g) for g in ("y1", "y2", "y3"))
    if match.group("d3"):
        try:
            return date(int(match.group("y3").translate(_DIGITS)), int(match.group("mo3")), int(match.group("d3").translate(_DIGITS)))
        except ValueError:
            return None
    found = _parse_day_month(span, published)
    if found is None:
        return None
    if not has_year:
        found = found.replace(year=published.year)
        if found > published:
            found = found.replace(year=published.year - 1)
    return found


def find_dates(text: str, field: str, published: Optional[date]) -> list[DateMention]:
    """Every date mention in text, resolved against the publication date (needed for weekdays and relatives)."""
    mentions: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for match in _ABSOLUTE.finditer(text):
        resolved = _resolve_absolute(match, published or date.today())
        if resolved:
            mentions.append(DateMention(resolved.isoformat(), match.group(), field, match.start(), match.end(), "absolute"))
            taken.append((match.start(), match.end()))
    if published is None:
        return mentions
    for match in _WEEKDAY.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        back = (published.weekday() - _WEEKDAYS[match.group(1).casefold()]) % 7
        resolved = published - timedelta(days=back)
        mentions.append(DateMention(resolved.isoformat(), match.group(), field, match.start(), match.end(), "weekday"))
    for match in _RELATIVE.finditer(text):
        word = match.group(1).casefold()
        if word == "कल":
            sentence_end = re.search(r"[।.!?]", text[match.end():])
            rest = text[match.end(): match.end() + (sentence_end.start() if sentence_end else 200)]
            if not _PAST.search(rest):
                continue  # कल before a future verb means tomorrow: not a report date
            delta = 1
        elif word in ("yesterday",):
            delta = 1
        elif match.group(2):
            delta = int(match.group(2)) if match.group(2).isdigit() else _SMALL.get(match.group(2).casefold(), 0)
        else:
            delta = 7
        resolved = published - timedelta(days=delta)
        mentions.append(DateMention(resolved.isoformat(), match.group(), field, match.start(), match.end(), "relative"))
    return sorted(mentions, key=lambda m: m.start)
