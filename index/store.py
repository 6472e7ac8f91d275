"""The Store interface every backend implements, and the factory that opens one from a URL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional, TypeVar

from index.query import Filters, Node
from nlp.normalize import search_text
from prahari.errors import StoreError
from prahari.model import Article, Fact, RawPage

ID_CHUNK = 500  # ids per query when reading facts or story members of many articles
# Story assignment compares a new article with at most this many stored articles per key it holds (its content hash,
# each of its MinHash bands): the lowest ids. A story carried thousands of times then costs each new copy what one
# carried fifty times does; a copy needs to match only one of its story's copies to join it.
CANDIDATES_PER_KEY = 50
FACET_SIZE = 50  # values per facet (languages, sources, entities, figure kinds)
BRIEF_FIELDS = ("id", "story_id", "source", "language", "published", "author", "title", "url")
T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (every loop that reads or writes in batches uses this)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def search_forms(article: Article) -> tuple[str, str]:
    """The article's analysed title and text: the ones made with it, unless its title or text changed since."""
    made = article.search_forms
    if made is not None and made[0] == article.title and made[1] == article.text:
        return made[2], made[3]
    return search_text(article.title), search_text(article.text)


def candidate_lists(wanted: list[tuple[str, list[str], str]], holders: list[set[str]],
                    read: Callable[[set[str]], dict[str, dict]]) -> list[list[dict]]:
    """story_candidates' answer from each article's key holders: every candidate read once (`read`: ids -> stored
    rows, the ids not stored left out), with the first copy of each candidate's story, the article itself left out."""
    known = read(set().union(*holders))
    known.update(read({row["story_id"] for row in known.values() if row["story_id"]} - known.keys()))
    out = []
    for (_hash, _bands, exclude_id), its in zip(wanted, holders):
        alike = {i for i in its if i in known}
        alike |= {known[i]["story_id"] for i in alike if known[i]["story_id"] in known}
        out.append([known[i] for i in sorted(alike - {exclude_id})])
    return out


class CrawlSide(ABC):
    """The write side a crawl, reprocess and reindex use: pages in, articles and stories out."""

    url: str

    @abstractmethod
    def known_urls(self) -> set[str]:
        """Canonical URLs of every page already stored (so crawls never refetch them)."""

    @abstractmethod
    def save(self, pages: list[RawPage], articles: list[Article],
             signatures: Optional[dict[str, tuple[bytes, list[str]]]] = None,
             repoints: Optional[list[tuple[str, str]]] = None) -> None:
        """Write one batch: raw pages, articles with facts, MinHash signatures, and story re-pointing
        ((old story id, earliest copy's id): every copy of the old story moves to the earliest copy's id)."""

    @abstractmethod
    def signatures(self, article_ids: list[str]) -> dict[str, tuple[bytes, list[str]]]:
        """The stored MinHash signature and bands of each of these articles (those that have one)."""

    @abstractmethod
    def story_candidates(self, wanted: list[tuple[str, list[str], str]]) -> list[list[dict]]:
        """For each (content hash, MinHash bands, article id) of a batch, the other stored articles with that content
        hash or a shared band, at most CANDIDATES_PER_KEY for the hash and for each band (the lowest ids), and the
        first copy of each of their stories (the article named by its story_id): id, story_id, published,
        first_seen, signature, content_hash."""

    @abstractmethod
    def iter_pages(self) -> Iterator[RawPage]:
        """Every stored raw page, for reprocessing."""

    @abstractmethod
    def get_page(self, canonical_url: str) -> Optional[RawPage]:
        """The raw page stored for a canonical URL (the evidence behind an article), or None."""

    @abstractmethod
    def listing_validators(self) -> dict[str, tuple[Optional[str], Optional[str]]]:
        """ETag and Last-Modified of each feed or sitemap as last fully crawled."""

    @abstractmethod
    def save_listing_validators(self, validators: dict[str, tuple[Optional[str], Optional[str]]]) -> None:
        """Remember feed and sitemap validators for the next conditional request."""

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes follow (reindex, building a large store): the store may spend more cores and make reads
        wait for the end (Elasticsearch refreshes once at the end; SQLite commits every 25,000 rows and at the
        end, so other connections see the writes then), trading freshness of reads for speed. Leaving the block,
        by an error or a stop too, keeps every write that returned."""
        yield

    def ready_for_search(self) -> None:
        """Bring what ranks searches up to date now, after a large write, so the first search does not wait for it
        (SQLite builds its search index; Elasticsearch has nothing to do)."""

    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def identity(self) -> str:
        """What this store is, however its URL was spelled (a real file path; a cluster uuid and prefix)."""


class ReadSide(ABC):
    """The read models the CLI, the digest and the dashboard use."""

    @abstractmethod
    def get_article(self, article_id: str) -> Optional[Article]:
        """One article by id (irrelevant ones included), or None."""

    @abstractmethod
    def iter_articles(self, filters: Filters) -> Iterator[Article]:
        """Articles matching the filters, oldest first."""

    @abstractmethod
    def iter_facts(self, filters: Filters) -> Iterator[Fact]:
        """Facts of the articles matching the filters, in event-date order."""

    @abstractmethod
    def search(self, query: Node, filters: Filters, limit: int = 20) -> list[Article]:
        """Articles matching a parsed query, best first."""

    @abstractmethod
    def timeline(self, filters: Filters) -> list[dict]:
        """Per-day buckets: day, language, count."""

    @abstractmethod
    def list_articles(self, filters: Filters, limit: int, offset: int = 0) -> list[Article]:
        """One page of the articles matching the filters, oldest first."""

    @abstractmethod
    def count_articles(self, filters: Filters) -> int:
        """How many articles match the filters."""

    @abstractmethod
    def facets(self, filters: Filters, size: int = FACET_SIZE) -> dict[str, list[dict]]:
        """Counts by language, source, entity (with type, name, name_hi) and figure kind: [{value, count, …}]."""

    @abstractmethod
    def filter_options(self) -> dict[str, list[dict]]:
        """Every incident, source and entity (id, type, name, name_hi) the store holds, for filter pickers."""

    @abstractmethod
    def entity_timeline(self, filters: Filters, entity_ids: list[str]) -> list[dict]:
        """Articles per day mentioning each of the entities: [{day, entity, count}]."""

    @abstractmethod
    def fact_days(self, filters: Filters) -> list[dict]:
        """Facts per event date (or publication day when a fact names none): [{day, count}]."""

    @abstractmethod
    def facts_for(self, article_ids: list[str]) -> dict[str, list[Fact]]:
        """The facts of each of these articles."""

    @abstractmethod
    def story_members(self, story_ids: list[str]) -> dict[str, list[dict]]:
        """Every copy of each story: [{id, story_id, title, source, url, language, published}], earliest first."""

    @abstractmethod
    def entity_first_seen(self, filters: Filters) -> list[dict]:
        """Entities first mentioned at or after filters.first_seen_since: entity (no mentions), first_seen, articles."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many pages, articles, relevant articles and facts are stored."""


