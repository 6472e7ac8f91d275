"""Claim values: when two can both be true, how one is keyed, and how it reads in words."""

from __future__ import annotations

import math
from typing import Optional

from nlp.lexicon import entity_entries

EXACT_TOLERANCE = 0.005  # "1.3 TB" and "1.30 TB" are one value
ABOUT_TOLERANCE = 0.10  # "about 200 crore" covers 180–220 crore
PRECISION = {"exact": 0, "about": 1, "range": 2, "more_than": 3, "less_than": 3}  # which wording stands for a value


def interval(value: dict) -> Optional[tuple[float, float]]:
    """The numbers a value allows: exact ±0.5%, about ±10%, ranges, more than / less than."""
    if isinstance(value["value"], str):
        return None
    low, high, number = value.get("low"), value.get("high"), value.get("value")
    if low is not None and high is not None:
        return low, high
    if number is None:
        return None
    qualifier = value.get("qualifier")
    if qualifier == "more_than":
        return number, math.inf
    if qualifier == "less_than":
        return 0.0, number
    spread = ABOUT_TOLERANCE if qualifier == "about" else EXACT_TOLERANCE
    return number * (1 - spread), number * (1 + spread)


def compatible(a: dict, b: dict) -> bool:
    """Two values that can both be true: equal names, or overlapping numbers (a range holding a value)."""
    if isinstance(a["value"], str) or isinstance(b["value"], str):
        return str(a["value"]).casefold() == str(b["value"]).casefold()
    one, two = interval(a), interval(b)
    if one is None or two is None:
        return True  # a denial without a figure denies every value
    return one[0] <= two[1] and two[0] <= one[1]


def value_key(value: dict) -> str:
    """One string per value: equal after normalisation, equal key (about and exact wording share it)."""
    if isinstance(value["value"], str):
        return value["value"].casefold()
    parts = (value.get("unit"), value.get("value"), value.get("low"), value.get("high"), value.get("of"),
             value.get("qualifier") if value.get("qualifier") in ("more_than", "less_than") else None)
    return "|".join("" if p is None else f"{p:g}" if isinstance(p, float) else str(p) for p in parts)


def _indian(amount: float) -> str:
    for size, word in ((1e7, "crore"), (1e5, "lakh")):
        if amount >= size:
            return f"{amount / size:,.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{amount:,.0f}"


def _amount(number: float, unit: Optional[str]) -> str:
    if unit == "INR":
        return "₹" + _indian(number)
    if number >= 1e5 or (number >= 1000 and number == int(number)):
        return _indian(number)  # 1,200 and 80,000 read the same in Indian and Western grouping
    return f"{number:g}"


def _plural(unit: Optional[str], number: Optional[float]) -> str:
    if not unit or unit in ("INR", "TB"):
        return f" {unit}" if unit == "TB" else ""
    if unit == "person":
        return " person" if number == 1 else " people"
    return f" {unit}" + ("" if number == 1 else "s")


def value_text(slot: str, value: dict) -> str:
    """The value in words: "₹200 crore", "20 of 50 servers", "more than 400 computers", "1–2 TB"."""
    if slot.startswith("action:"):
        return f"{entity_name(slot.split(':', 1)[1])}: {value['value']}"
    if isinstance(value["value"], str):
        return value["value"]
    unit, number = value.get("unit"), value.get("value")
    if number is None and value.get("low") is not None:
        low, high = value["low"], value["high"]
        span = f"{_amount(low, None)}–{_amount(high, None)}"
        for size, word in ((1e7, "crore"), (1e5, "lakh")):
            if low >= size and high >= size:  # "3–4 crore", not "3 crore–4 crore"
                span = f"{low / size:g}–{high / size:g} {word}"
                break
        return ("₹" + span) if unit == "INR" else f"{span}{_plural(unit, high)}"
    if number is None:
        return "(no figure)"
    words = {"about": "about ", "more_than": "more than ", "less_than": "less than "}.get(value.get("qualifier"), "")
    of = f" of {_amount(value['of'], unit)}" if value.get("of") else ""
    return f"{words}{_amount(number, unit)}{of}{_plural(unit, number)}"


def figure_text(figure) -> str:
    """A figure as an analyst reads it: "20 of 50 servers", "3–4 crore patients", "about ₹200 crore"."""
    return value_text("", {"value": figure.value, "low": figure.low, "high": figure.high, "of": figure.of,
                           "unit": figure.unit, "qualifier": figure.qualifier})


def entity_name(entity_id: str) -> str:
    """An entity's English name from the alias data (its id when unknown)."""
    return next((e["name"] for e in entity_entries() if e["id"] == entity_id), entity_id)
