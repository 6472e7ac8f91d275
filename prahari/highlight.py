"""Mark agencies, figures and dates inside a sentence, for the digest and the dashboard."""

from __future__ import annotations

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
