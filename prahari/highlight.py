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
    """Split a sentence into (text, kind or None) pieces; longer marks win where two overlap."""
    taken: list[tuple[int, int, str]] = []
    for text, kind in sorted(set(marks), key=lambda m: -len(m[0])):
        start = sentence.find(text)
        while start >= 0:
            end = start + len(text)
            if all(end <= s or start >= e for s, e, _k in taken):
                taken.append((start, end, kind))
            start = sentence.find(text, end)
    out, pos = [], 0
    for start, end, kind in sorted(taken):
        if start > pos:
            out.append((sentence[pos:start], None))
        out.append((sentence[start:end], kind))
        pos = end
    if pos < len(sentence):
        out.append((sentence[pos:], None))
    return out
