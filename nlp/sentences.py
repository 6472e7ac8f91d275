"""Sentence split for Hindi and English: ends on । ? ! . but not after abbreviations."""

from __future__ import annotations

import re

ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "rs", "no", "st", "prof", "sr", "jr", "lt", "gen", "col", "capt", "vs",
                 "govt", "dept", "डॉ", "श्री", "सं", "रु"}
# A sentence ends at । ? ! or a full stop that is not inside a number.
_END = re.compile(r"([।?!]+|\.(?!\d))[\"”’']?(?=\s|$)")
_LAST_WORD = re.compile(r"(\S+)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence."""
    spans, start = [], 0
    for match in _END.finditer(text):
        if match.group(1) == ".":
            word = _LAST_WORD.search(text[max(0, match.start() - 12):match.start()])
            if word and (word.group(1).casefold() in ABBREVIATIONS or len(word.group(1)) == 1):
                continue  # "Dr. M. Srinivas", "Rs. 200": not the end of a sentence
        end = match.end()
        if text[start:end].strip():
            spans.append(_trim(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    # Paragraph breaks always end a sentence.
    result = []
    for s, e in spans:
        offset = s
        for part in text[s:e].split("\n"):
            if part.strip():
                result.append(_trim(text, offset, offset + len(part)))
            offset += len(part) + 1
    return result


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
