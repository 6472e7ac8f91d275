"""Mark agencies, figures and dates inside a sentence, for the digest and the dashboard."""

from __future__ import annotations

import re

from prahari.model import Fact


def fact_marks(fact: Fact) -> list[tuple[str, str]]:
    """(surface text, kind) for everything the fact names: agency/org/person/place, figure, date."""
    marks = [(m.text, e.type.lower()) for e in fact.entities for m in e.mentions]
    marks += [(f.text, "figure") for f in fact.figures]
    marks += [(d.text, "date") for d in fact.dates]
    return [(text, kind) for text, kind in marks if text]


def segments(sentence: str, marks: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Split a sentence into (text, kind or None) pieces at every occurrence of each mark."""
    spans = []
    for text, kind in set(marks):
        start = sentence.find(text)
        while start >= 0:
            spans.append((start, start + len(text), kind))
            start = sentence.find(text, start + len(text))
    return split_at(sentence, spans)


def split_at(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """Split text into (piece, kind or None) at (start, end, kind) spans; where two overlap the longer wins."""
    taken: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if 0 <= start < end <= len(text) and all(end <= s or start >= e for s, e, _k in taken):
            taken.append((start, end, kind))
    out, pos = [], 0
    for start, end, kind in sorted(taken):
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], kind))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


_WORDS = re.compile(r"[^\s\"'“”‘’()\[\]{}<>,;:!?।॥|/]+")


def search_spans(text: str, words: frozenset[str], prefixes: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the text has a searched word (compared after the same analysis the stores index with)."""
    from nlp.normalize import analyse

    spans = []
    for match in _WORDS.finditer(text):
        tokens = analyse(match.group())
        if any(t in words or t.startswith(prefixes) for t in tokens) if prefixes else any(t in words for t in tokens):
            spans.append((match.start(), match.end()))
    return spans


def snippet(text: str, spans: list[tuple[int, int]], width: int = 220) -> list[tuple[str, bool]]:
    """The stretch of text around the first match, split into (piece, is_match); [] when nothing matched."""
    if not spans:
        return []
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    pieces: list[tuple[str, bool]] = [("… ", False)] if start else []
    cursor = start
    for s, e in spans:
        if s >= end:
            break
        if s < cursor:
            continue
        pieces += [(text[cursor:s], False), (text[s:e], True)]
        cursor = e
    pieces.append((text[cursor:end] + (" …" if end < len(text) else ""), False))
    return [(piece, marked) for piece, marked in pieces if piece]
