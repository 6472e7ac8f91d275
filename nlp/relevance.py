"""Relevance to an incident from its keyword groups, on normalised text."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.normalize import normalise

TITLE_WEIGHT = 0.5  # a group named in the headline counts this much towards its score of 1
HIT_WEIGHT = 0.2  # each match in the body adds this much


@lru_cache(maxsize=256)
def _term_pattern(term: str) -> re.Pattern:
    # A term matches at a word start ("hack" finds "hackers", "AIIMS" does not find "AIIMSX…" inside a word).
    return re.compile(r"(?<!\w)" + re.escape(normalise(term)))


def score_relevance(title: str, text: str, groups: list[list[str]]) -> tuple[bool, float]:
    """Relevant when every group has a term in the title or text; score weights title hits higher."""
    if not groups:
        return True, 1.0
    title_n, text_n = normalise(title), normalise(text)
    total = 0.0
    matched_all = True
    for group in groups:
        in_title = any(_term_pattern(t).search(title_n) for t in group)
        hits = sum(len(_term_pattern(t).findall(text_n)) for t in group)
        if not in_title and not hits:
            matched_all = False
        total += min(1.0, (TITLE_WEIGHT if in_title else 0.0) + HIT_WEIGHT * hits)
    return matched_all, round(total / len(groups), 3)
