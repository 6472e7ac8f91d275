"""Entities from the alias data file: longest match wins; unknown organisations by pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.lexicon import entity_entries

_CONSONANT = "\u0915-\u0939\u0958-\u095f"
_DEV_LETTER = "\u0900-\u097f"


@dataclass(frozen=True)
class Known:
    id: str
    type: str
    name: str
    name_hi: str


def _alias_pattern(alias: str) -> str:
    """Regex for an alias tolerant of nukta, chandrabindu/anusvara, hyphen/space and spacing variants."""
    out = []
    for ch in alias:
        if ch == "\u093c":
            continue
        if ch in "\u0901\u0902":
            out.append("[\u0901\u0902]")
        elif "\u0915" <= ch <= "\u0939":
            out.append(re.escape(ch) + "\u093c?")
        elif ch in " -":
            out.append(r"[\s\-]*" if ch == "-" else r"\s+")
        elif ch == ".":
            out.append(r"\.?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=1)
def load_aliases() -> tuple[dict[str, Known], re.Pattern, re.Pattern, dict[str, str]]:
    """Compile the alias data: (entities by id, case-sensitive regex, case-insensitive regex, alias→id)."""
    entries = entity_entries()
    known, exact, folded, lookup = {}, [], [], {}
    for entry in entries:
        known[entry["id"]] = Known(entry["id"], entry["type"], entry["name"], entry["name_hi"])
        for alias in {entry["name"], entry["name_hi"], *entry.get("aliases", [])}:
            key = _key(alias)
            lookup[key] = entry["id"]
            short_caps = len(alias) <= 5 and alias.upper() == alias and alias.isascii()
            (exact if short_caps else folded).append(alias)
    by_length = lambda aliases: "|".join(_alias_pattern(a) for a in sorted(set(aliases), key=len, reverse=True))  # noqa: E731
    # Word edges: not inside a Latin word, not inside a Devanagari word (vowel signs included).
    edge_l, edge_r = rf"(?<![A-Za-z0-9{_DEV_LETTER}])", rf"(?![A-Za-z0-9{_DEV_LETTER}])"
    return (known, re.compile(f"{edge_l}(?:{by_length(exact)}){edge_r}"),
            re.compile(f"{edge_l}(?:{by_length(folded)}){edge_r}", re.IGNORECASE), lookup)


def _key(text: str) -> str:
    text = re.sub(r"[\u093c]", "", text).replace("\u0901", "\u0902")
    return re.sub(r"[\s\-.]+", " ", text).strip().casefold()


def find_known(text: str) -> list[tuple[str, int, int]]:
    """(entity id, start, end) of every alias mention, longest first, never overlapping."""
    known, exact, folded, lookup = load_aliases()
    candidates = []
    for pattern in (folded, exact):
        for match in pattern.finditer(text):
            entity_id = lookup.get(_key(match.group()))
            if entity_id:
                candidates.append((match.start(), match.end(), entity_id))
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: list[tuple[int, int]] = []
    found = []
    for start, end, entity_id in candidates:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        found.append((entity_id, start, end))
    return sorted(found, key=lambda f: f[1])


_ACRONYM_ORG = re.compile(r"((?:[A-Z][a-z]+|of|and|for|the|&)(?:\s+(?:[A-Z][a-z]+|of|and|for|the|&)){1,7})\s+\(([A-Z][A-Za-z0-9-]{1,9})\)")
# The nouns that end an organisation's name: a text without any of them is not scanned for one.
_EN_ORG_NOUNS = ("Ministry", "Department", "Agency", "Unit", "Bureau", "Commission", "Authority")
_HI_ORG_NOUNS = ("मंत्रालय", "विभाग", "एजेंसी", "ब्यूरो", "आयोग", "प्राधिकरण")
_EN_ORG = re.compile(rf"\b((?:[A-Z][a-z]+\s+){{1,4}}(?:{'|'.join(_EN_ORG_NOUNS)}))\b")
_HI_ORG = re.compile(rf"((?:[{_DEV_LETTER}]+\s+){{1,3}}(?:{'|'.join(_HI_ORG_NOUNS)}))(?![{_DEV_LETTER}])")
_HI_STOP = {"के", "की", "का", "ने", "को", "से", "में", "पर", "और", "भी", "एक", "इस", "यह", "कि", "लिए", "तहत"}


def slug(text: str) -> str:
    """Stable id for an unknown organisation."""
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    if ascii_slug:
        return ascii_slug
    return re.sub(r"\s+", "-", text.strip())


def find_unknown_orgs(text: str, taken: list[tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    """(id, name, start, end) of organisations by pattern, where no known alias already matched."""
    found = []
    free = lambda s, e: not any(s < te and ts < e for ts, te in taken)  # noqa: E731
    for match in _ACRONYM_ORG.finditer(text) if "(" in text else ():
        if free(match.start(), match.end()):
            found.append((slug(match.group(2)), match.group(1).strip(), match.start(), match.end()))
    for pattern, nouns in ((_EN_ORG, _EN_ORG_NOUNS), (_HI_ORG, _HI_ORG_NOUNS)):
        if not any(noun in text for noun in nouns):
            continue
        for match in pattern.finditer(text):
            words = match.group(1).split()
            # The name starts after the last function word ("बाद में विदेश मंत्रालय" → "विदेश मंत्रालय").
            cut = max((n for n, w in enumerate(words[:-1]) if w in _HI_STOP or w in ("The", "A", "An")), default=-1)
            words = words[cut + 1:]
            if len(words) < 2:
                continue
            name = " ".join(words)
            start = match.end(1) - len(name)
            if free(start, match.end(1)) and all(free(s, e) for _i, _n, s, e in found):
                found.append((slug(name), name, start, match.end(1)))
    return found
