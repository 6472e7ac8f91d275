"""What a fact claims: its stance (asserted, denied, attributed) and the claim slots it fills.

The slots, their cues and the stance cues live in nlp/data/claims/<type>.yaml (cyber is the default); an
incident file can add its own under `claims:`. Nothing here knows about any one incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

import yaml

from nlp.lexicon import DATA_DIR
from nlp.normalize import nfc
from prahari.errors import IncidentFileError
from prahari.model import Fact, Figure

STANCES = ("asserted", "denied", "attributed")
LANGS = ("en", "hi")
# Units folded to one per kind, so "1.3 TB" and "1,300 GB", "two weeks" and "14 days" compare equal.
UNIT_SCALE = {"GB": ("TB", 0.001), "MB": ("TB", 0.000001), "PB": ("TB", 1000.0),
              "week": ("day", 7.0), "month": ("day", 30.0), "hour": ("day", 1 / 24)}
CUE_REACH = 80  # characters between a figure and the cue that gives it its slot
ERGATIVE_REACH = 12  # characters between an agency's name and its ने ("आईएफएसओ इकाई ने")


def fold(text: str) -> str:
    """Text as the cue patterns see it: NFC, chandrabindu as anusvara, case folded (lengths unchanged)."""
    return nfc(text).replace("\u0901", "\u0902").lower()


Patterns = dict[str, re.Pattern]  # language -> every pattern of a list, as one alternation


@dataclass(frozen=True)
class SlotRule:
    """How one slot is filled: a figure kind (and units) near a cue, or a named value near a cue."""

    name: str
    exclusive: bool
    cues: Patterns
    kind: Optional[str] = None
    units: tuple[str, ...] = ()
    not_: Patterns = field(default_factory=dict)
    zero: Patterns = field(default_factory=dict)
    values: dict[str, Patterns] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimRules:
    """Stance cues, slots and agency actions for one incident."""

    denied: Patterns
    attributed: Patterns
    slots: dict[str, SlotRule]
    actions: dict[str, Patterns]


@dataclass
class SlotValue:
    """One slot a fact fills: its value (a number in the slot's unit, or a name) and how it was put."""

    slot: str
    value: Any  # float for figure slots, str for named values and actions, None for a bare denial
    unit: Optional[str] = None
    low: Optional[float] = None
    high: Optional[float] = None
    of: Optional[float] = None
    qualifier: str = "exact"
    text: str = ""  # the words in the sentence
    exclusive: bool = True


def _patterns(raw: Any, where: str) -> Patterns:
    """{en: [regex], hi: [regex]} compiled; a bad entry names where it is."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise IncidentFileError(f"claims: {where}: expected en:/hi: lists of patterns")
    out: Patterns = {}
    for lang, items in raw.items():
        if lang not in LANGS or not isinstance(items, list):
            raise IncidentFileError(f"claims: {where}: expected en:/hi: lists of patterns, got {lang!r}")
        try:
            for item in items:  # each on its own first, so a bad one is named
                re.compile(str(item))
            # Patterns are not case-folded themselves (that would turn \S into \s): they match ignoring case.
            joined = "|".join(f"(?:{nfc(str(p)).replace(chr(0x901), chr(0x902))})" for p in items)
            out[lang] = re.compile(joined or r"(?!x)x", re.IGNORECASE)
        except re.error as exc:
            raise IncidentFileError(f"claims: {where}: bad pattern ({exc})") from None
    return out


def _slot(name: str, raw: Any) -> SlotRule:
    if not isinstance(raw, dict):
        raise IncidentFileError(f"claims: slots.{name}: expected a mapping (figure, cues, values…)")
    figure = raw.get("figure") or {}
    units = figure.get("unit") or ()
    units = (units,) if isinstance(units, str) else tuple(units)
    values = raw.get("values") or {}
    if not figure.get("kind") and not values:
        raise IncidentFileError(f"claims: slots.{name}: needs figure.kind or values")
    return SlotRule(name=name, exclusive=bool(raw.get("exclusive", True)), cues=_patterns(raw.get("cues"), f"slots.{name}.cues"),
                    kind=figure.get("kind"), units=units, not_=_patterns(raw.get("not"), f"slots.{name}.not"),
                    zero=_patterns(raw.get("zero"), f"slots.{name}.zero"),
                    values={str(v): _patterns(p, f"slots.{name}.values.{v}") for v, p in values.items()})


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@lru_cache(maxsize=8)
def _rule_data(kind: str) -> dict:
    path = DATA_DIR / "claims" / f"{kind}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (DATA_DIR / "claims").glob("*.yaml")))
        raise IncidentFileError(f"claims: no rule set {kind!r} (known: {known})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=32)
def _compiled(kind: str, extra_key: str) -> ClaimRules:
    data = _rule_data(kind)
    if extra_key:
        data = _merge(data, yaml.safe_load(extra_key))
    stance = data.get("stance") or {}
    return ClaimRules(denied=_patterns(stance.get("denied"), "stance.denied"),
                      attributed=_patterns(stance.get("attributed"), "stance.attributed"),
                      slots={str(n): _slot(str(n), r) for n, r in (data.get("slots") or {}).items()},
                      actions={str(n): _patterns(p, f"actions.{n}") for n, p in (data.get("actions") or {}).items()})


def load_rules(extra: Optional[dict] = None) -> ClaimRules:
    """The rule set an incident uses: `type` (default cyber) plus its own slots and actions."""
    extra = dict(extra or {})
    kind = str(extra.pop("type", "cyber"))
    return _compiled(kind, yaml.safe_dump(extra, allow_unicode=True, sort_keys=True) if extra else "")


def _any(patterns: Patterns, lang: str, text: str) -> Optional[re.Match]:
    pattern = patterns.get(lang)
    return pattern.search(text) if pattern is not None else None


def stance_of(sentence: str, lang: str, rules: ClaimRules) -> str:
    """asserted, denied ("police denied reports of a ransom demand") or attributed ("sources said")."""
    text = fold(sentence)
    if _any(rules.denied, lang, text):
        return "denied"
    if _any(rules.attributed, lang, text):
        return "attributed"
    return "asserted"


def normalised(figure: Figure) -> tuple[Optional[str], Optional[float], Optional[float], Optional[float]]:
    """(unit, value, low, high) with the unit folded to one per kind (TB, day)."""
    unit, scale = UNIT_SCALE.get(figure.unit or "", (figure.unit, 1.0))
    times = lambda v: None if v is None else round(v * scale, 6)  # noqa: E731
    return unit, times(figure.value), times(figure.low), times(figure.high)


def _figure_value(rule: SlotRule, fact: Fact, lang: str, text: str) -> Optional[SlotValue]:
    figures = [f for f in fact.figures if f.kind == rule.kind and (not rule.units or f.unit in rule.units)]
    cues = list(rule.cues[lang].finditer(text)) if lang in rule.cues else []
    if not figures or not cues:
        return None
    best, distance = None, CUE_REACH + 1
    for figure in figures:
        at = text.find(fold(figure.text))
        if at < 0:
            continue
        for cue in cues:
            gap = max(cue.start() - (at + len(figure.text)), at - cue.end(), 0)
            if gap < distance:
                best, distance = figure, gap
    if best is None:
        return None
    unit, value, low, high = normalised(best)
    return SlotValue(rule.name, value, unit, low, high, best.of, best.qualifier, best.text, rule.exclusive)


def _actors(fact: Fact, text: str, lang: str, before: int) -> list[str]:
    """Agencies named before the action words, leaving out those only named as a unit's owner."""
    spans = []
    for entity in fact.entities:
        if entity.type != "AGENCY":
            continue
        for mention in entity.mentions:
            at = text.find(fold(mention.text))
            if 0 <= at < before:
                spans.append((at, at + len(mention.text), entity.id))
    spans.sort()
    if lang == "hi":  # the ergative ने marks the doer: "आईएफएसओ इकाई ने सीबीआई को पत्र लिखा" is IFSO's letter
        marks = [m.start() for m in re.finditer(r"\sने\s", text[:before])]
        doers = [s for s in spans if any(0 <= mark - s[1] <= ERGATIVE_REACH for mark in marks)]
        spans = doers or spans
    actors = []
    for start, end, entity_id in spans:
        others = [s for s in spans if s[2] != entity_id]
        if lang == "en":  # "the special cell of Delhi Police": Delhi Police owns, the cell acts
            owner = ((any(o[1] <= start for o in others) and re.search(r"\bof (the )?$", text[max(0, start - 8):start]))
                     or (any(o[0] > end and o[0] - end <= 20 for o in others) and text[end:end + 2] in ("'s", "’s")))
        else:  # "दिल्ली पुलिस की आईएफएसओ इकाई ने": the owner comes first, with की/के
            owner = any(o[0] > end and o[0] - end <= 40 for o in others) and re.match(r"\s*(की|के|का)\s", text[end:end + 5])
        if not owner and entity_id not in actors:
            actors.append(entity_id)
    return actors


def classify(fact: Fact, rules: ClaimRules) -> list[SlotValue]:
    """The slots one fact fills (a denial without a figure fills its slot with value None)."""
    return read_fact(fact, rules)[1]


def read_fact(fact: Fact, rules: ClaimRules) -> tuple[str, list[SlotValue]]:
    """A fact's stance and the slots it fills, reading the sentence once."""
    lang = fact.language if fact.language in LANGS else "en"
    text = fold(fact.sentence)
    out: list[SlotValue] = []
    kinds = {f.kind for f in fact.figures}
    denied = _any(rules.denied, lang, text) is not None
    stance = "denied" if denied else "attributed" if _any(rules.attributed, lang, text) else "asserted"
    for rule in rules.slots.values():
        if rule.kind and rule.kind not in kinds and not rule.zero and not denied:
            continue  # nothing this slot could take from the sentence
        if not _any(rule.cues, lang, text) and not _any(rule.zero, lang, text):
            continue
        if _any(rule.not_, lang, text):
            continue
        if rule.values:
            for name, patterns in rule.values.items():
                match = _any(patterns, lang, text)
                if match:
                    out.append(SlotValue(rule.name, name, text=fact.sentence[match.start():match.end()],
                                         exclusive=rule.exclusive))
                    break
            continue
        zero = _any(rule.zero, lang, text)
        if zero:
            out.append(SlotValue(rule.name, 0.0, rule.units[0] if rule.units else None,
                                 text=fact.sentence[zero.start():zero.end()], exclusive=rule.exclusive))
            continue
        value = _figure_value(rule, fact, lang, text)
        if value is not None:
            out.append(value)
        elif denied and _any(rule.cues, lang, text):
            out.append(SlotValue(rule.name, None, exclusive=rule.exclusive))  # "no ransom demand was made"
    if not any(e.type == "AGENCY" for e in fact.entities):
        return stance, out
    for action, patterns in rules.actions.items():
        match = _any(patterns, lang, text)
        if match:
            for actor in _actors(fact, text, lang, match.start()):
                out.append(SlotValue(f"action:{actor}", action, text=fact.sentence[match.start():match.end()],
                                     exclusive=False))
    return stance, out
