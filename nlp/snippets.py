"""Search snippets: where a text has the words a search looks for, and the stretch around the first one."""

from __future__ import annotations

import re

from nlp.normalize import analyse

_WORDS = re.compile(r"[^\s\"'“”‘’()\[\]{}<>,;:!?।॥|/]+")


def search_spans(text: str, words: frozenset[str], prefixes: tuple[str, ...],
                 phrases: tuple[tuple[str, ...], ...] = ()) -> list[tuple[int, int]]:
    """Where the text has a searched word or a whole searched phrase (compared after the analysis the stores
    index with), as (start, end) spans of its words, in order."""
    stream: list[tuple[str, int]] = []  # (token, index of the word it came from)
    # A full stop ends a sentence more often than it belongs to the word ("hacked."): it is left unmarked.
    spans = [(m.start(), m.end() - 1 if m.group().endswith(".") and len(m.group()) > 1 else m.end())
             for m in _WORDS.finditer(text)]
    for index, (start, end) in enumerate(spans):
        stream += [(token, index) for token in analyse(text[start:end])]
    hit: set[int] = set()
    for position, (token, index) in enumerate(stream):
        if token in words or (prefixes and token.startswith(prefixes)):
            hit.add(index)
        for phrase in phrases:
            if tuple(t for t, _ in stream[position:position + len(phrase)]) == phrase:
                hit.update(i for _, i in stream[position:position + len(phrase)])
    return [spans[i] for i in sorted(hit)]


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
