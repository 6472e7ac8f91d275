"""The embedded SQLite store: one file, WAL, FTS5 over analysed title, text and fact sentences; searches are ranked by
the search index in the folder beside it (index/textindex.py), which the file's change log keeps up to date."""

from __future__ import annotations

import functools
import inspect
import json
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Optional

import orjson

try:  # a newer SQLite than Debian 12 ships (3.51 against 3.40): its FTS5 ranks a common word's matches 40 % sooner
    from pysqlite3 import dbapi2 as sqlite3
except ImportError:  # no wheel for this platform: the system's SQLite answers the same, only slower
    import sqlite3

from index.query import Filters, Node, Phrase, Term
from index.store import BRIEF_FIELDS, CANDIDATES_PER_KEY, FACET_SIZE, ID_CHUNK, Store, candidate_lists, search_forms
from index.textindex import TextIndex
from nlp.dedup import canonical_url
from prahari.errors import NoStore, StoreError
from prahari.model import Article, Entity, Fact, RawPage, article_id_for, fact_from_dict

# The default unicode61 tokenizer cuts Devanagari words at every vowel sign and virama;
# counting marks (M*) as word characters keeps दिल्ली one token.
FTS_TOKENIZE = "unicode61 categories 'L* N* Co M*'"

MIGRATIONS: list[tuple[int, str]] = [
    (1, f"""
    CREATE TABLE pages (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, canonical_url TEXT NOT NULL UNIQUE, status INTEGER,
        headers TEXT, body BLOB, fetched_at TEXT, hint_published TEXT, hint_title TEXT, incident TEXT);
    CREATE TABLE articles (
        id TEXT PRIMARY KEY, canonical_url TEXT NOT NULL UNIQUE, url TEXT, source TEXT, title TEXT,
        language TEXT, published TEXT, day TEXT, fetched TEXT, first_seen TEXT, author TEXT, text TEXT,
        relevant INTEGER, relevance REAL, incident TEXT, story_id TEXT, duplicate_of TEXT,
        content_hash TEXT, entities TEXT, figures TEXT, dates TEXT);
    CREATE INDEX articles_day ON articles(day);
    CREATE INDEX articles_incident ON articles(incident, relevant);
    CREATE INDEX articles_hash ON articles(content_hash);
    CREATE INDEX articles_story ON articles(story_id);
    CREATE INDEX articles_first_seen ON articles(first_seen);
    CREATE TABLE article_entities (article_id TEXT, entity_id TEXT, PRIMARY KEY (article_id, entity_id));
    CREATE INDEX article_entities_entity ON article_entities(entity_id);
    CREATE TABLE signatures (article_id TEXT PRIMARY KEY, signature BLOB);
    CREATE TABLE bands (band TEXT, article_id TEXT, PRIMARY KEY (band, article_id));
    CREATE TABLE facts (
        id TEXT PRIMARY KEY, article_id TEXT, event_date TEXT, record TEXT);
    CREATE INDEX facts_article ON facts(article_id);
    CREATE VIRTUAL TABLE articles_fts USING fts5(article_id UNINDEXED, title, text, tokenize="{FTS_TOKENIZE}");
    CREATE VIRTUAL TABLE facts_fts USING fts5(fact_id UNINDEXED, sentence, tokenize="{FTS_TOKENIZE}");
    """),
    # v2: full-text rows keyed by a rowid derived from the article or fact id, and bands indexed by
    # article, so replacing one article no longer scans whole tables.
    (2, f"""
    CREATE INDEX bands_article ON bands(article_id);
    CREATE VIRTUAL TABLE articles_fts2 USING fts5(article_id UNINDEXED, title, text, tokenize="{FTS_TOKENIZE}");
    INSERT INTO articles_fts2 (rowid, article_id, title, text)
        SELECT id_rowid(article_id), article_id, title, text FROM articles_fts;
    DROP TABLE articles_fts;
    ALTER TABLE articles_fts2 RENAME TO articles_fts;
    CREATE VIRTUAL TABLE facts_fts2 USING fts5(fact_id UNINDEXED, sentence, tokenize="{FTS_TOKENIZE}");
    INSERT INTO facts_fts2 (rowid, fact_id, sentence) SELECT id_rowid(fact_id), fact_id, sentence FROM facts_fts;
    DROP TABLE facts_fts;
    ALTER TABLE facts_fts2 RENAME TO facts_fts;
    """),
    # v3: validators of feeds and sitemaps, for conditional requests on the next update.
    (3, """
    CREATE TABLE listings (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at TEXT);
    """),
    # v4: entity names (for facets in both scripts) and figures by kind (for the figure-kind filter).
    (4, """
    CREATE TABLE entities (id TEXT PRIMARY KEY, type TEXT, name TEXT, name_hi TEXT);
    INSERT OR IGNORE INTO entities SELECT json_extract(e.value, '$.id'), json_extract(e.value, '$.type'),
        json_extract(e.value, '$.name'), json_extract(e.value, '$.name_hi') FROM articles, json_each(articles.entities) e;
    CREATE TABLE article_figures (article_id TEXT, kind TEXT, value REAL);
    CREATE INDEX article_figures_article ON article_figures(article_id);
    CREATE INDEX article_figures_kind ON article_figures(kind, article_id);
    INSERT INTO article_figures SELECT articles.id, json_extract(f.value, '$.kind'), json_extract(f.value, '$.value')
        FROM articles, json_each(articles.figures) f;
    CREATE INDEX articles_published ON articles(published);
    CREATE INDEX articles_source ON articles(source);
    """),
    # v5: covering indexes, so counts, per-day buckets and facets never read article bodies.
    (5, """
    CREATE INDEX articles_cover ON articles(id, relevant, day, language, incident, source, first_seen);
    CREATE INDEX articles_scan ON articles(relevant, day, language, incident, source, first_seen, id);
    CREATE INDEX facts_cover ON facts(article_id, event_date);
    """),
    # v6: which extraction path produced each body (reprocess fills it in for older articles).
    (6, """
    ALTER TABLE articles ADD COLUMN extraction TEXT;
    """),
    # v7: where a backfilled article came from (web archive, capture time, WARC record or replay URL).
    (7, """
    ALTER TABLE articles ADD COLUMN archive TEXT;
    """),
    # v8: the claim ledger (facts that fill claim slots or name days), its running totals, claims and events.
    (8, """
    CREATE TABLE ledger (fact_id TEXT PRIMARY KEY, incident TEXT, article_id TEXT, row TEXT);
    CREATE INDEX ledger_incident ON ledger(incident);
    CREATE INDEX ledger_article ON ledger(article_id);
    CREATE TABLE ledger_state (incident TEXT, key TEXT, doc TEXT, PRIMARY KEY (incident, key));
    CREATE TABLE claims (id TEXT PRIMARY KEY, incident TEXT, slot TEXT, doc TEXT);
    CREATE INDEX claims_incident ON claims(incident, slot);
    CREATE TABLE events (id TEXT PRIMARY KEY, incident TEXT, day TEXT, doc TEXT);
    CREATE INDEX events_incident ON events(incident, day);
    """),
    # v9 (scale): reads filter a slim key table joined by integer rowid (the full-text rowid), entity filters
    # scan entity_days in day order, and counts per facet, day and fact day are kept up to date on every write,
    # by incident, relevance, language and day, so the dashboard's usual views (an incident, a language, a date
    # range) and `prahari info` never scan a million rows. Indexes no read uses go, and so
    # does the full-text index of fact sentences, which nothing searched.
    (9, """
    CREATE TABLE article_keys (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, relevant INTEGER, incident TEXT,
        language TEXT, source TEXT, day TEXT, first_seen TEXT, published TEXT);
    INSERT INTO article_keys SELECT id_rowid(id), id, relevant, incident, language, source, day, first_seen, published
        FROM articles;
    CREATE INDEX article_keys_day ON article_keys(relevant, day, language);
    CREATE INDEX article_keys_published ON article_keys(relevant, published, id);
    CREATE INDEX article_keys_first_seen ON article_keys(first_seen);
    CREATE TABLE entity_days (entity_id TEXT, day TEXT, key INTEGER, PRIMARY KEY (entity_id, day, key)) WITHOUT ROWID;
    INSERT INTO entity_days SELECT ae.entity_id, COALESCE(k.day, ''), k.rowid
        FROM article_entities ae JOIN article_keys k ON k.id = ae.article_id;
    CREATE TABLE counts (incident TEXT NOT NULL, relevant INTEGER NOT NULL, language TEXT NOT NULL, day TEXT NOT NULL,
        facet TEXT NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (facet, relevant, incident, language, day, value)) WITHOUT ROWID;
    INSERT INTO counts SELECT COALESCE(incident, ''), relevant, COALESCE(language, ''), COALESCE(day, ''), 'incident',
        COALESCE(incident, ''), COUNT(*) FROM article_keys GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(incident, ''), relevant, COALESCE(language, ''), COALESCE(day, ''), 'language',
        COALESCE(language, ''), COUNT(*) FROM article_keys GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(incident, ''), relevant, COALESCE(language, ''), COALESCE(day, ''), 'source',
        COALESCE(source, ''), COUNT(*) FROM article_keys GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(incident, ''), relevant, COALESCE(language, ''), COALESCE(day, ''), 'day',
        COALESCE(day, '') || '|' || COALESCE(language, ''), COUNT(*) FROM article_keys GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(k.incident, ''), k.relevant, COALESCE(k.language, ''), COALESCE(k.day, ''),
        'entity', ae.entity_id, COUNT(*) FROM article_entities ae JOIN article_keys k ON k.id = ae.article_id
        GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(k.incident, ''), k.relevant, COALESCE(k.language, ''), COALESCE(k.day, ''),
        'figure_kind', x.kind, COUNT(*) FROM (SELECT DISTINCT article_id, kind FROM article_figures) x
        JOIN article_keys k ON k.id = x.article_id GROUP BY 1, 2, 3, 4, 6;
    INSERT INTO counts SELECT COALESCE(k.incident, ''), k.relevant, COALESCE(k.language, ''), COALESCE(k.day, ''),
        'fact_day', COALESCE(f.event_date, k.day, ''), COUNT(*) FROM facts f JOIN article_keys k ON k.id = f.article_id
        GROUP BY 1, 2, 3, 4, 6;
    DROP INDEX articles_day;
    DROP INDEX articles_incident;
    DROP INDEX articles_first_seen;
    DROP INDEX articles_published;
    DROP INDEX articles_source;
    DROP INDEX articles_cover;
    DROP INDEX articles_scan;
    DROP INDEX article_entities_entity;
    DROP INDEX facts_article;
    DROP TABLE facts_fts;
    """),
    # v10: the time-order index covers the filter columns, so a page of a common entity is found by walking it.
    (10, """
    DROP INDEX article_keys_published;
    CREATE INDEX article_keys_published ON article_keys(relevant, published, id, day, language, incident, source);
    """),
    # v11: the analysts' workspace (stars, tags and notes on articles and facts; saved searches).
    (11, """
    CREATE TABLE IF NOT EXISTS workspace (kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, key));
    """),
    # v12: articles per hour first seen are kept too, so "new since yesterday" is a sum, not a scan of the day's
    # (or, after a backfill, a million) key rows.
    (12, """
    INSERT INTO counts SELECT COALESCE(incident, ''), relevant, COALESCE(language, ''), COALESCE(day, ''), 'seen',
        substr(COALESCE(first_seen, ''), 1, 13), COUNT(*) FROM article_keys GROUP BY 1, 2, 3, 4, 6;
    """),
    # v13 (scale): an article's key (its key row's and full-text rowid) is handed out in the order articles
    # arrive, not taken from its hashed id, so a write appends to the key table and to the full-text content
    # rather than dirtying pages all over them (at a million articles a commit rewrote most of both). Old keys
    # are renumbered in the order the articles were stored; an index on the id finds an article's key.
    (13, f"""
    CREATE TEMP TABLE key_order (new INTEGER PRIMARY KEY, old INTEGER NOT NULL UNIQUE);
    INSERT INTO key_order (old) SELECT k.rowid FROM articles a JOIN article_keys k ON k.rowid = id_rowid(a.id)
        ORDER BY a.rowid;
    CREATE TABLE article_keys_v13 (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, relevant INTEGER, incident TEXT,
        language TEXT, source TEXT, day TEXT, first_seen TEXT, published TEXT);
    INSERT INTO article_keys_v13 SELECT o.new, k.id, k.relevant, k.incident, k.language, k.source, k.day,
        k.first_seen, k.published FROM key_order o JOIN article_keys k ON k.rowid = o.old ORDER BY o.new;
    DROP TABLE article_keys;
    ALTER TABLE article_keys_v13 RENAME TO article_keys;
    CREATE UNIQUE INDEX article_keys_id ON article_keys(id);
    CREATE INDEX article_keys_day ON article_keys(relevant, day, language);
    CREATE INDEX article_keys_published ON article_keys(relevant, published, id, day, language, incident, source);
    CREATE INDEX article_keys_first_seen ON article_keys(first_seen);
    CREATE TABLE entity_days_v13 (entity_id TEXT, day TEXT, key INTEGER, PRIMARY KEY (entity_id, day, key))
        WITHOUT ROWID;
    INSERT INTO entity_days_v13 SELECT e.entity_id, e.day, o.new FROM entity_days e JOIN key_order o ON o.old = e.key;
    DROP TABLE entity_days;
    ALTER TABLE entity_days_v13 RENAME TO entity_days;
    CREATE VIRTUAL TABLE articles_fts_v13 USING fts5(article_id UNINDEXED, title, text, tokenize="{FTS_TOKENIZE}");
    INSERT INTO articles_fts_v13 (rowid, article_id, title, text) SELECT o.new, f.article_id, f.title, f.text
        FROM key_order o JOIN articles_fts f ON f.rowid = o.old ORDER BY o.new;
    DROP TABLE articles_fts;
    ALTER TABLE articles_fts_v13 RENAME TO articles_fts;
    DROP TABLE key_order;
    """),
    # v14 (scale): an article's entities, figures and facts are found by its key, not its hashed id, so a bulk write
    # appends to their indexes too (only the id lookups stay in hash order).
    (14, """
    CREATE TABLE article_entities_v14 (key INTEGER, entity_id TEXT, PRIMARY KEY (key, entity_id)) WITHOUT ROWID;
    INSERT INTO article_entities_v14 SELECT k.rowid, ae.entity_id FROM article_keys k
        JOIN article_entities ae ON ae.article_id = k.id ORDER BY 1, 2;
    DROP TABLE article_entities;
    ALTER TABLE article_entities_v14 RENAME TO article_entities;
    CREATE TABLE article_figures_v14 (key INTEGER, kind TEXT, value REAL);
    INSERT INTO article_figures_v14 SELECT k.rowid, x.kind, x.value FROM article_keys k
        JOIN article_figures x ON x.article_id = k.id ORDER BY k.rowid;
    DROP TABLE article_figures;
    ALTER TABLE article_figures_v14 RENAME TO article_figures;
    CREATE INDEX article_figures_key ON article_figures(key);
    CREATE INDEX article_figures_kind ON article_figures(kind, key);
    ALTER TABLE facts ADD COLUMN key INTEGER;
    UPDATE facts SET key = (SELECT k.rowid FROM article_keys k WHERE k.id = facts.article_id);
    DROP INDEX facts_cover;
    CREATE INDEX facts_key ON facts(key, event_date);
    """),
    # v15 (scale): every article key written since the search index (index/textindex.py) last caught up, so a
    # search brings it up to date by reading only those; and an id that tells this store's index from another's.
    (15, """
    CREATE TABLE text_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, key INTEGER NOT NULL);
    INSERT OR REPLACE INTO meta VALUES ('store_id', lower(hex(randomblob(16))));
    """),
    # v16 (scale): story assignment reads the lowest ids holding a content hash off the index alone, however many
    # verbatim copies hold it.
    (16, """
    DROP INDEX articles_hash;
    CREATE INDEX articles_hash ON articles(content_hash, id);
    """),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
ARTICLE_COLUMNS = ("id", "canonical_url", "url", "source", "title", "language", "published", "day", "fetched",
                   "first_seen", "author", "text", "relevant", "relevance", "incident", "story_id",
                   "duplicate_of", "content_hash", "entities", "figures", "dates", "extraction", "archive")
CACHE_KIB = -16384  # page cache per connection (negative: KiB), 16 MB: a crawl holds two connections
PAGE_BYTES = 16384  # page size of new stores (older ones keep theirs)
BULK_CHECKPOINT_BYTES = 160 << 20  # log size at which bulk mode copies it into the file
BULK_COMMIT_ROWS = 25_000  # articles and pages per commit in bulk mode (more gained nothing measurable)
COMMON = 20  # an entity in one article of 20 or more is common: a page of it is found by walking time order
SEARCH_CACHE_KIB = -65536  # 64 MB once a connection searches: a common word's postings span many pages
BULK_CACHE_KIB = -393216  # 384 MB while a bulk write runs: fewer pages leave and come back between batches
KEY_COLUMNS = ("relevant", "incident", "language", "source", "day", "first_seen", "published")
COUNTED_FACETS = ("incident", "language", "source", "entity", "figure_kind")
RANK_WEIGHTS = "0, 3.0, 1.0"  # bm25 column weights: the id (not searched), a title match 3×, the text 1×
BROAD_WINDOW = 10  # a search over most of the store ranks the best 10 × limit matches before filtering
NARROW_VIEW = 0.05  # a view of at most this share of the store is searched by its keys, not filtered after
# A search ranks the matches in each half of the key range on its own core: keys follow arrival, so a query's
# matches split about evenly unless they all arrived in one half.
IN_HALF = "articles_fts.rowid >= ? AND articles_fts.rowid < ?"  # where a ranking query takes its half's range
# A story candidate's columns, for the articles whose ids are in a list.
CANDIDATES = ("SELECT a.id, a.story_id, a.published, a.first_seen, s.signature, a.content_hash FROM articles a "
              "LEFT JOIN signatures s ON s.article_id = a.id WHERE a.id IN ({marks})")
SEEN_HOUR = len("2026-11-28T17")  # first-seen times are kept counted by their ISO prefix up to the hour


def _fts_quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def to_fts(node: Node) -> str:
    """Compile a parsed query to FTS5 syntax; every user word is quoted, so none is read as syntax."""
    if isinstance(node, Term):
        body = " ".join(_fts_quote(t) for t in node.tokens)
        if len(node.tokens) > 1:
            body = _fts_quote(" ".join(node.tokens))
        return body + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return _fts_quote(" ".join(node.tokens))
    joined = f" {node.op} ".join(to_fts(c) for c in node.children)
    expression = f"({joined})"
    for negated in node.negated:
        expression = f"({expression} NOT {to_fts(negated)})"
    return expression


def id_rowid(record_id: str) -> int:
    """A stable 60-bit integer for a hex article or fact id (the full-text rowid of schemas 2 to 12)."""
    return int(record_id[:15], 16)


def _dump(value: Any) -> str:
    """Ledger rows, totals, claims and events as JSON text (orjson: they are rewritten on every update)."""
    return orjson.dumps(value).decode("utf-8")


def _fts_rows(articles: list[Article], keys: dict[str, int]) -> list[tuple[int, str, str, str]]:
    """Full-text rows (key, id, analysed title, analysed text), in key order."""
    return sorted((keys[a.id], a.id, *search_forms(a)) for a in articles)


STORABLE = (str, int, float, bytes, type(None))
PLAIN_STORABLE = frozenset((str, float, bytes, type(None), bool))  # checked by type alone: the usual case, fast


class ArticleRows(NamedTuple):
    """What a batch of articles writes: the stored versions it replaces, the counts it adds, and a list of rows
    for each table."""
    old: dict[str, sqlite3.Row]
    counts: dict[tuple, int]
    keys: list[tuple]
    rows: list[tuple]
    figures: list[tuple]
    entities: dict[str, Entity]
    entity_rows: list[tuple]
    day_rows: list[tuple]
    facts: list[tuple]
    texts: list[tuple]


def _check_storable(rows: list[tuple]) -> None:
    """Raise StoreError for the first value SQLite cannot store (a dict where a number belongs, say)."""
    for row in rows:
        for value in row:
            if type(value) in PLAIN_STORABLE:
                continue
            if not isinstance(value, STORABLE) or (type(value) is int and not -(1 << 63) <= value < 1 << 63):
                raise StoreError(f"cannot store {row[0]}: a value of type {type(value).__name__} "
                                 f"({str(value)[:40]!r}) where text or a number belongs")


def _seen_hour(first_seen: Optional[str]) -> str:
    """The hour an article was first seen, as kept in the counts: the first 13 characters of its ISO time."""
    return (first_seen or "")[:SEEN_HOUR]


def _count(counts: dict[tuple, int], sign: int, incident: Optional[str], relevant: int, language: Optional[str],
           source: Optional[str], day: Optional[str], first_seen: Optional[str], entity_ids: list[str],
           kinds: set[str], fact_days: list[Optional[str]]) -> None:
    """Add (sign=1) or take away (sign=-1) one article's share of the kept counts."""
    scope = (incident or "", int(relevant), language or "", day or "")
    for facet, value in (("incident", incident), ("language", language), ("source", source),
                         ("day", f"{day or ''}|{language or ''}"), ("seen", _seen_hour(first_seen)),
                         *(("entity", e) for e in entity_ids), *(("figure_kind", k) for k in kinds),
                         *(("fact_day", d) for d in fact_days)):
        key = (*scope, facet, value or "")
        counts[key] = counts.get(key, 0) + sign


class SQLiteStore(Store):
    """Store backed by one SQLite file (sqlite:///relative/path.db or sqlite:////absolute/path.db)."""

    def __init__(self, url: str, create: bool = True):
        self.url = url
        self._held: Optional[int] = None  # in bulk mode: articles and pages written since it last committed
        self._searched = False
        self._ranker: Optional[tuple[ThreadPoolExecutor, sqlite3.Connection]] = None  # the second half's reader
        path = url[len("sqlite:///"):]
        self.path = Path(path)
        # The search index in the folder beside the file (`prahari.db.search`); an in-memory store has none.
        self._text = None if path == ":memory:" else TextIndex(self.path.with_name(self.path.name + ".search"))
        if path != ":memory:" and not self.path.exists() and not create:
            raise NoStore(f"no store at {path}: run `prahari update` (or `prahari demo`) first, or check --store")
        if path != ":memory:" and self.path.exists() and not self.path.is_file():
            raise StoreError(f"cannot open store {path}: not a regular file")
        try:
            if path != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.create_function("id_rowid", 1, id_rowid, deterministic=True)
            current = self._schema_version()  # before anything writes: a foreign file stays untouched
            if current == 0:  # a new store: 16 KiB pages, so a bulk write makes fewer, larger page writes
                self.db.execute(f"PRAGMA page_size={PAGE_BYTES}")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(f"PRAGMA cache_size={CACHE_KIB}")
            self._migrate(current)
            self._store_id = self.db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()[0]
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from None

    def _schema_version(self) -> int:
        """Our schema version; 0 for an empty file; a file that is not a Prahari store is refused."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() \
            if "meta" in tables else None
        if row is None or not str(row[0]).isdigit():
            raise StoreError(f"{self.path} is not a Prahari store (no Prahari schema version); it was left "
                             "untouched: give the right --store")
        return int(row[0])

    def identity(self) -> str:
        return f"sqlite:{os.path.realpath(self.path)}"

    def _migrate(self, current: int) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        if current > SCHEMA_VERSION:
            raise StoreError(f"store {self.path} has schema version {current}, newer than this Prahari "
                             f"({SCHEMA_VERSION}); upgrade Prahari")
        for version, script in MIGRATIONS:
            if version > current:
                with self._transaction():
                    for statement in script.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version),))

    @contextmanager
    def _transaction(self):
        if self._held is not None:  # bulk mode holds one transaction open: each write runs straight in it
            changes = self.db.total_changes
            try:
                yield
            except BaseException as exc:
                # No savepoint per write: on a large store each one copied most index pages it touched. A write
                # checks its rows before it changes anything, so a bad one leaves the rest; one that fails after
                # it began to change the store takes everything since the last commit with it.
                if self.db.total_changes == changes and self.db.in_transaction:
                    raise
                self._undo_uncommitted()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"writing to store {self.path} failed: {exc}; the writes since its last "
                                     "commit were undone, so the store stays whole: run again to write them") from None
                raise
            return
        self._begin()
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _begin(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"store {self.path} is busy or locked: {exc}") from None

    def _undo_uncommitted(self) -> None:
        """Bulk mode: roll back everything written since its last commit and hold a new transaction."""
        if self.db.in_transaction:  # some errors (a full disk) end the whole transaction themselves
            self.db.execute("ROLLBACK")
        self._held = 0
        self._begin()

    def _held_written(self, rows: int) -> None:
        """Count rows written under bulk mode's open transaction; commit it every BULK_COMMIT_ROWS."""
        if self._held is None:
            return
        self._held += rows
        if self._held >= BULK_COMMIT_ROWS or not self.db.in_transaction:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
            self._held = 0
            self._begin()

    def known_urls(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT canonical_url FROM pages")}

    def save(self, pages: list[RawPage], articles: list[Article],
             signatures: Optional[dict[str, tuple[bytes, list[str]]]] = None,
             repoints: Optional[list[tuple[str, str]]] = None) -> None:
        by_url = {a.canonical_url: a for a in articles}
        try:
            with self._transaction():
                prepared = self._article_rows(list(by_url.values()))  # reads and checks only: nothing changed yet
                for page in pages:
                    self._save_page(page)
                if prepared is not None:
                    self._write_article_rows(prepared)
                    self._trim_changes()
                if signatures:
                    self.db.executemany("INSERT OR REPLACE INTO signatures VALUES (?,?)",
                                        [(i, signature) for i, (signature, _bands) in signatures.items()])
                    self._in_chunks("DELETE FROM bands WHERE article_id IN ({marks})", list(signatures))
                    self.db.executemany("INSERT OR IGNORE INTO bands VALUES (?,?)",
                                        sorted((b, i) for i, (_signature, bands) in signatures.items() for b in bands))
                for story_id, root_id in repoints or []:
                    self.db.execute("UPDATE articles SET story_id = ?, duplicate_of = CASE WHEN id = ? THEN NULL "
                                    "ELSE ? END WHERE story_id IN (?, ?)", (root_id, root_id, root_id, story_id, root_id))
        except sqlite3.Error as exc:
            raise StoreError(f"writing to store {self.path} failed: {exc}") from None
        self._held_written(len(pages) + len(by_url))

    def _save_page(self, page: RawPage) -> None:
        canon = canonical_url(page.url)
        self.db.execute(
            "INSERT INTO pages VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(canonical_url) DO UPDATE SET "
            "url=excluded.url, status=excluded.status, headers=excluded.headers, body=excluded.body, "
            "fetched_at=excluded.fetched_at",
            (article_id_for(canon), page.url, canon, page.status, json.dumps(page.stored_headers()), page.body,
             page.fetched_at, page.hint_published, page.hint_title, page.incident))

    def _in_chunks(self, sql: str, ids: list, prefix: tuple = ()) -> list[sqlite3.Row]:
        """Run `sql` (with one `{marks}` for an IN list) over ids in chunks; all rows."""
        rows: list[sqlite3.Row] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start:start + ID_CHUNK]
            rows += self.db.execute(sql.format(marks=",".join("?" for _ in chunk)), [*prefix, *chunk]).fetchall()
        return rows

    def _article_rows(self, articles: list[Article]) -> Optional[ArticleRows]:
        """The rows a batch of articles writes, one list per table, with the stored versions they replace and
        the counts they add; a value SQLite cannot store stops the batch here, before anything is written."""
        if not articles:
            return None
        old = {r["id"]: r for r in self._in_chunks("SELECT rowid, * FROM article_keys WHERE id IN ({marks})",
                                                   [a.id for a in articles])}
        # New articles take the next keys, in the order their rows go in: appended, never reused (articles are
        # replaced, not deleted).
        next_key = self._key_end()
        key_of: dict[str, int] = {}
        for article in sorted(articles, key=lambda a: a.id):
            if article.id in old:
                key_of[article.id] = old[article.id]["rowid"]
            else:
                key_of[article.id], next_key = next_key, next_key + 1
        counts: dict[tuple, int] = {}
        keys, rows, figures, entity_rows, day_rows, facts = [], [], [], [], [], []
        entities: dict[str, Entity] = {}
        for article in articles:
            before = old.get(article.id)
            if before is not None and before["first_seen"]:
                article.first_seen = before["first_seen"]  # first seen never moves on a re-crawl or reprocess
            day = article.filed_day()
            key = key_of[article.id]
            relevant = int(article.relevant)
            keys.append((key, article.id, relevant, article.incident, article.language, article.source, day,
                         article.first_seen, article.published))
            rows.append((article.id, article.canonical_url, article.url, article.source, article.title,
                         article.language, article.published, day, article.fetched, article.first_seen,
                         article.author, article.text, relevant, article.relevance, article.incident,
                         article.story_id, article.duplicate_of, article.content_hash, _dump(article.entities),
                         _dump(article.figures), _dump(article.dates), article.extraction,
                         _dump(article.archive) if article.archive else None))
            kinds = {f.kind for f in article.figures}
            figures += [(key, f.kind, f.value) for f in article.figures]
            entity_ids = list(dict.fromkeys(e.id for e in article.entities))
            for entity in article.entities:
                entities.setdefault(entity.id, entity)
            entity_rows += [(key, e) for e in entity_ids]
            day_rows += [(e, day or "", key) for e in entity_ids]
            for fact in article.facts:
                fact.first_seen = fact.first_seen or article.first_seen
                facts.append((fact.id, article.id, fact.event_date, _dump(fact), key))
            _count(counts, 1, article.incident, relevant, article.language, article.source, day, article.first_seen,
                   entity_ids, kinds, [f.event_date or day for f in article.facts])
        # Rows go in key order: B-tree and full-text inserts in order cost about half of inserts in hash order.
        for table in (keys, rows, figures, entity_rows, day_rows, facts):
            table.sort(key=itemgetter(0, 1))
        texts = _fts_rows(articles, key_of)
        for table in (rows, figures, facts):  # keys repeat article columns; the rest hold ids and days we made
            _check_storable(table)
        return ArticleRows(old, counts, keys, rows, figures, entities, entity_rows, day_rows, facts, texts)

    def _key_end(self) -> int:
        """One past the highest article key: the key the next new article takes."""
        return self.db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM article_keys").fetchone()[0]

    def _write_article_rows(self, batch: ArticleRows) -> None:
        """Write a batch's rows with one statement per table; the counts move by what each row changed."""
        old, counts, keys, rows, figures, entities, entity_rows, day_rows, facts, texts = batch
        if old:
            self._forget(list(old), old, counts)
        self.db.executemany(f"INSERT OR REPLACE INTO articles ({','.join(ARTICLE_COLUMNS)}) VALUES "
                            f"({','.join('?' for _ in ARTICLE_COLUMNS)})", rows)
        self.db.executemany("INSERT OR REPLACE INTO article_keys (rowid, id, relevant, incident, language, source, day, "
                            "first_seen, published) VALUES (?,?,?,?,?,?,?,?,?)", keys)
        self.db.executemany("INSERT OR IGNORE INTO entities VALUES (?,?,?,?)",
                            [(e.id, e.type, e.name, e.name_hi) for e in entities.values()])
        self.db.executemany("INSERT INTO article_figures VALUES (?,?,?)", figures)
        self.db.executemany("INSERT OR IGNORE INTO article_entities VALUES (?,?)", entity_rows)
        self.db.executemany("INSERT OR IGNORE INTO entity_days VALUES (?,?,?)", day_rows)
        self.db.executemany("INSERT OR REPLACE INTO facts (id, article_id, event_date, record, key) "
                            "VALUES (?,?,?,?,?)", facts)
        self.db.executemany("INSERT INTO counts VALUES (?,?,?,?,?,?,?) ON CONFLICT "
                            "(facet, relevant, incident, language, day, value) DO UPDATE SET count = count + excluded.count",
                            [(*k, n) for k, n in counts.items() if n])
        if any(n < 0 for n in counts.values()):
            self.db.execute("DELETE FROM counts WHERE count <= 0")
        self.db.executemany("INSERT INTO articles_fts (rowid, article_id, title, text) VALUES (?,?,?,?)", texts)
        self.db.executemany("INSERT INTO text_changes (key) VALUES (?)", [(row[0],) for row in texts])

    @contextmanager
    def bulk(self) -> Iterator[None]:
        if self._held is not None:
            yield
            return
        # One transaction stays open across writes and commits every BULK_COMMIT_ROWS articles: each commit
        # writes every index page the writes touched, and hash-ordered keys touch most of them in any batch.
        # A larger page cache keeps those pages between batches, and the log is copied into the file at
        # 160 MB rather than every 1,000 pages. A stop or an error in one write keeps the writes before it.
        self._begin()  # a busy store fails here, before anything changed
        self._held = 0
        page_bytes = self.db.execute("PRAGMA page_size").fetchone()[0]
        self.db.execute(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_BYTES // page_bytes}")
        self.db.execute(f"PRAGMA cache_size={BULK_CACHE_KIB}")
        try:
            yield
        finally:
            self._held = None
            try:
                if self.db.in_transaction:
                    self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise StoreError(f"writing to store {self.path} failed: {exc}") from None
            finally:
                self.db.execute("PRAGMA wal_autocheckpoint=1000")
                self.db.execute(f"PRAGMA cache_size={SEARCH_CACHE_KIB if self._searched else CACHE_KIB}")
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # a reader holds the log: the next writer's checkpoint finishes it
                pass

    def _forget(self, ids: list[str], old: dict[str, sqlite3.Row], counts: dict[tuple, int]) -> None:
        """Take stored articles out of every side table and out of the counts, before they are written again."""
        keys = [old[i]["rowid"] for i in ids]
        id_of = {old[i]["rowid"]: i for i in ids}
        entity_ids: dict[str, list[str]] = {i: [] for i in ids}
        for row in self._in_chunks("SELECT key, entity_id FROM article_entities WHERE key IN ({marks})", keys):
            entity_ids[id_of[row[0]]].append(row[1])
        kinds: dict[str, set[str]] = {i: set() for i in ids}
        for row in self._in_chunks("SELECT key, kind FROM article_figures WHERE key IN ({marks})", keys):
            kinds[id_of[row[0]]].add(row[1])
        facts: dict[str, list[tuple[str, Optional[str]]]] = {i: [] for i in ids}
        for row in self._in_chunks("SELECT key, id, event_date FROM facts WHERE key IN ({marks})", keys):
            facts[id_of[row[0]]].append((row[1], row[2]))
        for article_id in ids:
            k = old[article_id]
            _count(counts, -1, k["incident"], k["relevant"], k["language"], k["source"], k["day"], k["first_seen"],
                   entity_ids[article_id], kinds[article_id], [d or k["day"] for _f, d in facts[article_id]])
        for sql in ("DELETE FROM article_figures WHERE key IN ({marks})",
                    "DELETE FROM article_entities WHERE key IN ({marks})", "DELETE FROM facts WHERE key IN ({marks})",
                    "DELETE FROM articles_fts WHERE rowid IN ({marks})"):
            self._in_chunks(sql, keys)
        self.db.executemany("DELETE FROM entity_days WHERE entity_id=? AND day=? AND key=?",
                            [(e, old[i]["day"] or "", old[i]["rowid"]) for i in ids for e in entity_ids[i]])

    def signatures(self, article_ids: list[str]) -> dict[str, tuple[bytes, list[str]]]:
        bands: dict[str, list[str]] = {}
        for band, article_id in self._in_chunks("SELECT band, article_id FROM bands WHERE article_id IN ({marks})",
                                                article_ids):
            bands.setdefault(article_id, []).append(band)
        return {r[0]: (r[1], sorted(bands.get(r[0], [])))
                for r in self._in_chunks("SELECT article_id, signature FROM signatures WHERE article_id IN ({marks})",
                                         article_ids) if r[1]}

    def story_candidates(self, wanted: list[tuple[str, list[str], str]]) -> list[list[dict]]:
        # One statement for a whole batch's hashes and one for its bands, instead of one per article.
        holders: list[set[str]] = [set() for _ in wanted]
        for table, key, held in (("articles", "content_hash", "id"), ("bands", "band", "article_id")):
            asked = [(n, value, exclude_id) for n, (content_hash, bands, exclude_id) in enumerate(wanted)
                     for value in ((content_hash,) if table == "articles" else bands)]
            for n, article_id in self._lowest_holders(table, key, held, asked):
                holders[n].add(article_id)
        return candidate_lists(wanted, holders,
                               lambda ids: {r["id"]: dict(r) for r in self._in_chunks(CANDIDATES, sorted(ids))})

    def _lowest_holders(self, table: str, key: str, held: str, asked: list[tuple[int, str, str]]
                        ) -> Iterator[tuple[int, str]]:
        """For each (n, key value, id to leave out) asked: n and each of the CANDIDATES_PER_KEY lowest other ids
        holding that value, read off the (key, id) index however many hold it."""
        for start in range(0, len(asked), ID_CHUNK // 3):
            chunk = asked[start:start + ID_CHUNK // 3]
            # The id CANDIDATES_PER_KEY places in bounds the range read; x'ff' (a blob sorts after every text) when
            # fewer hold the value.
            yield from self.db.execute(
                f"WITH asked(n, value, skip) AS (VALUES {','.join('(?,?,?)' for _ in chunk)}) "
                f"SELECT DISTINCT asked.n, t.{held} FROM asked JOIN {table} t ON t.{key} = asked.value "
                f"AND t.{held} != asked.skip AND t.{held} <= coalesce((SELECT {held} FROM {table} "
                f"WHERE {key} = asked.value AND {held} != asked.skip ORDER BY {held} LIMIT 1 OFFSET ?), x'ff')",
                [value for row in chunk for value in row] + [CANDIDATES_PER_KEY - 1])

    def _article(self, row: sqlite3.Row) -> Article:
        data = dict(row)
        for key in ("entities", "figures", "dates"):
            data[key] = orjson.loads(data[key] or "[]")
        data["archive"] = orjson.loads(data["archive"]) if data.get("archive") else None
        return Article.from_record(data)

    def get_article(self, article_id: str) -> Optional[Article]:
        row = self.db.execute("SELECT * FROM articles WHERE id=?", (article_id,)).fetchone()
        return self._article(row) if row else None

    def iter_pages(self) -> Iterator[RawPage]:
        for row in self._in_sorted_keys("SELECT id FROM pages ORDER BY fetched_at, id", [],
                                        "SELECT * FROM pages WHERE id IN ({marks})"):  # id is the first column
            yield _page(row)

    def get_page(self, canonical_url: str) -> Optional[RawPage]:
        row = self.db.execute("SELECT * FROM pages WHERE canonical_url=?", (canonical_url,)).fetchone()
        return _page(row) if row else None

    def _scope(self, filters: Filters, drive_by_entity: bool = True) -> tuple[str, str, list[Any]]:
        """FROM and WHERE selecting the filtered articles as `a` (their key rows). With an entity filter the
        scan starts from that entity's rows in day order (drive_by_entity), so its cost follows the entity."""
        clauses, params = [], []
        source = "article_keys a"
        entities = list(filters.entity)
        if drive_by_entity and entities:
            source = "entity_days e0 JOIN article_keys a ON a.rowid = e0.key"
            clauses.append("e0.entity_id = ?")
            params.append(entities.pop(0))
            for op, bound in ((">=", filters.since), ("<=", filters.until)):
                if bound:
                    clauses.append(f"e0.day {op} ?")
                    params.append(bound.isoformat())
        if not filters.include_irrelevant:
            clauses.append("a.relevant = 1")
        for column, value in (("incident", filters.incident), ("language", filters.lang),
                              ("source", filters.source)):
            if value:
                clauses.append(f"a.{column} = ?")
                params.append(value)
        for op, bound in ((">=", filters.since), ("<=", filters.until)):
            if bound:
                clauses.append(f"a.day {op} ?")
                params.append(bound.isoformat())
        if filters.first_seen_since:
            clauses.append("a.first_seen >= ?")
            params.append(filters.first_seen_since)
        for entity in entities:
            clauses.append("EXISTS (SELECT 1 FROM article_entities x WHERE x.key = a.rowid AND x.entity_id = ?)")
            params.append(entity)
        if filters.figure_kind:
            clauses.append("EXISTS (SELECT 1 FROM article_figures x WHERE x.key = a.rowid AND x.kind = ?)")
            params.append(filters.figure_kind)
        return source, (" AND ".join(clauses) or "1=1"), params

    def _kept_scope(self, filters: Filters, entities: int = 0) -> Optional[tuple[list[str], list[Any]]]:
        """WHERE clauses over the kept counts for these filters, when they name at most an incident, a language,
        dates, relevance and `entities` entities (the counts are kept by those); None when a scan is needed."""
        if len(filters.entity) > entities or filters.source or filters.first_seen_since or filters.figure_kind:
            return None
        clauses, params = [], []
        if not filters.include_irrelevant:
            clauses.append("relevant = 1")
        for column, value in (("incident", filters.incident), ("language", filters.lang)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        for op, bound in ((">=", filters.since), ("<=", filters.until)):
            if bound:  # an undated article ('' here) is outside every date range, as in the scan
                clauses.append(f"day {op} ?")
                params.append(bound.isoformat())
        if filters.entity:  # the entity facet counts the articles naming it, by the same keys
            clauses += ["facet = 'entity'", "value = ?"]
            params.append(filters.entity[0])
        return clauses, params

    def _kept(self, filters: Filters, facet: str) -> Optional[list[tuple[Optional[str], int]]]:
        """(value, count) of one kept facet, or None when the filters need a scan."""
        scope = self._kept_scope(filters)
        if scope is None:
            return None
        clauses, params = scope
        rows = self.db.execute(f"SELECT value, SUM(count) FROM counts WHERE {' AND '.join(['facet = ?', *clauses])} "
                               "GROUP BY value HAVING SUM(count) > 0", [facet, *params]).fetchall()
        return [(value or None, count) for value, count in rows]

    def _kept_count(self, filters: Filters) -> Optional[int]:
        """The number of articles these filters select, from the kept counts; None when they need a scan."""
        kept = self._kept(filters, "language")
        return None if kept is None else sum(count for _value, count in kept)

    def _count_seen_since(self, filters: Filters) -> Optional[int]:
        """Articles first seen at or after filters.first_seen_since: the kept hourly counts after its hour, and a
        scan of its own hour only (times compare as text, as in the scan). None when the rest needs a scan."""
        rest = replace(filters, first_seen_since=None)
        scope = self._kept_scope(rest)
        if scope is None:
            return None
        clauses, params = scope
        hour = _seen_hour(filters.first_seen_since)
        later = self.db.execute(f"SELECT COALESCE(SUM(count), 0) FROM counts WHERE "
                                f"{' AND '.join(['facet = ?', 'value > ?', *clauses])}", ["seen", hour, *params]).fetchone()[0]
        _source, where, scan_params = self._scope(rest)
        within = self.db.execute(f"SELECT COUNT(*) FROM article_keys a INDEXED BY article_keys_first_seen WHERE {where} "
                                 "AND a.first_seen >= ? AND a.first_seen < ?",
                                 [*scan_params, filters.first_seen_since, hour + "\U0010ffff"]).fetchone()[0]
        return later + within

    def _kept_entity(self, filters: Filters, group: str) -> Optional[list[tuple]]:
        """For filters naming one entity: (*group columns, articles) from the kept counts; else None."""
        scope = self._kept_scope(filters, entities=1) if len(filters.entity) == 1 else None
        if scope is None:
            return None
        clauses, params = scope
        return self.db.execute(f"SELECT {group}, SUM(count) FROM counts WHERE {' AND '.join(clauses)} GROUP BY {group} "
                               "HAVING SUM(count) > 0", params).fetchall()

    def _articles_by_id(self, ids: list[str]) -> list[Article]:
        """Whole articles for these ids, in the order given."""
        found = {r["id"]: r for r in self._in_chunks("SELECT * FROM articles WHERE id IN ({marks})", ids)}
        return [self._article(found[i]) for i in ids if i in found]

    def iter_articles(self, filters: Filters) -> Iterator[Article]:
        source, where, params = self._scope(filters)
        for row in self._in_sorted_keys(f"SELECT a.rowid FROM {source} WHERE {where} ORDER BY a.published, a.id",
                                        params, "SELECT a.rowid, t.* FROM article_keys a JOIN articles t ON t.id = a.id "
                                                "WHERE a.rowid IN ({marks})"):
            yield self._article(row)

    def iter_facts(self, filters: Filters) -> Iterator[Fact]:
        source, where, params = self._scope(filters)
        for row in self._in_sorted_keys(f"SELECT f.rowid FROM {source} JOIN facts f ON f.key = a.rowid WHERE {where} "
                                        "ORDER BY f.event_date, a.published, f.id", params,
                                        "SELECT rowid, record FROM facts WHERE rowid IN ({marks})"):
            yield fact_from_dict(orjson.loads(row[1]))

    def _in_sorted_keys(self, keys_sql: str, params: list[Any], rows_sql: str) -> Iterator[sqlite3.Row]:
        """The rows rows_sql reads (its first column the key, one `{marks}` for a list of keys), in the order
        keys_sql gives the keys. Only the keys are sorted: a sort of whole rows holds every row at once, and the
        bundled SQLite keeps its temporary data in memory (a million articles' texts: 2.6 GB)."""
        keys = [row[0] for row in self.db.execute(keys_sql, params)]
        for start in range(0, len(keys), ID_CHUNK):
            chunk = keys[start:start + ID_CHUNK]
            found = {row[0]: row for row in self._in_chunks(rows_sql, chunk)}
            yield from (found[key] for key in chunk if key in found)

    def search(self, query: Node, filters: Filters, limit: int = 20) -> list[Article]:
        # Rank over the slim key rows (joined by the full-text rowid), then read only the winners' bodies.
        if not self._searched and self._held is None:  # the crawl never searches: its connections stay small
            self._searched = True
            self.db.execute(f"PRAGMA cache_size={SEARCH_CACHE_KIB}")
        ranking = self._ranking_index()
        if ranking is not None:
            keys = self._best_keys(ranking, query, filters, limit)
            ids = dict(self._in_chunks("SELECT rowid, id FROM article_keys WHERE rowid IN ({marks})", keys))
            return self._articles_by_id([ids[k] for k in keys if k in ids])
        match = to_fts(query)
        _source, where, params = self._scope(filters, drive_by_entity=False)
        ids = self._best_before_filters(match, where, params, limit) if self._keeps_most(filters) else None
        if ids is None:
            ids = self._ranked(
                f"""SELECT a.id, bm25(articles_fts, {RANK_WEIGHTS}) AS score, articles_fts.rowid AS key
                    FROM articles_fts JOIN article_keys a ON a.rowid = articles_fts.rowid
                    WHERE articles_fts MATCH ? AND {IN_HALF} AND {where} ORDER BY score, key LIMIT ?""",
                [match], [*params, limit], limit)
        return self._articles_by_id(ids)

    def _ranking_index(self) -> Optional[TextIndex]:
        """The search index, brought up to date. None for an in-memory store, inside bulk mode's open transaction
        (the index must never hold writes that may still be undone), or when its folder cannot be written (a store
        on read-only media): FTS5 ranks those searches, the same matches in its own order."""
        ranking = self._text
        if ranking is None or self.db.in_transaction:
            return None
        try:
            ranking.sync(self.db, self._store_id)
        except PermissionError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot update the search index {ranking.folder}: {exc}") from None
        return ranking

    def ready_for_search(self) -> None:
        self._ranking_index()

    def _trim_changes(self) -> None:
        """Drop the logged changes the search index already holds (read from its folder's state, if any)."""
        synced = self._text.synced_seq(self._store_id) if self._text is not None else None
        if synced:
            self.db.execute("DELETE FROM text_changes WHERE seq <= ?", (synced,))

    def _best_keys(self, ranking: TextIndex, query: Node, filters: Filters, limit: int) -> list[int]:
        """The keys of the best `limit` matches in view. A view holding a good share of the store is filtered after
        ranking (the best few hundred, more while too few are in view); a narrow one is handed to the index."""
        source, where, params = self._scope(filters, drive_by_entity=False)

        def view_keys() -> list[int]:
            return [row[0] for row in self.db.execute(f"SELECT a.rowid FROM {source} WHERE {where}", params)]

        everything = self._kept_count(Filters(include_irrelevant=True)) or 0
        kept = self._kept_count(filters)
        within = None
        if kept is None:  # filters the counts do not keep: the view's keys, read once
            within = view_keys()
            kept = len(within)
        if kept == 0:
            return []
        if kept <= NARROW_VIEW * everything:
            return [key for _score, key in ranking.best(query, limit, within if within is not None else view_keys())]
        window = limit * BROAD_WINDOW
        while True:
            ranked = [key for _score, key in ranking.best(query, window)]
            # NOT INDEXED: the keys are looked up one by one; the planner would rather scan an index of the view.
            in_view = set(row[0] for row in self._in_chunks(
                f"SELECT a.rowid FROM article_keys a NOT INDEXED WHERE {where} AND a.rowid IN ({{marks}})",
                ranked, tuple(params)))
            best = [key for key in ranked if key in in_view]
            if len(best) >= limit or len(ranked) < window:
                return best[:limit]
            window *= 4

    def _keeps_most(self, filters: Filters) -> bool:
        """Whether these filters keep at least half the store (asked of the kept counts; False when they cannot
        say): a search over such a view ranks first and filters after."""
        kept, everything = self._kept_count(filters), self._kept_count(Filters(include_irrelevant=True))
        return kept is not None and everything is not None and 2 * kept >= everything

    def _best_before_filters(self, match: str, where: str, params: list[Any], limit: int) -> Optional[list[str]]:
        """The best `limit` matches in view, found among the best BROAD_WINDOW × limit matches of each half of the
        store, so the key rows are read for a few hundred matches, not for every one. Exact whenever each half
        has that many in view (every match it left out ranks lower); None otherwise, and the full search runs."""
        return self._ranked(
            f"""SELECT a.id, best.score, best.rowid AS key FROM (
                    SELECT rowid, bm25(articles_fts, {RANK_WEIGHTS}) AS score FROM articles_fts
                    WHERE articles_fts MATCH ? AND {IN_HALF} ORDER BY score, rowid LIMIT ?) best
                CROSS JOIN article_keys a ON a.rowid = best.rowid WHERE {where} ORDER BY best.score, key LIMIT ?""",
            [match], [limit * BROAD_WINDOW, *params, limit], limit, every_half_full=True)

    def _ranked(self, sql: str, head: list[Any], tail: list[Any], limit: int,
                every_half_full: bool = False) -> Optional[list[str]]:
        """The ids a ranking query (rows of id, score, rowid) gives, run on both halves of the key range at
        once, the second on a second connection, and merged by score then rowid. bm25 scores every match, so two
        cores rank a common phrase sooner. The sql holds IN_HALF, whose two parameters come between the head and
        tail parameters. With every_half_full: None unless each half gave `limit` rows."""
        low, high = 0, self._key_end()
        middle = (low + high) // 2
        ranker = self._second_reader()
        if ranker is None:
            halves = [self.db.execute(sql, [*head, low, high, *tail]).fetchall()]
        else:
            pool, other = ranker
            second = pool.submit(lambda: other.execute(sql, [*head, middle, high, *tail]).fetchall())
            halves = [self.db.execute(sql, [*head, low, middle, *tail]).fetchall(), second.result()]
        if every_half_full and any(len(rows) < limit for rows in halves):
            return None
        merged = sorted((row for rows in halves for row in rows), key=lambda row: (row[1], row[2]))
        return [row[0] for row in merged[:limit]]

    def _second_reader(self) -> Optional[tuple[ThreadPoolExecutor, sqlite3.Connection]]:
        """A read-only connection to the same file and a thread to run it, opened on first use; None for an
        in-memory store, or while this connection holds a transaction (the other would not see its rows)."""
        if str(self.path) == ":memory:" or self.db.in_transaction:
            return None
        if self._ranker is None:
            try:
                other = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10,
                                        check_same_thread=False)
                other.execute(f"PRAGMA cache_size={SEARCH_CACHE_KIB}")
            except sqlite3.Error:  # the file cannot be opened a second time: rank on the one connection
                return None
            self._ranker = (ThreadPoolExecutor(1, thread_name_prefix="prahari-rank"), other)
        return self._ranker

    def timeline(self, filters: Filters) -> list[dict]:
        kept = self._kept(filters, "day")
        if kept is not None:
            split = [((value or "|").partition("|"), count) for value, count in kept]
            return sorted(({"day": day or None, "language": lang or None, "count": count}
                           for (day, _bar, lang), count in split), key=lambda r: (r["day"] or "", r["language"] or ""))
        by_entity = self._kept_entity(filters, "day, language")
        if by_entity is not None:
            return sorted(({"day": day or None, "language": lang or None, "count": count}
                           for day, lang, count in by_entity), key=lambda r: (r["day"] or "", r["language"] or ""))
        source, where, params = self._scope(filters)
        rows = self.db.execute(
            f"SELECT a.day AS day, a.language AS language, COUNT(*) AS count FROM {source} WHERE {where} "
            f"GROUP BY a.day, a.language ORDER BY a.day, a.language", params).fetchall()
        return [dict(r) for r in rows]

    def list_articles(self, filters: Filters, limit: int, offset: int = 0) -> list[Article]:
        source, where, params = self._scope(filters, drive_by_entity=not self._common_entity(filters))
        if source == "article_keys a" and filters.entity:
            # A common entity: walk the articles in time order (covering index) and keep those naming it,
            # rather than sorting every article that names it.
            source = "article_keys a INDEXED BY article_keys_published"
        ids = [r[0] for r in self.db.execute(
            f"SELECT a.id FROM {source} WHERE {where} ORDER BY a.published, a.id LIMIT ? OFFSET ?",
            [*params, limit, offset])]
        return self._articles_by_id(ids)

    def _common_entity(self, filters: Filters) -> bool:
        """Whether the first entity filtered on is named by one article in COMMON or more of the rest of the
        view (asked of the kept counts; when they cannot say, the entity drives the scan)."""
        named = self._kept_entity(replace(filters, entity=filters.entity[:1]), "facet") if filters.entity else None
        everything = self._kept_count(replace(filters, entity=[])) if named is not None else None
        if not named or everything is None:
            return False
        return named[0][-1] * COMMON >= everything

    def count_articles(self, filters: Filters) -> int:
        kept = self._kept_count(filters)
        if kept is not None:
            return kept
        if filters.first_seen_since:
            seen = self._count_seen_since(filters)
            if seen is not None:
                return seen
        by_entity = self._kept_entity(filters, "facet")
        if by_entity is not None:
            return sum(count for _facet, count in by_entity)
        source, where, params = self._scope(filters)
        return self.db.execute(f"SELECT COUNT(*) FROM {source} WHERE {where}", params).fetchone()[0]

    def facets(self, filters: Filters, size: int = FACET_SIZE) -> dict[str, list[dict]]:
        out = {}
        for facet in COUNTED_FACETS:
            kept = self._kept(filters, facet)
            if kept is None:
                return self._facets_scanned(filters, size)
            top = sorted(kept, key=lambda pair: (-pair[1], pair[0] or ""))[:size]
            out[facet] = [{"value": value, "count": count} for value, count in top]
        names = {r["id"]: r for r in self._in_chunks("SELECT * FROM entities WHERE id IN ({marks})",
                                                     [f["value"] for f in out["entity"]])}
        for facet in out["entity"]:
            entity = names.get(facet["value"])
            facet.update({k: entity[k] if entity else None for k in ("type", "name", "name_hi")})
        return out

    def _facets_scanned(self, filters: Filters, size: int) -> dict[str, list[dict]]:
        source, where, params = self._scope(filters)

        def grouped(sql: str) -> list[dict]:
            return [dict(r) for r in self.db.execute(sql, [*params, size]).fetchall()]
        return {
            **{column: grouped(f"SELECT a.{column} AS value, COUNT(*) AS count FROM {source} WHERE {where} "
                               "GROUP BY a.{column} ORDER BY count DESC, value LIMIT ?".replace("{column}", column))
               for column in ("incident", "language", "source")},
            "entity": grouped(f"""SELECT c.value, c.count, e.type AS type, e.name AS name, e.name_hi AS name_hi
                                  FROM (SELECT ae.entity_id AS value, COUNT(*) AS count FROM {source}
                                        JOIN article_entities ae ON ae.key = a.rowid WHERE {where}
                                        GROUP BY ae.entity_id) c LEFT JOIN entities e ON e.id = c.value
                                  ORDER BY c.count DESC, c.value LIMIT ?"""),
            "figure_kind": grouped(f"""SELECT x.kind AS value, COUNT(DISTINCT x.key) AS count FROM {source}
                                       JOIN article_figures x ON x.key = a.rowid WHERE {where}
                                       GROUP BY x.kind ORDER BY count DESC, value LIMIT ?"""),
        }

    def filter_options(self) -> dict[str, list[dict]]:
        one = lambda sql: [dict(r) for r in self.db.execute(sql).fetchall()]  # noqa: E731
        return {"incident": one("SELECT DISTINCT value FROM counts WHERE facet = 'incident' AND value != '' ORDER BY 1"),
                "source": one("SELECT DISTINCT value FROM counts WHERE facet = 'source' ORDER BY 1"),
                "entity": one("SELECT id AS value, type, name, name_hi FROM entities ORDER BY type, name")}

    def entity_timeline(self, filters: Filters, entity_ids: list[str]) -> list[dict]:
        if not entity_ids:
            return []
        source, where, params = self._scope(filters)
        marks = ",".join("?" for _ in entity_ids)
        rows = self.db.execute(
            f"""SELECT a.day AS day, ae.entity_id AS entity, COUNT(*) AS count FROM {source}
                JOIN article_entities ae ON ae.key = a.rowid WHERE ae.entity_id IN ({marks}) AND {where}
                GROUP BY a.day, ae.entity_id ORDER BY a.day""", [*entity_ids, *params]).fetchall()
        return [dict(r) for r in rows]

    def fact_days(self, filters: Filters) -> list[dict]:
        kept = self._kept(filters, "fact_day")
        if kept is not None:
            return [{"day": day, "count": count} for day, count in sorted(kept, key=lambda pair: pair[0] or "")]
        source, where, params = self._scope(filters)
        rows = self.db.execute(
            f"""SELECT COALESCE(f.event_date, a.day) AS day, COUNT(*) AS count FROM {source}
                JOIN facts f ON f.key = a.rowid WHERE {where} GROUP BY 1 ORDER BY 1""", params).fetchall()
        return [dict(r) for r in rows]

    def facts_for(self, article_ids: list[str]) -> dict[str, list[Fact]]:
        out: dict[str, list[Fact]] = {i: [] for i in article_ids}
        for row in self._in_chunks("SELECT f.article_id, f.record FROM article_keys k JOIN facts f ON f.key = k.rowid "
                                   "WHERE k.id IN ({marks}) ORDER BY f.article_id, f.id", article_ids):
            out[row[0]].append(fact_from_dict(orjson.loads(row[1])))
        return out

    def story_members(self, story_ids: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {i: [] for i in story_ids}
        for row in self._in_chunks("SELECT id, story_id, title, source, url, language, published FROM articles "
                                   "WHERE story_id IN ({marks}) ORDER BY published, id", story_ids):
            out[row["story_id"]].append(dict(row))
        return out

    def entity_first_seen(self, filters: Filters) -> list[dict]:
        since = filters.first_seen_since or ""
        source, where, params = self._scope(replace(filters, first_seen_since=None))
        rows = self.db.execute(
            f"""SELECT ae.entity_id AS id, MIN(a.first_seen) AS first_seen, COUNT(*) AS articles,
                       MIN(a.id) AS sample_article
                FROM {source} JOIN article_entities ae ON ae.key = a.rowid WHERE {where}
                GROUP BY ae.entity_id HAVING MIN(a.first_seen) >= ? ORDER BY first_seen, id""",
            [*params, since]).fetchall()
        out = []
        for row in rows:
            sample = self.get_article(row["sample_article"])
            entity = next((e for e in (sample.entities if sample else []) if e.id == row["id"]), None)
            if entity is not None:
                out.append({"entity": Entity(entity.id, entity.type, entity.name, entity.name_hi),
                            "first_seen": row["first_seen"], "articles": row["articles"]})
        return out

    def listing_validators(self) -> dict[str, tuple[Optional[str], Optional[str]]]:
        return {r["url"]: (r["etag"], r["last_modified"]) for r in self.db.execute("SELECT * FROM listings")}

    def save_listing_validators(self, validators: dict[str, tuple[Optional[str], Optional[str]]]) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            with self._transaction():
                self.db.executemany("INSERT OR REPLACE INTO listings VALUES (?,?,?,?)",
                                    [(url, etag, modified, now) for url, (etag, modified) in validators.items()])
        except sqlite3.Error as exc:
            raise StoreError(f"writing to store {self.path} failed: {exc}") from None

    def counts(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"pages": one("SELECT COUNT(*) FROM pages"),
                "articles": one("SELECT COALESCE(SUM(count), 0) FROM counts WHERE facet = 'language'"),
                "relevant": one("SELECT COALESCE(SUM(count), 0) FROM counts WHERE facet = 'language' AND relevant = 1"),
                "facts": one("SELECT COALESCE(SUM(count), 0) FROM counts WHERE facet = 'fact_day'")}

    def close(self) -> None:
        if self._ranker is not None:
            pool, other = self._ranker
            pool.shutdown()
            other.close()
        self.db.close()

    # --- the claim ledger, claims and events ---------------------------------------------------------

    def _write(self, work) -> None:
        try:
            with self._transaction():
                work()
        except sqlite3.Error as exc:
            raise StoreError(f"writing to store {self.path} failed: {exc}") from None

    def put_ledger(self, incident: str, rows: list[dict], article_ids: Optional[list[str]] = None) -> None:
        def work():
            if article_ids is None:
                self.db.execute("DELETE FROM ledger WHERE incident=?", (incident,))
            else:
                for start in range(0, len(article_ids), ID_CHUNK):
                    chunk = article_ids[start:start + ID_CHUNK]
                    self.db.execute(f"DELETE FROM ledger WHERE article_id IN ({','.join('?' for _ in chunk)})", chunk)
            self.db.executemany("INSERT OR REPLACE INTO ledger VALUES (?,?,?,?)", [
                (r["fact_id"], incident, r["article_id"], _dump(r)) for r in rows])
        self._write(work)

    def ledger(self, incident: str, fact_ids: Optional[list[str]] = None,
               article_ids: Optional[list[str]] = None) -> list[dict]:
        if fact_ids is None and article_ids is None:
            return [orjson.loads(r[0]) for r in self.db.execute(
                "SELECT row FROM ledger WHERE incident=? ORDER BY fact_id", (incident,))]
        found: dict[str, str] = {}
        for column, ids in (("fact_id", fact_ids or []), ("article_id", article_ids or [])):
            for start in range(0, len(ids), ID_CHUNK):
                chunk = ids[start:start + ID_CHUNK]
                for fact_id, row in self.db.execute(
                        f"SELECT fact_id, row FROM ledger WHERE incident=? AND {column} IN "
                        f"({','.join('?' for _ in chunk)})", [incident, *chunk]):
                    found[fact_id] = row
        return [orjson.loads(found[k]) for k in sorted(found)]

    def put_state(self, incident: str, docs: dict[str, dict], replace: bool = False) -> None:
        def work():
            if replace:
                self.db.execute("DELETE FROM ledger_state WHERE incident=?", (incident,))
            self.db.executemany("INSERT OR REPLACE INTO ledger_state VALUES (?,?,?)",
                                [(incident, key, _dump(doc))
                                 for key, doc in docs.items()])
        self._write(work)

    def put_workspace(self, kind: str, docs: dict[str, Optional[dict]]) -> None:
        def work():
            self.db.executemany("DELETE FROM workspace WHERE kind=? AND key=?",
                                [(kind, key) for key, doc in docs.items() if doc is None])
            self.db.executemany("INSERT OR REPLACE INTO workspace VALUES (?,?,?)",
                                [(kind, key, _dump(doc)) for key, doc in docs.items() if doc is not None])
        self._write(work)

    def workspace(self, kind: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        return self._docs_by_key("workspace", "kind", kind, keys)

    def state(self, incident: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        return self._docs_by_key("ledger_state", "incident", incident, keys)

    def _docs_by_key(self, table: str, scope: str, value: str, keys: Optional[list[str]]) -> dict[str, dict]:
        """JSON docs by key from a (scope, key, doc) table: all of one scope's, or those of these keys."""
        if keys is None:
            rows = self.db.execute(f"SELECT key, doc FROM {table} WHERE {scope}=? ORDER BY key", (value,)).fetchall()
        else:
            rows = self._in_chunks(f"SELECT key, doc FROM {table} WHERE {scope}=? AND key IN ({{marks}})", keys,
                                   prefix=(value,))
        return {key: orjson.loads(doc) for key, doc in rows}

    def _replace(self, table: str, key: str, incident: str, docs: list[dict], keys: Optional[list[str]],
                 doc_key: str) -> None:
        def work():
            if keys is None:
                self.db.execute(f"DELETE FROM {table} WHERE incident=?", (incident,))
            else:
                for start in range(0, len(keys), ID_CHUNK):
                    chunk = keys[start:start + ID_CHUNK]
                    marks = ",".join("?" for _ in chunk)
                    self.db.execute(f"DELETE FROM {table} WHERE incident=? AND {key} IN ({marks})", [incident, *chunk])
            self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?,?,?,?)",
                                [(d["id"], incident, d[doc_key], _dump(d))
                                 for d in docs])
        self._write(work)

    def put_claims(self, incident: str, claims: list[dict], slots: Optional[list[str]] = None) -> None:
        self._replace("claims", "slot", incident, claims, slots, "slot")

    def put_events(self, incident: str, events: list[dict], days: Optional[list[str]] = None) -> None:
        self._replace("events", "day", incident, events, days, "date")

    def claims(self, incident: Optional[str] = None) -> list[dict]:
        where, params = ("WHERE incident=?", [incident]) if incident else ("", [])
        return [orjson.loads(r[0]) for r in self.db.execute(f"SELECT doc FROM claims {where} ORDER BY slot, id", params)]

    def events(self, incident: Optional[str] = None) -> list[dict]:
        where, params = ("WHERE incident=?", [incident]) if incident else ("", [])
        return [orjson.loads(r[0]) for r in self.db.execute(f"SELECT doc FROM events {where} ORDER BY day, id", params)]

    def article_briefs(self, article_ids: list[str]) -> dict[str, dict]:
        return {row["id"]: dict(row) for row in self._in_chunks(
            f"SELECT {', '.join(BRIEF_FIELDS)} FROM articles WHERE id IN ({{marks}})", article_ids)}


def _page(r: sqlite3.Row) -> RawPage:
    headers, archive = RawPage.split_headers(json.loads(r["headers"] or "{}"))
    return RawPage(url=r["url"], body=r["body"], fetched_at=r["fetched_at"], status=r["status"], headers=headers,
                   hint_published=r["hint_published"], hint_title=r["hint_title"], incident=r["incident"],
                   archive=archive)


def _one_line_errors(method):
    """Turn sqlite3 errors raised while a store method runs (or while its results are read) into StoreErrors."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(f"reading store {self.path} failed: {exc}") from None
        return generator

    @functools.wraps(method)
    def plain(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path} failed: {exc}") from None
    return plain


for _name, _method in list(vars(SQLiteStore).items()):
    if not _name.startswith("_") and callable(_method):
        setattr(SQLiteStore, _name, _one_line_errors(_method))
