"""Incident files: load a YAML incident description and validate it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import yaml

from prahari.errors import IncidentFileError
from prahari.inputs import read_regular_file, split_url

INCIDENTS_DIR = Path(__file__).parent / "incidents"
MAX_INCIDENT_BYTES = 1024 * 1024
SOURCE_TYPES = ("feed", "sitemap", "urls", "search", "archive")
SEARCH_ENGINES = ("gdelt", "bing")
ARCHIVES = ("commoncrawl", "wayback")
ARCHIVE_ENDPOINTS = {  # the public services; an incident file may name mirrors (and the tests name fakes)
    "commoncrawl_index": "https://index.commoncrawl.org",
    "commoncrawl_data": "https://data.commoncrawl.org",
    "wayback_cdx": "https://web.archive.org/cdx/search/cdx",
    "wayback_replay": "https://web.archive.org/web",
}
_HOST = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$", re.IGNORECASE)


@dataclass
class Source:
    """One way to discover articles: a feed, a sitemap, a URL list or search queries."""

    type: str
    url: Optional[str] = None
    urls: list[str] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)
    engines: list[str] = field(default_factory=lambda: list(SEARCH_ENGINES))
    endpoints: dict[str, str] = field(default_factory=dict)  # engine or archive service -> URL (mirror, test server)
    archives: list[str] = field(default_factory=list)  # archive sources: commoncrawl, wayback
    domains: list[str] = field(default_factory=list)
    url_contains: list[str] = field(default_factory=list)  # keep captures whose decoded URL holds one of these
    languages: list[str] = field(default_factory=list)  # Common Crawl's detected languages (ISO 639-3)


@dataclass
class Incident:
    """An incident to follow: its keyword groups and where to look for reports."""

    id: str
    title: str
    start: date
    relevance_groups: list[list[str]]
    sources: list[Source]
    end: Optional[date] = None
    path: Optional[Path] = None
    sample: bool = False  # the loopback sample site: crawled by `demo` and the tests, never by a plain `update`
    claims: dict[str, Any] = field(default_factory=dict)  # claim rule additions: type, slots, actions


def _fail(path: Path, key: str, problem: str) -> IncidentFileError:
    return IncidentFileError(f"{path}: {key}: {problem}")


def _check_url(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(path, key, f"expected a URL, got {value!r}")
    parts = split_url(value)
    if parts is None:
        raise _fail(path, key, f"not a valid URL: {value!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(path, key, f"not an http(s) URL: {value!r}")
    return value


def _check_date(path: Path, key: str, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()  # a time of day is more than the window needs: the day is what counts
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _fail(path, key, f"not a YYYY-MM-DD date: {value!r}") from None


def _parse_source(path: Path, index: int, raw: Any) -> Source:
    key = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, key, "expected a mapping with a 'type'")
    kind = raw.get("type")
    if kind not in SOURCE_TYPES:
        raise _fail(path, f"{key}.type", f"unknown source type {kind!r} (use one of {', '.join(SOURCE_TYPES)})")
    if kind in ("feed", "sitemap"):
        if "url" not in raw:
            raise _fail(path, f"{key}.url", "missing")
        return Source(type=kind, url=_check_url(path, f"{key}.url", raw["url"]))
    if kind == "urls":
        urls = raw.get("urls")
        if not isinstance(urls, list) or not urls:
            raise _fail(path, f"{key}.urls", "expected a non-empty list of URLs")
        return Source(type=kind, urls=[_check_url(path, f"{key}.urls[{i}]", u) for i, u in enumerate(urls)])
    if kind == "archive":
        return _parse_archive(path, key, raw)
    queries = raw.get("queries", {})  # none given: built from the relevance keywords, per language
    if not isinstance(queries, dict) or not all(isinstance(v, str) and v.strip() for v in queries.values()):
        raise _fail(path, f"{key}.queries", "expected a mapping of language to query, e.g. {hi: '…', en: '…'}")
    engines = raw.get("engines", list(SEARCH_ENGINES))
    if not isinstance(engines, list) or not engines or any(e not in SEARCH_ENGINES for e in engines):
        raise _fail(path, f"{key}.engines", f"expected a list of: {', '.join(SEARCH_ENGINES)}")
    endpoints = raw.get("endpoints", {})
    if not isinstance(endpoints, dict) or any(e not in SEARCH_ENGINES for e in endpoints):
        raise _fail(path, f"{key}.endpoints", f"expected a mapping of engine ({', '.join(SEARCH_ENGINES)}) to URL")
    return Source(type=kind, queries={str(k): str(v) for k, v in queries.items()}, engines=list(engines),
                  endpoints={e: _check_url(path, f"{key}.endpoints.{e}", u) for e, u in endpoints.items()})


def _string_list(path: Path, key: str, value: Any, required: bool = False) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value) or not all(isinstance(v, str) and v.strip()
                                                                          for v in value):
        raise _fail(path, key, "expected a " + ("non-empty " if required else "") + "list of words")
    return [v.strip() for v in value]


def _parse_archive(path: Path, key: str, raw: dict) -> Source:
    """An archive source: which archives, which outlets (domains) and which captures to keep."""
    archives = raw.get("archives", list(ARCHIVES))
    if not isinstance(archives, list) or not archives or any(a not in ARCHIVES for a in archives):
        raise _fail(path, f"{key}.archives", f"expected a list of: {', '.join(ARCHIVES)} (got {archives!r})")
    domains = _string_list(path, f"{key}.domains", raw.get("domains"), required=True)
    for index, domain in enumerate(domains):
        if not _HOST.match(domain) or "." not in domain:
            raise _fail(path, f"{key}.domains[{index}]", f"not a host name: {domain!r} (e.g. amarujala.com)")
    languages = _string_list(path, f"{key}.languages", raw.get("languages"))
    if any(not re.fullmatch(r"[a-z]{3}", lang) for lang in languages):
        raise _fail(path, f"{key}.languages", "expected ISO 639-3 codes such as hin, eng")
    endpoints = raw.get("endpoints") or {}
    if not isinstance(endpoints, dict) or any(e not in ARCHIVE_ENDPOINTS for e in endpoints):
        raise _fail(path, f"{key}.endpoints", f"expected a mapping of {', '.join(ARCHIVE_ENDPOINTS)} to URLs")
    return Source(type="archive", archives=list(archives), domains=[d.lower() for d in domains],
                  url_contains=_string_list(path, f"{key}.url_contains", raw.get("url_contains")),
                  languages=languages,
                  endpoints={**ARCHIVE_ENDPOINTS, **{e: _check_url(path, f"{key}.endpoints.{e}", u).rstrip("/")
                                                     for e, u in endpoints.items()}})


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: an incident file never needs them, and they can expand without end."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in incident files",
                                              event.start_mark)
        return super().compose_node(parent, index)


def load_incident(path: Path) -> Incident:
    """Read and validate one incident file."""
    try:
        text = read_regular_file(path, MAX_INCIDENT_BYTES, IncidentFileError).decode("utf-8")
        raw = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader that also refuses aliases
    except (OSError, UnicodeDecodeError) as exc:
        raise IncidentFileError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, always
        raise IncidentFileError(f"{path}: {where}: not valid YAML ({problem})") from None
    except ValueError as exc:  # a value YAML reads as a timestamp but is not a real date (2022-13-45)
        raise IncidentFileError(f"{path}: not a valid date or value ({' '.join(str(exc).split())})") from None
    if not isinstance(raw, dict):
        raise IncidentFileError(f"{path}: expected a mapping of keys (id, title, start, relevance, sources)")
    for key in ("id", "title", "start", "relevance", "sources"):
        if key not in raw:
            raise _fail(path, key, "missing")
    relevance = raw["relevance"]
    groups = relevance.get("all") if isinstance(relevance, dict) else None
    if not isinstance(groups, list) or not groups or not all(isinstance(g, list) and g for g in groups):
        raise _fail(path, "relevance.all", "expected a list of keyword groups, each a non-empty list")
    for number, group in enumerate(groups):
        for term in group:
            if not isinstance(term, (str, int, float)) or isinstance(term, bool) or not str(term).strip():
                raise _fail(path, f"relevance.all[{number}]", f"expected words, got {term!r}")
    sources = raw["sources"]
    if not isinstance(sources, list) or not sources:
        raise _fail(path, "sources", "expected a non-empty list")
    start = _check_date(path, "start", raw["start"])
    end = _check_date(path, "end", raw["end"]) if raw.get("end") else None
    if end and end < start:
        raise _fail(path, "end", f"{end} is before start {start}")
    return Incident(
        id=str(raw["id"]),
        title=str(raw["title"]),
        start=start,
        end=end,
        relevance_groups=[[str(term) for term in group] for group in groups],
        sources=[_parse_source(path, i, s) for i, s in enumerate(sources)],
        path=path,
        sample=raw.get("sample") is True,
        claims=_claim_rules(path, raw.get("claims")),
    )


def _claim_rules(path: Path, raw: Any) -> dict[str, Any]:
    """The `claims:` block: a rule-set type and slot/action additions (patterns are checked when compiled)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= {"type", "slots", "actions", "stance"}:
        raise _fail(path, "claims", "expected a mapping with type, slots, actions or stance")
    for key in ("slots", "actions", "stance"):
        if key in raw and not isinstance(raw[key], dict):
            raise _fail(path, f"claims.{key}", "expected a mapping")
    return raw


