"""The bilingual data files, each read once: entity aliases and the cross-script glossary."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def entity_entries() -> tuple[dict, ...]:
    """Every known entity: id, type, name, name_hi and aliases (nlp/data/entities.yaml)."""
    return tuple(yaml.safe_load((DATA_DIR / "entities.yaml").read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def glossary_groups() -> tuple[tuple[str, ...], ...]:
    """Groups of words that mean the same across scripts (nlp/data/glossary.yaml)."""
    return tuple(tuple(str(word) for word in group)
                 for group in yaml.safe_load((DATA_DIR / "glossary.yaml").read_text(encoding="utf-8")))


def equivalence_groups() -> list[list[str]]:
    """Glossary groups, then every entity's names and aliases as one group each (for search expansion)."""
    groups = [list(group) for group in glossary_groups()]
    groups += [list(e.get("aliases") or []) + [e["name"]] + ([e["name_hi"]] if e.get("name_hi") else [])
               for e in entity_entries()]
    return groups