class LedgerSide(ABC):
    """Derived data the claim service writes and reads, per incident: the claim ledger (one JSON row per fact
    that fills a claim slot or names a day, keyed by fact_id, with article_id), the running totals it keeps
    per slot and day (JSON docs by key), and the claims and events read off them (docs with id and slot or date).
    """

    @abstractmethod
    def put_ledger(self, incident: str, rows: list[dict], article_ids: Optional[list[str]] = None) -> None:
        """Replace the ledger rows of these articles (of the whole incident when article_ids is None)."""

    @abstractmethod
    def ledger(self, incident: str, fact_ids: Optional[list[str]] = None,
               article_ids: Optional[list[str]] = None) -> list[dict]:
        """Ledger rows of an incident: all of them, or those of these facts or of these articles."""

    @abstractmethod
    def put_state(self, incident: str, docs: dict[str, dict], replace: bool = False) -> None:
        """Write running totals by key (replace=True: they are all there is for the incident)."""

    @abstractmethod
    def state(self, incident: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        """Running totals by key: all of the incident's, or these keys (missing ones are left out)."""

    @abstractmethod
    def put_claims(self, incident: str, claims: list[dict], slots: Optional[list[str]] = None) -> None:
        """Replace the claims of these slots (every claim of the incident when slots is None)."""

    @abstractmethod
    def put_events(self, incident: str, events: list[dict], days: Optional[list[str]] = None) -> None:
        """Replace the events of these days (every event of the incident when days is None)."""

    @abstractmethod
    def claims(self, incident: Optional[str] = None) -> list[dict]:
        """Stored claims (of one incident, or all), by slot and id."""

    @abstractmethod
    def events(self, incident: Optional[str] = None) -> list[dict]:
        """Stored events (of one incident, or all), by date and id."""

    @abstractmethod
    def article_briefs(self, article_ids: list[str]) -> dict[str, dict]:
        """id, story_id, source, language, published, author, title and url of each article (no text)."""


WORKSPACE_KINDS = ("article", "fact", "search")


class WorkspaceSide(ABC):
    """What analysts add by hand: a star, tags and a note on an article or a fact ({starred, tags, note,
    updated}), and saved searches ({name, query, saved}). Kept apart from everything extraction derives, so
    reprocess never touches it, and reindex copies it."""

    @abstractmethod
    def put_workspace(self, kind: str, docs: dict[str, Optional[dict]]) -> None:
        """Write workspace docs of a kind (article, fact or search) by key; a None doc deletes its key."""

    @abstractmethod
    def workspace(self, kind: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        """Workspace docs of a kind by key: all of them, or those of these keys (missing ones are left out)."""


class Store(CrawlSide, ReadSide, LedgerSide, WorkspaceSide):
    """Where pages, articles and facts live; SQLite by default, Elasticsearch when one machine is not enough."""


def open_store(url: str, create: bool = True) -> Store:
    """Open the store a URL names: sqlite:///relative.db, sqlite:////absolute.db, or http(s)://… for Elasticsearch.

    create=False (read commands): a store that does not exist, or does not look like ours, is an error;
    nothing is created or changed to open it.
    """
    if url.startswith("sqlite:///"):
        from index.sqlite import SQLiteStore
        return SQLiteStore(url, create)
    if url.startswith(("http://", "https://")):
        from index.elasticsearch import ElasticsearchStore  # imported only when asked for: SQLite users never need it
        return ElasticsearchStore(url, create)
    raise StoreError(f"{url}: unknown store URL (use sqlite:///path/to/file.db or http://host:9200)")
