"""The role an entity plays in a sentence (investigating, assisting, affected, commenting), from cue words near
its name listed in nlp/data/roles.yaml."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Iterable, Optional

import yaml

from nlp.lexicon import DATA_DIR

WINDOW = 80  # characters either side of the name; a cue further away is about something else


@lru_cache(maxsize=1)
def role_patterns() -> tuple[tuple[str, dict[str, re.Pattern]], ...]:
    """(role, {language: pattern of its cues}) in the data file's order."""
    data = yaml.safe_load((DATA_DIR / "roles.yaml").read_text(encoding="utf-8"))
    out = []
    for role, cues in data.items():
        english = "|".join(re.escape(str(cue)) for cue in cues.get("en") or [])
        hindi = "|".join(re.escape(str(cue)) for cue in cues.get("hi") or [])
        out.append((role, {"en": re.compile(rf"\b(?:{english})", re.IGNORECASE), "hi": re.compile(hindi)}))
    return tuple(out)


def role_in(sentence: str, language: str, name: str) -> Optional[str]:
    """The role whose cue sits nearest the first mention of name in the sentence, if any is within WINDOW."""
    start = sentence.find(name)
    if start < 0:
        return None
    end = start + len(name)
    best: Optional[tuple[int, int, str]] = None
    for rank, (role, patterns) in enumerate(role_patterns()):
        for cue in patterns["hi" if language == "hi" else "en"].finditer(sentence):
            if start <= cue.start() < end:
                continue  # the name itself ("Special Cell" is no cue)
            distance = cue.start() - end if cue.start() >= end else start - cue.end()
            if distance <= WINDOW and (best is None or (distance, rank) < best[:2]):
                best = (distance, rank, role)
    return best[2] if best else None


def main_role(roles: Iterable[Optional[str]]) -> Optional[str]:
    """The role given most often (ties: the data file's order), or None when no sentence gave one."""
    counted = Counter(role for role in roles if role)
    if not counted:
        return None
    order = [role for role, _ in role_patterns()]
    return max(counted, key=lambda role: (counted[role], -order.index(role)))