def is_incident_path(ref: str) -> bool:
    """A reference is a file when it ends in .yaml/.yml or contains a slash; otherwise a bundled id."""
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def find_incident(ref: str) -> Incident:
    """Load an incident by bundled id (aiims-2022) or by path to a YAML file (relative to the current folder)."""
    if is_incident_path(ref):
        return load_incident(Path(ref).absolute())
    bundled = INCIDENTS_DIR / f"{ref}.yaml"
    if not bundled.exists():
        known = ", ".join(sorted(p.stem for p in INCIDENTS_DIR.glob("*.yaml")))
        raise IncidentFileError(f"{ref}: no such incident (bundled: {known}; or give a path to a .yaml file)")
    return load_incident(bundled)


def all_incidents() -> list[Incident]:
    """Every bundled incident file (the loopback sample included)."""
    return [load_incident(p) for p in sorted(INCIDENTS_DIR.glob("*.yaml"))]


def default_incidents() -> list[Incident]:
    """What `update` crawls when no --incident is given: the bundled incidents with real sources."""
    return [incident for incident in all_incidents() if not incident.sample]


def _script(term: str) -> str:
    return "hi" if any("\u0900" <= ch <= "\u097f" for ch in term) else "en"


def search_queries(incident: Incident, source: Source) -> dict[str, str]:
    """The source's own queries, or per language: every keyword group as (a OR b), all groups required."""
    if source.queries:
        return dict(source.queries)
    queries = {}
    for lang in ("hi", "en"):
        parts = []
        for group in incident.relevance_groups:
            terms = [f'"{t}"' if " " in t else t for t in group if _script(t) == lang]
            if terms:
                parts.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
        if len(parts) == len(incident.relevance_groups):
            queries[lang] = " ".join(parts)
    return queries
