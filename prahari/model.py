"""The one data model every stage passes along (field names follow the export schema)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Optional


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """Dataclasses, lists and dicts as plain JSON-ready values (a faster dataclasses.asdict for our model)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value):
            return value
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return {name: plain(getattr(value, name)) for name in names}


@dataclass
class Mention:
    """Where an entity was named: field is "title" or "text", offsets into that field."""

    field: str
    text: str
    start: int
    end: int


@dataclass
class Entity:
    """An agency, organisation, person or place, with every place it was mentioned."""

    id: str
    type: str  # AGENCY | ORG | PERSON | PLACE
    name: str
    name_hi: Optional[str] = None
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class Figure:
    """A number with its meaning: kind, value (or low/high), unit, qualifier and location."""

    kind: str  # money | count | data | duration | percent
    value: Optional[float]
    unit: Optional[str]
    text: str
    field: str
    start: int
    end: int
    low: Optional[float] = None
    high: Optional[float] = None
    of: Optional[float] = None
    qualifier: str = "exact"  # exact | about | more_than | less_than | range


@dataclass
class DateMention:
    """A date named in the text, resolved against the publication date."""

    date: str  # YYYY-MM-DD
    text: str
    field: str
    start: int
    end: int
    resolution: str = "absolute"  # absolute | weekday | relative


@dataclass
class Fact:
    """One sentence that states something: who, how much, when, with its source."""

    id: str
    article_id: str
    url: str
    source: str
    language: str
    sentence: str
    event_date: Optional[str]
    published: Optional[str] = None
    incident: Optional[str] = None
    entities: list[Entity] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    first_seen: Optional[str] = None
    stance: str = "asserted"  # asserted | denied ("police denied…") | attributed ("sources said…"), read on export


@dataclass
class RawPage:
    """A fetched page as the crawler saw it, kept so extraction can be rebuilt offline."""

    url: str
    body: bytes = field(repr=False)  # a log line about a page must not carry the whole page
    fetched_at: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hint_published: Optional[str] = None  # date from the feed or sitemap entry
    hint_title: Optional[str] = None
    incident: Optional[str] = None
    # Where a backfilled capture came from: {archive: commoncrawl|wayback, timestamp, filename, offset,
    # length} or {archive, timestamp, replay_url}; None for a live fetch.
    archive: Optional[dict[str, Any]] = None

    def stored_headers(self) -> dict[str, str]:
        """The headers as stores keep them: the archive provenance rides along under ARCHIVE_HEADER."""
        if not self.archive:
            return self.headers
        return {**self.headers, ARCHIVE_HEADER: json.dumps(self.archive, sort_keys=True)}

    @staticmethod
    def split_headers(stored: dict[str, str]) -> tuple[dict[str, str], Optional[dict[str, Any]]]:
        """(headers, archive provenance) from what a store kept."""
        headers = dict(stored or {})
        archive = headers.pop(ARCHIVE_HEADER, None)
        return headers, json.loads(archive) if archive else None


ARCHIVE_HEADER = "X-Prahari-Archive"


@dataclass
class Article:
    """An extracted news report and everything the pipeline learned about it."""

    id: str
    url: str
    canonical_url: str
    source: str
    title: str
    language: str
    text: str
    published: Optional[str] = None
    fetched: Optional[str] = None
    first_seen: Optional[str] = None
    author: Optional[str] = None
    relevant: bool = False
    relevance: float = 0.0
    incident: Optional[str] = None
    story_id: Optional[str] = None
    duplicate_of: Optional[str] = None
    content_hash: Optional[str] = None
    extraction: Optional[str] = None  # which path produced the body: precise | recall | json-ld
    archive: Optional[dict[str, Any]] = None  # a backfilled capture: archive, timestamp, WARC file/offset or replay
    entities: list[Entity] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    # The analysed title and text, made once where the article is built, beside the strings they were made
    # from: (title, text, analysed title, analysed text). Stores index them; never exported.
    search_forms: Optional[tuple[str, str, str, str]] = field(default=None, repr=False, compare=False)

    EXPORT_FIELDS = (
        "id", "url", "canonical_url", "source", "title", "language", "published", "fetched",
        "first_seen", "author", "text", "relevant", "relevance", "incident", "story_id",
        "duplicate_of", "entities", "figures", "dates", "extraction", "archive",
    )

    def filed_day(self) -> Optional[str]:
        """The day the article is filed under: its publication day, else the day it was first seen."""
        return (self.published or self.first_seen or "")[:10] or None

    def to_record(self) -> dict[str, Any]:
        """The exported JSON object for this article (export schema of DESIGN.md)."""
        return {name: plain(getattr(self, name)) for name in self.EXPORT_FIELDS}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Article":
        """Rebuild an article from its exported or stored record."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        values["entities"] = [entity_from_dict(e) for e in record.get("entities") or []]
        values["figures"] = [Figure(**f) for f in record.get("figures") or []]
        values["dates"] = [DateMention(**d) for d in record.get("dates") or []]
        values["facts"] = [fact_from_dict(f) for f in record.get("facts") or []]
        values["relevant"] = bool(values.get("relevant"))
        return cls(**values)


FACT_EXPORT_FIELDS = (
    "id", "article_id", "url", "source", "language", "incident", "published", "event_date",
    "sentence", "entities", "figures", "dates", "stance", "claim_ids", "first_seen",
)


def fact_to_record(fact: Fact) -> dict[str, Any]:
    """The exported JSON object for a fact."""
    return {name: plain(getattr(fact, name)) for name in FACT_EXPORT_FIELDS}


def entity_from_dict(data: dict[str, Any]) -> Entity:
    """Rebuild an Entity (and its mentions) from a dict."""
    mentions = [Mention(**m) for m in data.get("mentions") or []]
    return Entity(**{**data, "mentions": mentions})


def fact_from_dict(data: dict[str, Any]) -> Fact:
    """Rebuild a Fact from a dict."""
    return Fact(**{
        **data,
        "entities": [entity_from_dict(e) for e in data.get("entities") or []],
        "figures": [Figure(**f) for f in data.get("figures") or []],
        "dates": [DateMention(**d) for d in data.get("dates") or []],
    })


def article_id_for(canonical_url: str) -> str:
    """Stable article id: the same canonical URL always gives the same id."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()[:16]
