"""Search snippets: where a text has the words a search looks for, and the stretch around the first one."""

from __future__ import annotations

import re

from nlp.normalize import analyse

_WORDS = re.compile(r"[^\s\"'“”‘’()\[\]{}<>,;:!?।॥|/]+")


def search_spans(text: str, words: frozenset[str], prefixes: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the text has a searched word (compared after the same analysis the stores index with)."""
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
