"""Cross-lingual story links: a Hindi report and an English one about the same event, and wire copy rewritten
in the other language (which counts once when claims count their independent outlets).

The signature is what survives translation: entity ids (one id across scripts), figures after normalisation
and the dates the text names. Which agency's wire copy an article carries comes from nlp/data/wires.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Optional

import yaml

from nlp.claims import fold, normalised
from nlp.lexicon import DATA_DIR
from prahari.model import Fact

SAME_EVENT_SCORE = 0.45  # calibrated on tests/data/crosslingual_pairs.yaml (precision and recall in the bench)
EVENT_WINDOW_HOURS = 72  # same event: published within three days
REWRITE_WINDOW_HOURS = 48  # wire copy is rewritten within two days
WEIGHTS = {"entities": 0.5, "figures": 0.3, "dates": 0.2}


@dataclass(frozen=True)
class Signature:
    """What an article reports, in terms both languages share."""

    article_id: str
    language: str
    source: str
    published: Optional[datetime]
    entities: frozenset
    figures: frozenset
    dates: frozenset
    wire: Optional[str] = None


@lru_cache(maxsize=1)
def _wire_patterns() -> list[tuple[str, re.Pattern]]:
    families = yaml.safe_load((DATA_DIR / "wires.yaml").read_text(encoding="utf-8"))
    return [(family, re.compile(r"(?<![\w\u0900-\u097f])(" + "|".join(re.escape(fold(n)) for n in names) +
                                r")(?![\w\u0900-\u097f])")) for family, names in families.items()]


def wire_of(author: Optional[str], lead: str = "") -> Optional[str]:
    """The news agency an article credits (pti, ians…) in its byline or opening words, or None."""
    for text in (author or "", (lead or "")[:120]):
        folded = fold(text)
        for family, pattern in _wire_patterns():
            if pattern.search(folded):
                return family
    return None


def figure_key(figure) -> str:
    """A figure as a language-free token: kind, unit and value (or range) after normalisation."""
    unit, value, low, high = normalised(figure)
    amount = f"{value:g}" if value is not None else f"{low:g}-{high:g}" if low is not None and high is not None else "?"
    return f"{figure.kind}:{unit}:{amount}"


def signature(article_id: str, language: str, source: str, published: Optional[str], author: Optional[str],
              facts: Iterable[Fact], lead: str = "") -> Signature:
    """The signature of one article from its facts."""
    entities, figures, dates = set(), set(), set()
    for fact in facts:
        entities.update(e.id for e in fact.entities)
        figures.update(figure_key(f) for f in fact.figures)
        dates.update(d.date for d in fact.dates)
    return Signature(article_id, language, source, _time(published), frozenset(entities), frozenset(figures),
                     frozenset(dates), wire_of(author, lead))


def _time(value: Optional[str]) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _jaccard(a: frozenset, b: frozenset) -> Optional[float]:
    return len(a & b) / len(a | b) if a or b else None


def event_score(a: Signature, b: Signature) -> float:
    """0..1: how much of what the two articles report is the same (parts neither has are left out)."""
    total = weight = 0.0
    for part, share in WEIGHTS.items():
        score = _jaccard(getattr(a, part), getattr(b, part))
        if score is not None:
            total, weight = total + share * score, weight + share
    return total / weight if weight else 0.0


def _hours_apart(a: Signature, b: Signature) -> Optional[float]:
    if a.published is None or b.published is None:
        return None
    try:
        return abs((a.published - b.published).total_seconds()) / 3600
    except TypeError:  # one naive, one aware
        return None


def same_event(a: Signature, b: Signature) -> bool:
    """Reports in different languages of the same event: shared entities and figures, within three days."""
    hours = _hours_apart(a, b)
    return (a.language != b.language and hours is not None and hours <= EVENT_WINDOW_HOURS
            and informative_overlap(a, b) and event_score(a, b) >= SAME_EVENT_SCORE)


def informative_overlap(a: Signature, b: Signature) -> bool:
    """More in common than the incident's own name: a shared figure or date, or two shared entities."""
    return bool(a.figures & b.figures or a.dates & b.dates or len(a.entities & b.entities) >= 2)


def same_story(a: Signature, b: Signature) -> bool:
    """One agency's wire story in two languages (a rewrite): same event, same agency credit, within two days."""
    hours = _hours_apart(a, b)
    return (a.wire is not None and a.wire == b.wire and hours is not None and hours <= REWRITE_WINDOW_HOURS
            and same_event(a, b))


def story_links(signatures: list[Signature]) -> dict[str, str]:
    """article id -> the id of the earliest article of its cross-lingual story (only for linked articles)."""
    wired = [s for s in signatures if s.wire]
    parent = {s.article_id: s.article_id for s in wired}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    # Only articles published within the rewrite window of each other can be one story: compare along a
    # window over publication time, not every pair (a year of wire copy is thousands of articles).
    timed = sorted((_utc(s.published).timestamp(), s.article_id, s) for s in wired if s.published is not None)
    window = REWRITE_WINDOW_HOURS * 3600
    for index, (when, _id, a) in enumerate(timed):
        for later, _other, b in timed[index + 1:]:
            if later - when > window:
                break
            if a.language != b.language and a.wire == b.wire and same_event(a, b):
                parent[root(a.article_id)] = root(b.article_id)
    groups: dict[str, list[Signature]] = {}
    for s in wired:
        groups.setdefault(root(s.article_id), []).append(s)
    links = {}
    for members in groups.values():
        if len(members) > 1:
            first = min(members, key=lambda s: (s.published.isoformat() if s.published else "~", s.article_id))
            links.update({s.article_id: first.article_id for s in members})
    return links
