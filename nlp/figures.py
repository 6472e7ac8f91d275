"""Figures: numbers with their kind, unit, qualifier, ranges and ratios, in Hindi and English."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from prahari.model import Figure

DATA = Path(__file__).parent / "data" / "numbers.yaml"
_TOKEN = re.compile(r"(?P<num>[0-9०-९][0-9०-९,]*(?:\.[0-9०-९]+)*)|(?P<word>[A-Za-z\u0900-\u097F][A-Za-z\u0900-\u097F'’.]*)"
                    r"|(?P<sym>[₹%])")
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SENTENCE_END = re.compile(r"[।!?]|\.\s")
_LEADING_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """The number words, multipliers, qualifiers and unit nouns from the data file, folded for lookup."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    fold = _fold
    units = {fold(w): (unit, spec["kind"]) for unit, spec in data["units"].items() for w in spec["words"]}
    return {
        "words": {fold(k): v for lang in data["number_words"].values() for k, v in lang.items()},
        "mult": {fold(k): v for k, v in data["multipliers"].items()},
        "before": {fold(p): q for q, phrases in data["qualifiers_before"].items() for p in phrases},
        "after": {fold(p): q for q, phrases in data["qualifiers_after"].items() for p in phrases},
        "money_before": {fold(w) for w in data["money_before"]}, "money_after": {fold(w) for w in data["money_after"]},
        "skip": {fold(w) for w in data["skip_before_unit"]}, "units": units,
        "not_before": {fold(w) for w in data["not_figures_before"]},
        "not_after": {fold(w) for w in data["not_figures_after"]},
    }


@lru_cache(maxsize=65536)  # a text repeats most of its words, and an incident's texts repeat each other's
def _fold(word: str) -> str:
    return word.replace("\u093c", "").replace("\u0901", "\u0902").casefold().rstrip(".") or word


def _number(text: str) -> Optional[float]:
    """Read digits (Devanagari too), tolerating odd grouping ("1,2,00") and stray dots ("२००.५.१")."""
    cleaned = text.translate(_DIGITS).replace(",", "")
    match = _LEADING_NUMBER.match(cleaned)
    return float(match.group()) if match else None


def find_figures(text: str, field: str, masked: list[tuple[int, int]] = ()) -> list[Figure]:
    """Every figure in text; spans in `masked` (dates) are not read as numbers."""
    vocab = vocabulary()
    masked = list(masked) + [(m.start(), m.end()) for m in _URL.finditer(text)]
    tokens = [(m.start(), m.end(), m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    folded = [_fold(t[3]) for t in tokens]
    figures: list[Figure] = []
    consumed: set[int] = set()
    last_unit: Optional[tuple[str, str]] = None
    for i, (start, end, kind, raw) in enumerate(tokens):
        if last_unit and _SENTENCE_END.search(text, tokens[i - 1][1], start):
            last_unit = None  # a unit is only inherited within its sentence (looked for only while one is held)
        if i in consumed:
            continue
        value = _number(raw) if kind == "num" else vocab["words"].get(folded[i]) if kind == "word" else None
        if value is None or any(s <= start < e for s, e in masked):
            continue
        after_char = text[end:end + 1]
        if kind == "num" and (after_char.isalpha() and after_char not in "करलह" and not after_char.isspace()):
            if re.match(r"(st|nd|rd|th)\b", text[end:end + 3]) or after_char.isascii():
                continue  # ordinals (25th) and codes (66F) are not figures
        if kind == "num" and len(raw.replace(",", "")) >= 10:
            continue  # phone numbers and ids
        prev = folded[i - 1] if i else ""
        if prev in vocab["not_before"] or (i > 1 and folded[i - 2] in vocab["not_before"] and prev in ("and", "और")):
            continue
        j = i + 1
        low = high = None
        if j + 0 < len(tokens) and j < len(tokens) and tokens[j][2] == "num" and re.fullmatch(r"\s*[-–]\s*|\s+to\s+", text[end:tokens[j][0]]):
            low, high = value, _number(tokens[j][3])
            consumed.add(j)
            j += 1
        multiplier = vocab["mult"].get(folded[j]) if j < len(tokens) else None
        if multiplier and not (kind == "word" and value >= 100):
            value *= multiplier
            low, high = (low * multiplier, high * multiplier) if low is not None else (None, None)
            j += 1
        if j < len(tokens) and folded[j] in vocab["not_after"]:
            continue  # clock time
        # The qualifier stands before the currency sign too: "an estimated Rs 200 crore", "करीब ₹200 करोड़".
        lead = i - 1 if prev in vocab["money_before"] else i
        lead1, lead2 = (folded[lead - 1] if lead else ""), " ".join(folded[max(0, lead - 2):lead])
        qualifier = "range" if low is not None else vocab["before"].get(lead2) or vocab["before"].get(lead1) or "exact"
        for phrase, q in vocab["after"].items():
            words = phrase.split()
            if folded[j:j + len(words)] == words:
                qualifier, j = q, j + len(words)
                break
        money = prev in vocab["money_before"] or (j < len(tokens) and folded[j] in vocab["money_after"])
        if j < len(tokens) and folded[j] in vocab["money_after"]:
            j += 1
        of = None
        if not money and j + 1 < len(tokens) and folded[j] == "of":  # "20 of (its|the) 50 servers"
            k = j + 1 + (folded[j + 1] in ("its", "the"))
            if k < len(tokens) and tokens[k][2] == "num":
                of, j = _number(tokens[k][3]), k + 1
                consumed.add(k)
        if i >= 3 and folded[i - 1] == "से" and folded[i - 2] == "में" and tokens[i - 3][2] == "num":
            of = _number(tokens[i - 3][3])
        elif i >= 4 and folded[i - 2] == "से" and folded[i - 3] == "में" and tokens[i - 4][2] == "num" and prev in vocab["before"]:
            of = _number(tokens[i - 4][3])
        unit = None
        k, skipped = j, 0
        while k < len(tokens) and skipped <= 2:
            if folded[k] in vocab["units"] or tokens[k][3] in vocab["units"]:
                unit = vocab["units"].get(folded[k]) or vocab["units"][tokens[k][3]]
                j = k + 1
                break
            if folded[k] in vocab["skip"]:
                k, skipped = k + 1, skipped + 1
                continue
            break
        if tokens[j - 1][3] == "%" if j - 1 < len(tokens) else False:
            unit = ("percent", "percent")
        if money:
            figure_kind, unit_name = "money", "INR"
        elif unit:
            unit_name, figure_kind = unit
        elif last_unit and kind == "num" and j < len(tokens) and folded[j] in vocab["skip"]:
            unit_name, figure_kind = last_unit  # "40 physical and 60 virtual" after "100 servers"
        else:
            continue  # a bare number (a year, a count of nothing named) is not a figure
        if unit:
            last_unit = unit
        stop = tokens[j - 1][1] if j - 1 > i else end
        figures.append(Figure(kind=figure_kind, value=None if low is not None else value, unit=unit_name,
                              text=text[start:stop], field=field, start=start, end=stop, low=low, high=high,
                              of=of, qualifier=qualifier if low is None else "range"))
    return figures
