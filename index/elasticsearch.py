"""The Elasticsearch store: versioned indices behind aliases, stable ids, bulk writes, PIT + search_after scans.

Search runs on fields holding text pre-analysed by nlp.normalize.analyse (the same analyser the SQLite
store indexes), under the core `standard` analyzer, so both backends find the same articles.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any, Iterator, Optional

import orjson

from index.query import BoolNode, Filters, Node, Term
from index.store import BRIEF_FIELDS, CANDIDATES_PER_KEY, FACET_SIZE, ID_CHUNK, Store, candidate_lists, search_forms
from nlp.dedup import canonical_url
from prahari.errors import NoStore, StoreError
from prahari.inputs import split_url
from prahari.model import Article, Entity, Fact, RawPage, article_id_for, fact_from_dict, plain

# v2: the analysed text indexes word pairs (index_phrases); the published text is stored, not indexed.
# v3: an article's facts live inside its document, not as documents of their own in a facts index.
SCHEMA_VERSION = 3
READABLE_SCHEMAS = (1, 2, 3)  # older stores answer the same: v1 phrases run the slower way, v1-2 facts have an index
INLINE_FACTS_SCHEMA = 3
PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,100}$")
FIRST_CONTACT_SECONDS = 5
SUPPORTED_MAJOR = 8
BATCH = 1000  # hits per page when scanning
CANDIDATE_FIELDS = ("id", "story_id", "published", "first_seen", "signature", "content_hash")  # story assignment's
BULK_CHUNK = 500  # documents per bulk request
BULK_RETRIES = 3  # times a document the node was too busy for (429) is sent again, after 1, 2 and 4 s
BULK_IN_FLIGHT = 3  # bulk requests sent at once while a bulk write (reindex, a large build) runs
WRITTEN = ("pages", "articles", "facts", "entities")  # the indices a crawl writes, whose refresh bulk mode defers
ALL_BUCKETS = 65_000  # terms-aggregation size that means "every value" (days, entities)
KW = {"type": "keyword"}
TEXT = {"type": "text", "analyzer": "standard"}
# A two-word phrase ("दिल्ली पुलिस") becomes one term of the word-pair index: scored like a single word, so
# the best 20 are found without reading the positions of every article holding both words.
PHRASED_TEXT = {**TEXT, "index_phrases": True}
SHOWN_TEXT = {"type": "text", "index": False}  # the text as published: shown and exported, searched through *_an
OPAQUE = {"type": "object", "enabled": False}
FILTER_FIELDS = {"relevant": {"type": "boolean"}, "incident": KW, "language": KW, "source": KW, "day": KW,
                 "first_seen": KW, "entity_ids": KW, "figure_kinds": KW}
MAPPINGS = {
    "pages": {"id": KW, "url": KW, "canonical_url": KW, "status": {"type": "integer"}, "headers": OPAQUE,
              "body": {"type": "binary"}, "fetched_at": KW, "hint_published": KW, "hint_title": KW,
              "incident": KW},
    "articles": {**FILTER_FIELDS, "id": KW, "url": KW, "canonical_url": KW, "title": SHOWN_TEXT, "text": SHOWN_TEXT,
                 "title_an": PHRASED_TEXT, "text_an": PHRASED_TEXT, "published": KW, "published_key": KW, "fetched": KW,
                 "author": KW, "relevance": {"type": "float"}, "story_id": KW, "duplicate_of": KW,
                 "content_hash": KW, "bands": KW, "signature": {"type": "binary"}, "record": OPAQUE,
                 # v3, the facts inside (record.facts): their event days ("" for none), for the facts export in
                 # order; "day|n" for n facts on a day, for the fact-day counts; and how many there are
                 "fact_event_keys": KW, "fact_day_counts": KW, "fact_count": {"type": "integer"}},
    "facts": {**FILTER_FIELDS, "id": KW, "article_id": KW, "event_key": KW, "published_key": KW,
              "fact_day": KW, "sentence_an": TEXT, "record": OPAQUE},
    "entities": {"id": KW, "type": KW, "name": KW, "name_hi": KW},
    "listings": {"url": KW, "etag": KW, "last_modified": KW, "checked_at": KW},
    "ledger": {"fact_id": KW, "incident": KW, "article_id": KW, "row": OPAQUE},
    "state": {"incident": KW, "key": KW, "doc": OPAQUE},
    "claims": {"id": KW, "incident": KW, "slot": KW, "doc": OPAQUE},
    "events": {"id": KW, "incident": KW, "day": KW, "doc": OPAQUE},
    "workspace": {"kind": KW, "key": KW, "doc": OPAQUE},
}
# The analysed forms are indexed for search and never read back, so reads leave them out. They stay in the
# stored document: a mapping that excludes fields from _source makes the node parse and write every document
# again and keep the original as well (its recovery source), which cost 10 % of bulk-write speed and more disk.
# The facts inside an article are read by facts_for, not with the article.
ARTICLE_SOURCE = {"excludes": ["title_an", "text_an", "record.facts"]}
# Added after the first stores were written (the claim service's indices and the analysts' workspace): a store
# written before they existed opens read-only without them.
ADDED_LATER = ("ledger", "state", "claims", "events", "workspace")


def _bulk_lines(action: dict) -> bytes:
    """An action's lines of a bulk request body: the action, then its document (none for a delete)."""
    op = action["_op_type"]
    head = orjson.dumps({op: {"_index": action["_index"], "_id": action["_id"]}}) + b"\n"
    if op == "delete":
        return head
    # Dataclasses go as they are: orjson writes them as the same JSON as plain().
    return head + orjson.dumps(action["_source"] if op == "index" else {"doc": action["doc"]}) + b"\n"


class ElasticsearchStore(Store):
    """Store in an Elasticsearch cluster: http(s)://host:9200[/index-prefix] (default prefix: prahari)."""

    def __init__(self, url: str, create: bool = True):
        try:
            from elasticsearch import Elasticsearch
        except ImportError:  # pragma: no cover - the client is in requirements.txt
            raise StoreError("the elasticsearch Python client is not installed: pip install -r requirements.txt") from None
        self.url = url
        parts = split_url(url)
        if parts is None:
            raise StoreError(f"{url}: not a valid Elasticsearch URL (a port out of range or a broken host)")
        if not parts.hostname:
            raise StoreError(f"{url}: no host in the Elasticsearch URL (e.g. http://127.0.0.1:9200)")
        self.prefix = parts.path.strip("/") or "prahari"
        if not PREFIX.match(self.prefix):
            raise StoreError(f"{url}: index prefix {self.prefix!r} must be lower-case letters, digits, - or _ "
                             "(e.g. http://host:9200/myteam)")
        self.node = f"{parts.scheme}://{parts.netloc}"
        from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

        class ReadyNdjson(NdjsonSerializer):
            """Sends a bulk body _send already made as it is (the stock one copies it twice, a few MB a request)."""

            def dumps(self, data: Any) -> bytes:
                return data if isinstance(data, bytes) else super().dumps(data)

        # orjson reads and writes JSON several times faster than the standard json module.
        self.es = Elasticsearch(self.node, request_timeout=30, max_retries=3, retry_on_timeout=True,
                                serializers={OrjsonSerializer.mimetype: OrjsonSerializer(),
                                             ReadyNdjson.mimetype: ReadyNdjson()})
        self._bulk_mode = False
        self._check_server()
        self._ensure_indices(create)

    # --- setup -------------------------------------------------------------------------------------

    def _call(self, what: str, function, *args, **kwargs):
        """Run a client call; turn transport and API errors into one-line StoreErrors."""
        from elasticsearch import ApiError, TransportError
        try:
            return function(*args, **kwargs)
        except TransportError as exc:
            raise StoreError(f"cannot reach Elasticsearch at {self.node} ({what}): {type(exc).__name__}; "
                             "is the node running? (scripts/elasticsearch.sh start)") from None
        except ApiError as exc:
            raise StoreError(f"Elasticsearch at {self.node} refused {what}: {exc.message} ({exc.meta.status})") from None

    def _check_server(self) -> None:
        # The first contact has a short timeout and no retries: a node that never answers is reported in
        # seconds, not after the client's full retry budget.
        first = self.es.options(request_timeout=FIRST_CONTACT_SECONDS, max_retries=0)
        nodes = self._call("a version check", first.nodes.info, node_id="_local", metric="_none")
        versions = [n.get("version", "?") for n in (nodes.get("nodes") or {}).values()]
        major = int(versions[0].split(".")[0]) if versions and versions[0][0].isdigit() else 0
        if major != SUPPORTED_MAJOR:
            raise StoreError(f"Elasticsearch at {self.node} is version {versions[0] if versions else '?'}; this "
                             f"Prahari needs {SUPPORTED_MAJOR}.x (the Python client's major version)")

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def identity(self) -> str:
        state = self._call("reading the cluster id", self.es.cluster.state, metric="metadata",
                           filter_path="metadata.cluster_uuid")
        return f"es:{(state.get('metadata') or {}).get('cluster_uuid', self.node)}/{self.prefix}"

    def _kept_kinds(self, kinds) -> list[str]:
        """These kinds of index, less the facts index where facts live inside their articles (schema 3)."""
        return [kind for kind in kinds if not (kind == "facts" and self.inline_facts)]

    def _ensure_indices(self, create: bool = True) -> None:
        def check(kind: str):
            return self._call("an index check", self.es.options(ignore_status=404).indices.get, index=self.alias(kind))

        # From schema 3 on, an article's facts live inside its document (a new store is made so); an older
        # store keeps them in its facts index, and is read and written that way. The articles index says which,
        # so a store of schema 3 is never asked about a facts index.
        articles = check("articles")
        schema = (next(iter(articles.values()))["mappings"].get("_meta", {}).get("prahari_schema")
                  if articles.meta.status != 404 and self.alias("articles") not in articles else SCHEMA_VERSION)
        self.inline_facts = isinstance(schema, int) and schema >= INLINE_FACTS_SCHEMA
        checks = {kind: articles if kind == "articles" else check(kind) for kind in self._kept_kinds(MAPPINGS)}
        for kind, found in checks.items():  # an index in the way is reported before anything else
            if found.meta.status != 404 and self.alias(kind) in found:
                raise StoreError(f"{self.alias(kind)} at {self.node} is an index, not a Prahari alias: pick another "
                                 f"prefix ({self.node}/myprefix) or delete it")
        missing = [self.alias(kind) for kind, found in checks.items()
                   if found.meta.status == 404 and kind not in ADDED_LATER]
        self.absent = {kind for kind, found in checks.items() if found.meta.status == 404}
        if missing and not create:
            raise NoStore(f"no Prahari store at {self.node} with prefix {self.prefix!r} (no {missing[0]} index): run "
                          "`prahari update` first, or check --store")
        for kind, found in checks.items():
            properties = MAPPINGS[kind]
            alias = self.alias(kind)
            if found.meta.status == 404:
                if not create:
                    continue
                self.absent.discard(kind)
                # The template holds the mapping, so every versioned index of this kind (a new version, a
                # copy made by reindex) gets the same explicit mapping.
                self._call(f"installing the {kind} index template", self.es.indices.put_index_template,
                           name=f"{alias}-template", index_patterns=[f"{alias}-v*"], priority=100,
                           template={"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                     "mappings": {"dynamic": "strict", "_meta": {"prahari_schema": SCHEMA_VERSION},
                                                  "properties": properties}})
                index = f"{alias}-v{SCHEMA_VERSION}"
                # Another process (a spider, a worker) may create it at the same moment: that is fine.
                created = self._call(f"creating {index}", self.es.options(ignore_status=400).indices.create,
                                     index=index, aliases={alias: {"is_write_index": True}})
                if created.meta.status == 400 and "resource_already_exists" not in json.dumps(dict(created)):
                    raise StoreError(f"Elasticsearch at {self.node} refused creating {index}: "
                                     f"{json.dumps(dict(created))[:300]}")
                continue
            if alias in found:
                raise StoreError(f"{alias} at {self.node} is an index, not a Prahari alias: pick another prefix "
                                 f"({self.node}/myprefix) or delete it")
            meta = next(iter(found.values()))["mappings"].get("_meta", {})
            if meta.get("prahari_schema") not in READABLE_SCHEMAS:
                raise StoreError(f"index {alias} at {self.node} has Prahari schema {meta.get('prahari_schema')}, "
                                 f"this Prahari writes {SCHEMA_VERSION}: copy it into a new prefix with "
                                 f"`prahari reindex --from {self.url} --to {self.node}/NEWPREFIX`")

    def close(self) -> None:
        self.es.close()

    # --- writing -----------------------------------------------------------------------------------

    def _bulk(self, actions: list[dict], refresh: bool = True) -> None:
        """Send actions in bulk requests, several in flight in bulk mode; then make them searchable unless
        bulk mode defers that (refresh=False: nobody reads these documents by search right after)."""
        if not actions:
            return
        # Actions on one document stay in one stream, in order (a fact deleted and written again).
        streams = [actions]
        if self._bulk_mode and len(actions) > BULK_CHUNK:
            streams = [[] for _ in range(BULK_IN_FLIGHT)]
            for action in actions:
                streams[hash((action["_index"], action["_id"])) % BULK_IN_FLIGHT].append(action)
        if len(streams) == 1:
            failures = self._stream(streams[0])
        else:
            with ThreadPoolExecutor(len(streams), thread_name_prefix="prahari-bulk") as pool:
                failures = [f for part in pool.map(self._stream, streams) for f in part]
        if failures:
            first = json.dumps(failures[0], ensure_ascii=False, default=str)[:300]
            raise StoreError(f"Elasticsearch rejected {len(failures)} documents (first: {first})")
        stale = {a["_index"] for a in actions} if refresh else set()
        if self._bulk_mode:  # refreshed once when bulk mode ends
            stale -= {self.alias(kind) for kind in WRITTEN}
        if stale:
            self._refresh(stale)

    def _stream(self, actions: list[dict]) -> list[dict]:
        """One stream of bulk requests, sent in order; the documents the node refused."""
        failures: list[dict] = []
        for start in range(0, len(actions), BULK_CHUNK):
            failures += self._send(actions[start:start + BULK_CHUNK])
        return failures

    def _send(self, chunk: list[dict]) -> list[dict]:
        """One bulk request, its body serialised here in one pass; documents refused as busy (429) go again."""
        attempt = 0
        while True:
            try:
                body = b"".join(map(_bulk_lines, chunk))
                answer = self.es.bulk(operations=body, filter_path="errors,items.*.status,items.*.error")
            except Exception as exc:  # a value JSON cannot hold, or transport failures after the client's retries
                raise StoreError(f"writing to Elasticsearch at {self.node} failed: {type(exc).__name__}: {exc}; "
                                 "everything written before is intact, rerun to finish") from None
            if not answer.get("errors"):
                return []
            busy, failures = [], []
            for action, item in zip(chunk, answer["items"]):
                op, result = next(iter(item.items()))
                status = result.get("status", 500)
                if status == 429 and attempt < BULK_RETRIES:
                    busy.append(action)
                elif not (200 <= status < 300 or (op == "delete" and status == 404)):  # deleted already: done
                    failures.append({op: {"_id": action["_id"], **result}})
            if failures or not busy:
                return failures
            time.sleep(2 ** attempt)
            chunk, attempt = busy, attempt + 1

    def _refresh(self, indices) -> None:
        """Make what was just written searchable now (rather than waiting for the next scheduled refresh)."""
        self._call("refreshing", self.es.indices.refresh, index=",".join(sorted(indices)))

    @contextmanager
    def bulk(self) -> Iterator[None]:
        if self._bulk_mode:
            yield
            return
        written = ",".join(self.alias(kind) for kind in self._kept_kinds(WRITTEN))
        # No refresh, and the translog synced every few seconds rather than on every request, until the end.
        self._call("pausing refreshes for a bulk write", self.es.indices.put_settings, index=written,
                   settings={"index": {"refresh_interval": "-1", "translog.durability": "async"}})
        self._bulk_mode = True
        try:
            yield
        finally:
            self._bulk_mode = False
            # Restored even when the write failed; a process killed here leaves refreshes paused until the
            # next bulk write ends, but every ordinary save refreshes what it wrote itself.
            self._call("restoring refreshes", self.es.indices.put_settings, index=written,
                       settings={"index": {"refresh_interval": None, "translog.durability": None}})
            self._refresh([written])
            self._call("syncing the translog", self.es.indices.flush, index=written)

    def save(self, pages: list[RawPage], articles: list[Article],
             signatures: Optional[dict[str, tuple[bytes, list[str]]]] = None,
             repoints: Optional[list[tuple[str, str]]] = None) -> None:
        by_id = {a.id: a for a in {a.canonical_url: a for a in articles}.values()}
        stored = self._stored(list(by_id))
        actions: list[dict] = []
        for page in pages:
            canon = canonical_url(page.url)
            page_id = article_id_for(canon)
            actions.append({"_op_type": "index", "_index": self.alias("pages"), "_id": page_id, "_source": {
                "id": page_id, "url": page.url, "canonical_url": canon, "status": page.status,
                "headers": page.stored_headers(), "body": base64.b64encode(page.body).decode("ascii"),
                "fetched_at": page.fetched_at, "hint_published": page.hint_published,
                "hint_title": page.hint_title, "incident": page.incident}})
        entities: dict[str, Entity] = {}
        filters_of: dict[str, dict[str, Any]] = {}
        for article in by_id.values():
            first_seen = (stored.get(article.id) or {}).get("first_seen")
            if first_seen:
                article.first_seen = first_seen  # first seen never moves on a re-crawl
            signature, bands = (signatures or {}).get(article.id, (b"", []))
            filters = filters_of[article.id] = self._filter_fields(article)
            title_an, text_an = search_forms(article)
            for fact in article.facts:
                fact.first_seen = fact.first_seen or article.first_seen
            # Dataclasses as they are: the orjson serializer writes them (the same JSON as plain()).
            record = {"entities": article.entities, "figures": article.figures, "dates": article.dates,
                      "extraction": article.extraction, "archive": article.archive}
            counted: dict[str, Any] = {}
            if self.inline_facts:
                record["facts"], counted = article.facts, self._fact_fields(article.facts, filters["day"])
            else:  # its fact documents are named, so a rewrite can delete them
                record["fact_ids"] = [f.id for f in article.facts]
            actions.append({"_op_type": "index", "_index": self.alias("articles"), "_id": article.id, "_source": {
                **filters, **counted, "id": article.id, "url": article.url, "canonical_url": article.canonical_url,
                "title": article.title, "text": article.text, "title_an": title_an,
                "text_an": text_an, "published": article.published,
                "published_key": article.published or "", "fetched": article.fetched, "author": article.author,
                "relevance": article.relevance, "story_id": article.story_id, "duplicate_of": article.duplicate_of,
                "content_hash": article.content_hash, "bands": bands,
                "signature": base64.b64encode(signature).decode("ascii"), "record": record}})
            for entity in article.entities:
                entities[entity.id] = entity
        if not self.inline_facts:
            actions += self._fact_documents(by_id, stored, filters_of)
        for entity in entities.values():
            actions.append({"_op_type": "index", "_index": self.alias("entities"), "_id": entity.id, "_source": {
                "id": entity.id, "type": entity.type, "name": entity.name, "name_hi": entity.name_hi}})
        self._bulk(actions)
        if repoints and self._bulk_mode:
            self._refresh([self.alias("articles")])  # the copies of a story are found by search
        repointed = []
        for story_id, root_id in repoints or []:
            for member in self._ids("articles", {"terms": {"story_id": [story_id, root_id]}}):
                repointed.append({"_op_type": "update", "_index": self.alias("articles"), "_id": member,
                                  "doc": {"story_id": root_id, "duplicate_of": None if member == root_id else root_id}})
        self._bulk(repointed)

    @staticmethod
    def _fact_fields(facts: list[Fact], day: Optional[str]) -> dict[str, Any]:
        """v3: the article fields its facts are exported and counted by (a fact without a date counts on the
        article's day)."""
        per_day = Counter(f.event_date or day for f in facts)
        return {"fact_event_keys": sorted({f.event_date or "" for f in facts}),
                "fact_day_counts": sorted(f"{d}|{n}" for d, n in per_day.items() if d), "fact_count": len(facts)}

    def _fact_documents(self, by_id: dict[str, Article], stored: dict[str, dict],
                        filters_of: dict[str, dict[str, Any]]) -> list[dict]:
        """Stores before v3: the bulk actions replacing these articles' fact documents (the distribution has no
        delete-by-query, so the old ones are named: by the article's own list, or searched for when it has none)."""
        actions: list[dict] = []
        unlisted = [i for i, doc in stored.items() if "fact_ids" not in doc]
        old_facts = [f for doc in stored.values() for f in doc.get("fact_ids") or []]
        if unlisted:
            old_facts += self._ids("facts", {"terms": {"article_id": unlisted}})
        for old in dict.fromkeys(old_facts):
            actions.append({"_op_type": "delete", "_index": self.alias("facts"), "_id": old})
        for article in by_id.values():
            filters = filters_of[article.id]
            for fact in article.facts:
                actions.append({"_op_type": "index", "_index": self.alias("facts"), "_id": fact.id, "_source": {
                    **filters, "id": fact.id, "article_id": article.id, "event_key": fact.event_date or "",
                    "published_key": article.published or "", "fact_day": fact.event_date or filters["day"],
                    "record": fact}})
        return actions

    def _ids(self, kind: str, query: dict) -> list[str]:
        return [h["_source"]["id"] for h in self._scan(kind, query, [{"id": "asc"}], ["id"])]

    @staticmethod
    def _filter_fields(article: Article) -> dict[str, Any]:
        return {"relevant": bool(article.relevant), "incident": article.incident, "language": article.language,
                "source": article.source, "day": article.filed_day(),
                "first_seen": article.first_seen, "entity_ids": [e.id for e in article.entities],
                "figure_kinds": sorted({f.kind for f in article.figures})}

    def _stored(self, ids: list[str]) -> dict[str, dict]:
        """first_seen and fact_ids (when kept) of the articles already stored, read in real time (no refresh needed)."""
        if not ids:
            return {}
        kept = ["first_seen"] if self.inline_facts else ["first_seen", "record.fact_ids"]
        found = self._call("reading stored articles", self.es.mget, index=self.alias("articles"), ids=ids, source=kept)
        return {d["_id"]: {"first_seen": d["_source"].get("first_seen"),
                           **({"fact_ids": d["_source"]["record"]["fact_ids"]}
                              if "fact_ids" in (d["_source"].get("record") or {}) else {})}
                for d in found["docs"] if d.get("found")}

    def save_listing_validators(self, validators: dict[str, tuple[Optional[str], Optional[str]]]) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._bulk([{"_op_type": "index", "_index": self.alias("listings"),
                     "_id": hashlib.sha1(url.encode("utf-8")).hexdigest(),
                     "_source": {"url": url, "etag": etag, "last_modified": modified, "checked_at": now}}
                    for url, (etag, modified) in validators.items()])

    # --- reading -----------------------------------------------------------------------------------

    def _filters(self, filters: Filters) -> list[dict]:
        clauses: list[dict] = []
        if not filters.include_irrelevant:
            clauses.append({"term": {"relevant": True}})
        for name in ("incident", "source"):
            if getattr(filters, name):
                clauses.append({"term": {name: getattr(filters, name)}})
        if filters.lang:
            clauses.append({"term": {"language": filters.lang}})
        if filters.since or filters.until:
            bounds = {}
            if filters.since:
                bounds["gte"] = filters.since.isoformat()
            if filters.until:
                bounds["lte"] = filters.until.isoformat()
            clauses.append({"range": {"day": bounds}})
        if filters.first_seen_since:
            clauses.append({"range": {"first_seen": {"gte": filters.first_seen_since}}})
        for entity in filters.entity:
            clauses.append({"term": {"entity_ids": entity}})
        if filters.figure_kind:
            clauses.append({"term": {"figure_kinds": filters.figure_kind}})
        return clauses

    def _query(self, filters: Filters, must: Optional[dict] = None) -> dict:
        return {"bool": {"filter": self._filters(filters), **({"must": [must]} if must else {})}}

    def _scan(self, kind: str, query: dict, sort: list, source: Any = True) -> Iterator[dict]:
        """Every hit, in `sort` order, by point in time and search_after (no 10,000-hit cap)."""
        pit = self._call("opening a point in time", self.es.open_point_in_time, index=self.alias(kind),
                         keep_alive="2m")["id"]
        after = None
        try:
            while True:
                page = self._call("reading", self.es.search, pit={"id": pit, "keep_alive": "2m"}, query=query,
                                  sort=sort, size=BATCH, source=source,
                                  **({"search_after": after} if after else {}))
                hits = page["hits"]["hits"]
                pit = page.get("pit_id", pit)
                yield from hits
                if len(hits) < BATCH:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self.es.close_point_in_time(id=pit)
            except Exception:  # noqa: BLE001 - the PIT expires by itself
                pass

    def _article(self, source: dict, facts: Optional[list[Fact]] = None) -> Article:
        record = source.get("record") or {}
        return Article.from_record({
            **{k: source.get(k) for k in ("id", "url", "canonical_url", "source", "title", "language", "published",
                                          "fetched", "first_seen", "author", "text", "relevant", "relevance",
                                          "incident", "story_id", "duplicate_of", "content_hash")},
            "entities": record.get("entities"), "figures": record.get("figures"), "dates": record.get("dates"),
            "extraction": record.get("extraction"), "archive": record.get("archive"),
            "facts": [plain(f) for f in facts or []]})

    ARTICLE_SORT = [{"published_key": "asc"}, {"id": "asc"}]
    FACT_SORT = [{"event_key": "asc"}, {"published_key": "asc"}, {"id": "asc"}]

    def known_urls(self) -> set[str]:
        return {h["_source"]["canonical_url"] for h in self._scan("pages", {"match_all": {}}, [{"id": "asc"}],
                                                                   ["canonical_url"])}

    def signatures(self, article_ids: list[str]) -> dict[str, tuple[bytes, list[str]]]:
        if not article_ids:
            return {}
        found = self._call("reading signatures", self.es.mget, index=self.alias("articles"), ids=article_ids,
                           source=["signature", "bands"])
        out = {}
        for doc in found["docs"]:
            signature = base64.b64decode((doc.get("_source") or {}).get("signature") or "")
            if doc.get("found") and signature:
                out[doc["_id"]] = (signature, sorted(doc["_source"].get("bands") or []))
        return out

    def story_candidates(self, wanted: list[tuple[str, list[str], str]]) -> list[list[dict]]:
        if not wanted:
            return []
        # One request for the batch, one search per article in it: for its content hash and for each of its bands,
        # the holders with the lowest ids (as SQLite's index order gives them), however many copies hold the key.
        lowest = {"terms": {"field": "id", "size": CANDIDATES_PER_KEY, "order": {"_key": "asc"}}}
        searches: list[dict] = []
        for content_hash, bands, exclude_id in wanted:
            should = [{"term": {"content_hash": content_hash}}]
            aggs = {"same_text": {"filter": should[0], "aggs": {"ids": lowest}}}
            if bands:
                should.append({"terms": {"bands": bands}})
                aggs["bands"] = {"terms": {"field": "bands", "include": bands, "size": len(bands)},
                                 "aggs": {"ids": lowest}}
            searches += [{"index": self.alias("articles")},
                         {"size": 0, "aggs": aggs, "query": {"bool": {
                             "should": should, "minimum_should_match": 1,
                             "must_not": [{"ids": {"values": [exclude_id]}}]}}}]
        found = self._call("finding near-duplicates", self.es.msearch, searches=searches)
        refused = next((r["error"] for r in found["responses"] if "error" in r), None)
        if refused is not None:
            raise StoreError(f"Elasticsearch at {self.node} refused finding near-duplicates: "
                             f"{refused.get('reason', refused) if isinstance(refused, dict) else refused}")
        holders = []
        for response in found["responses"]:
            aggs = response["aggregations"]
            keys = [aggs["same_text"], *aggs.get("bands", {}).get("buckets", [])]
            holders.append({held["key"] for key in keys for held in key["ids"]["buckets"]})
        return candidate_lists(wanted, holders, self._candidates)

    def _candidates(self, ids: set[str]) -> dict[str, dict]:
        """Stored articles by id, as story assignment reads them (the ids not stored left out)."""
        if not ids:
            return {}
        got = self._call("finding near-duplicates", self.es.mget, index=self.alias("articles"), ids=sorted(ids),
                         source=list(CANDIDATE_FIELDS))
        return {d["_id"]: self._candidate(d["_source"]) for d in got["docs"] if d.get("found")}

    @staticmethod
    def _candidate(source: dict) -> dict:
        """A near-duplicate candidate as story assignment reads it, with its signature as bytes."""
        return {**{field: source.get(field) for field in CANDIDATE_FIELDS},
                "signature": base64.b64decode(source.get("signature") or "") or None}

    def get_article(self, article_id: str) -> Optional[Article]:
        found = self._call("reading an article", self.es.options(ignore_status=404).get,
                           index=self.alias("articles"), id=article_id, source_excludes=ARTICLE_SOURCE["excludes"])
        return self._article(found["_source"]) if found.get("found") else None

    def iter_pages(self) -> Iterator[RawPage]:
        for hit in self._scan("pages", {"match_all": {}}, [{"fetched_at": "asc"}, {"id": "asc"}]):
            yield self._page(hit["_source"])

    def get_page(self, canonical_url: str) -> Optional[RawPage]:
        found = self._call("reading a page", self.es.search, index=self.alias("pages"), size=1,
                           query={"term": {"canonical_url": canonical_url}})
        hits = found["hits"]["hits"]
        return self._page(hits[0]["_source"]) if hits else None

    @staticmethod
    def _page(s: dict) -> RawPage:
        headers, archive = RawPage.split_headers(s.get("headers") or {})
        return RawPage(url=s["url"], body=base64.b64decode(s["body"]), fetched_at=s["fetched_at"], status=s["status"],
                       headers=headers, hint_published=s.get("hint_published"), hint_title=s.get("hint_title"),
                       incident=s.get("incident"), archive=archive)

    def iter_articles(self, filters: Filters) -> Iterator[Article]:
        for hit in self._scan("articles", self._query(filters), self.ARTICLE_SORT, ARTICLE_SOURCE):
            yield self._article(hit["_source"])

    def iter_facts(self, filters: Filters) -> Iterator[Fact]:
        if not self.inline_facts:
            for hit in self._scan("facts", self._query(filters), self.FACT_SORT, ["record"]):
                yield fact_from_dict(hit["_source"]["record"])
            return
        # In FACT_SORT's order, one event day at a time (so memory holds one day's facts of one publication
        # time, not the whole export): the articles with facts on that day, by publication time; the facts of
        # one publication time by id.
        keys = self._aggs("articles", filters, {"keys": {"terms": {"field": "fact_event_keys", "size": ALL_BUCKETS}}})
        for key in sorted(b["key"] for b in keys["keys"]["buckets"]):
            query = {"bool": {"filter": [*self._filters(filters), {"term": {"fact_event_keys": key}}]}}
            published, group = None, []
            for hit in self._scan("articles", query, self.ARTICLE_SORT, ["published_key", "record.facts"]):
                if hit["_source"].get("published_key") != published:
                    yield from sorted(group, key=attrgetter("id"))
                    published, group = hit["_source"].get("published_key"), []
                group += [fact_from_dict(f) for f in hit["_source"]["record"]["facts"] if (f.get("event_date") or "") == key]
            yield from sorted(group, key=attrgetter("id"))

    def _compile(self, node: Node, fields: tuple[str, ...] = ("title_an^3", "text_an")) -> dict:
        """Our parsed query as query DSL; user words only ever reach term, prefix and match_phrase clauses."""
        if isinstance(node, BoolNode):
            children = [self._compile(c, fields) for c in node.children]
            body: dict = {"must": children} if node.op == "AND" else {"should": children, "minimum_should_match": 1}
            if node.negated:
                body["must_not"] = [self._compile(n, fields) for n in node.negated]
            return {"bool": body}
        clauses = []
        for spec in fields:
            field, _, boost = spec.partition("^")
            weight = float(boost or 1)
            if isinstance(node, Term) and node.prefix:
                if len(node.tokens) == 1:
                    clauses.append({"prefix": {field: {"value": node.tokens[0], "boost": weight}}})
                else:
                    clauses.append({"match_phrase_prefix": {field: {"query": " ".join(node.tokens), "boost": weight}}})
            elif len(node.tokens) == 1:
                clauses.append({"term": {field: {"value": node.tokens[0], "boost": weight}}})
            else:
                clauses.append({"match_phrase": {field: {"query": " ".join(node.tokens), "boost": weight}}})
        return {"bool": {"should": clauses, "minimum_should_match": 1}}

    def search(self, query: Node, filters: Filters, limit: int = 20) -> list[Article]:
        # Best first by score alone, without counting every hit: Lucene can then skip blocks of documents
        # that cannot make the top `limit` (a sort with tie-breakers would score every match).
        found = self._call("searching", self.es.search, index=self.alias("articles"), size=min(limit, 10_000),
                           query=self._query(filters, self._compile(query)), track_total_hits=False,
                           source=ARTICLE_SOURCE)
        return [self._article(h["_source"]) for h in found["hits"]["hits"]]

    def _aggs(self, kind: str, filters: Filters, aggs: dict) -> dict:
        return self._call("aggregating", self.es.search, index=self.alias(kind), size=0,
                          query=self._query(filters), aggs=aggs)["aggregations"]

    def timeline(self, filters: Filters) -> list[dict]:
        aggs = self._aggs("articles", filters, {"days": {"terms": {"field": "day", "size": ALL_BUCKETS, "missing": ""},
                                                         "aggs": {"langs": {"terms": {"field": "language"}}}}})
        rows = [{"day": b["key"] or None, "language": lang["key"], "count": lang["doc_count"]}
                for b in aggs["days"]["buckets"] for lang in b["langs"]["buckets"]]
        return sorted(rows, key=lambda r: (r["day"] or "", r["language"]))

    def list_articles(self, filters: Filters, limit: int, offset: int = 0) -> list[Article]:
        if offset + limit <= 10_000:
            found = self._call("listing", self.es.search, index=self.alias("articles"), query=self._query(filters),
                               sort=self.ARTICLE_SORT, size=limit, from_=offset, source=ARTICLE_SOURCE)
            return [self._article(h["_source"]) for h in found["hits"]["hits"]]
        out = []
        for n, hit in enumerate(self._scan("articles", self._query(filters), self.ARTICLE_SORT, ["id"])):
            if n >= offset + limit:
                break
            if n >= offset:
                out.append(hit["_source"]["id"])
        return [a for a in (self.get_article(i) for i in out) if a]

    def count_articles(self, filters: Filters) -> int:
        return self._call("counting", self.es.count, index=self.alias("articles"), query=self._query(filters))["count"]

    def _entity_names(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        found = self._call("reading entities", self.es.mget, index=self.alias("entities"), ids=ids)
        return {d["_id"]: d["_source"] for d in found["docs"] if d.get("found")}

    def facets(self, filters: Filters, size: int = FACET_SIZE) -> dict[str, list[dict]]:
        aggs = self._aggs("articles", filters, {name: {"terms": {"field": field, "size": size}} for name, field in (
            ("incident", "incident"), ("language", "language"), ("source", "source"), ("entity", "entity_ids"),
            ("figure_kind", "figure_kinds"))})
        out = {name: [{"value": b["key"], "count": b["doc_count"]} for b in agg["buckets"]] for name, agg in aggs.items()}
        names = self._entity_names([e["value"] for e in out["entity"]])
        for entry in out["entity"]:
            known = names.get(entry["value"], {})
            entry.update(type=known.get("type"), name=known.get("name"), name_hi=known.get("name_hi"))
        for name in out:
            out[name].sort(key=lambda e: (-e["count"], e["value"]))
        return out

    def filter_options(self) -> dict[str, list[dict]]:
        aggs = self._aggs("articles", Filters(include_irrelevant=True), {
            "incident": {"terms": {"field": "incident", "size": 10_000}},
            "source": {"terms": {"field": "source", "size": 10_000}}})
        entities = [h["_source"] for h in self._scan("entities", {"match_all": {}}, [{"id": "asc"}])]
        return {"incident": sorted(({"value": b["key"]} for b in aggs["incident"]["buckets"]), key=lambda e: e["value"]),
                "source": sorted(({"value": b["key"]} for b in aggs["source"]["buckets"]), key=lambda e: e["value"]),
                "entity": sorted(({"value": e["id"], "type": e.get("type"), "name": e.get("name"),
                                   "name_hi": e.get("name_hi")} for e in entities),
                                 key=lambda e: (e["type"] or "", e["name"] or ""))}

    def entity_timeline(self, filters: Filters, entity_ids: list[str]) -> list[dict]:
        if not entity_ids:
            return []
        aggs = self._aggs("articles", filters, {"entities": {
            "terms": {"field": "entity_ids", "include": list(entity_ids), "size": len(entity_ids)},
            "aggs": {"days": {"terms": {"field": "day", "size": ALL_BUCKETS}}}}})
        rows = [{"day": d["key"], "entity": b["key"], "count": d["doc_count"]}
                for b in aggs["entities"]["buckets"] for d in b["days"]["buckets"]]
        return sorted(rows, key=lambda r: (r["day"], r["entity"]))

    def fact_days(self, filters: Filters) -> list[dict]:
        if not self.inline_facts:
            aggs = self._aggs("facts", filters, {"days": {"terms": {"field": "fact_day", "size": ALL_BUCKETS}}})
            return sorted(({"day": b["key"], "count": b["doc_count"]} for b in aggs["days"]["buckets"]),
                          key=lambda r: r["day"])
        aggs = self._aggs("articles", filters, {"days": {"terms": {"field": "fact_day_counts", "size": ALL_BUCKETS}}})
        per_day: Counter = Counter()
        for bucket in aggs["days"]["buckets"]:  # "day|n": this many articles have n facts on that day
            day, _bar, n = bucket["key"].rpartition("|")
            per_day[day] += int(n) * bucket["doc_count"]
        return [{"day": day, "count": count} for day, count in sorted(per_day.items())]

    def facts_for(self, article_ids: list[str]) -> dict[str, list[Fact]]:
        out: dict[str, list[Fact]] = {i: [] for i in article_ids}
        if self.inline_facts:
            for start in range(0, len(article_ids), ID_CHUNK):
                found = self._call("reading facts", self.es.mget, index=self.alias("articles"),
                                   ids=article_ids[start:start + ID_CHUNK], source=["record.facts"])
                for doc in found["docs"]:
                    if doc.get("found"):
                        facts = ((doc.get("_source") or {}).get("record") or {}).get("facts") or []
                        out[doc["_id"]] = sorted(map(fact_from_dict, facts), key=attrgetter("id"))
            return out
        for start in range(0, len(article_ids), ID_CHUNK):
            query = {"terms": {"article_id": article_ids[start:start + ID_CHUNK]}}
            for hit in self._scan("facts", query, [{"article_id": "asc"}, {"id": "asc"}], ["article_id", "record"]):
                out[hit["_source"]["article_id"]].append(fact_from_dict(hit["_source"]["record"]))
        return out

    def story_members(self, story_ids: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {i: [] for i in story_ids}
        fields = ["id", "story_id", "title", "source", "url", "language", "published"]
        for start in range(0, len(story_ids), ID_CHUNK):
            query = {"terms": {"story_id": story_ids[start:start + ID_CHUNK]}}
            for hit in self._scan("articles", query, self.ARTICLE_SORT, fields):
                out[hit["_source"]["story_id"]].append({f: hit["_source"].get(f) for f in fields})
        return out

    def entity_first_seen(self, filters: Filters) -> list[dict]:
        since = filters.first_seen_since or ""
        scoped = Filters(**{**filters.__dict__, "first_seen_since": None})
        aggs = self._aggs("articles", scoped, {"entities": {
            "terms": {"field": "entity_ids", "size": ALL_BUCKETS},
            "aggs": {"first": {"terms": {"field": "first_seen", "size": 1, "order": {"_key": "asc"}}}}}})
        rows = []
        for bucket in aggs["entities"]["buckets"]:
            first = bucket["first"]["buckets"][0]["key"] if bucket["first"]["buckets"] else None
            if first and first >= since:
                rows.append((first, bucket["key"], bucket["doc_count"]))
        names = self._entity_names([r[1] for r in rows])
        out = []
        for first, entity_id, count in sorted(rows):
            known = names.get(entity_id)
            if known:
                out.append({"entity": Entity(entity_id, known.get("type"), known.get("name"), known.get("name_hi")),
                            "first_seen": first, "articles": count})
        return out

    def listing_validators(self) -> dict[str, tuple[Optional[str], Optional[str]]]:
        return {h["_source"]["url"]: (h["_source"].get("etag"), h["_source"].get("last_modified"))
                for h in self._scan("listings", {"match_all": {}}, [{"url": "asc"}])}

    def counts(self) -> dict[str, int]:
        count = lambda kind, query=None: self._call("counting", self.es.count, index=self.alias(kind),  # noqa: E731
                                                    query=query or {"match_all": {}})["count"]
        if self.inline_facts:
            summed = self._call("counting facts", self.es.search, index=self.alias("articles"), size=0,
                                aggs={"facts": {"sum": {"field": "fact_count"}}})
            facts = int(summed["aggregations"]["facts"]["value"])
        else:
            facts = count("facts")
        return {"pages": count("pages"), "articles": count("articles"),
                "relevant": count("articles", {"term": {"relevant": True}}), "facts": facts}

    # --- the claim ledger, claims and events ---------------------------------------------------------

    def _derived(self, kind: str, query: dict, sort: list, field: str) -> list[dict]:
        if kind in self.absent:
            return []
        return [h["_source"][field] for h in self._scan(kind, query, sort, [field])]

    def _replace_docs(self, kind: str, clears: list[dict], docs: list[tuple[str, dict]]) -> None:
        """Delete what the queries match (the distribution has no delete-by-query), then index the docs."""
        if kind in self.absent:
            raise StoreError(f"{self.alias(kind)} is missing at {self.node}: open the store for writing first")
        kept = {doc_id for doc_id, _source in docs}
        old = {h["_id"] for clear in clears for h in self._scan(kind, clear, [{"_doc": "asc"}], False)}
        actions = [{"_op_type": "delete", "_index": self.alias(kind), "_id": doc_id} for doc_id in sorted(old - kept)]
        actions += [{"_op_type": "index", "_index": self.alias(kind), "_id": doc_id, "_source": source}
                    for doc_id, source in docs]
        self._bulk(actions)

    def put_ledger(self, incident: str, rows: list[dict], article_ids: Optional[list[str]] = None) -> None:
        scope = [{"term": {"incident": incident}}]
        clears = ([{"bool": {"filter": scope}}] if article_ids is None else
                  [{"bool": {"filter": scope + [{"terms": {"article_id": article_ids[i:i + ID_CHUNK]}}]}}
                   for i in range(0, len(article_ids), ID_CHUNK)])
        self._replace_docs("ledger", clears, [
            (r["fact_id"], {"fact_id": r["fact_id"], "incident": incident, "article_id": r["article_id"], "row": r})
            for r in rows])

    def ledger(self, incident: str, fact_ids: Optional[list[str]] = None,
               article_ids: Optional[list[str]] = None) -> list[dict]:
        scope: list[dict] = [{"term": {"incident": incident}}]
        if fact_ids is None and article_ids is None:
            return self._derived("ledger", {"bool": {"filter": scope}}, [{"fact_id": "asc"}], "row")
        found: dict[str, dict] = {}
        for field, ids in (("fact_id", fact_ids or []), ("article_id", article_ids or [])):
            for start in range(0, len(ids), ID_CHUNK):
                query = {"bool": {"filter": scope + [{"terms": {field: ids[start:start + ID_CHUNK]}}]}}
                for row in self._derived("ledger", query, [{"fact_id": "asc"}], "row"):
                    found[row["fact_id"]] = row
        return [found[k] for k in sorted(found)]

    @staticmethod
    def _state_id(incident: str, key: str) -> str:
        return hashlib.sha1(f"{incident}\n{key}".encode("utf-8")).hexdigest()

    def put_state(self, incident: str, docs: dict[str, dict], replace: bool = False) -> None:
        clears = [{"term": {"incident": incident}}] if replace else []
        self._replace_docs("state", clears, [(self._state_id(incident, key), {"incident": incident, "key": key,
                                                                             "doc": doc}) for key, doc in docs.items()])

    @staticmethod
    def _workspace_id(kind: str, key: str) -> str:
        return hashlib.sha1(f"{kind}\n{key}".encode("utf-8")).hexdigest()

    def put_workspace(self, kind: str, docs: dict[str, Optional[dict]]) -> None:
        if "workspace" in self.absent:
            raise StoreError(f"the store at {self.node} predates the analysts' workspace: run `prahari update` on it "
                             "once to add it")
        gone = [self._workspace_id(kind, key) for key, doc in docs.items() if doc is None]
        self._replace_docs("workspace", [{"ids": {"values": gone}}] if gone else [], [
            (self._workspace_id(kind, key), {"kind": kind, "key": key, "doc": doc})
            for key, doc in docs.items() if doc is not None])

    def workspace(self, kind: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        if "workspace" in self.absent:
            return {}
        scope: list[dict] = [{"term": {"kind": kind}}]
        found: dict[str, dict] = {}
        for start in range(0, len(keys), ID_CHUNK) if keys is not None else [None]:
            query = scope + ([{"terms": {"key": keys[start:start + ID_CHUNK]}}] if start is not None else [])
            found.update((h["_source"]["key"], h["_source"]["doc"]) for h in self._scan(
                "workspace", {"bool": {"filter": query}}, [{"key": "asc"}], ["key", "doc"]))
        return found

    def state(self, incident: str, keys: Optional[list[str]] = None) -> dict[str, dict]:
        if "state" in self.absent:
            return {}
        scope: list[dict] = [{"term": {"incident": incident}}]
        if keys is not None:
            scope.append({"terms": {"key": keys}})
        return {h["_source"]["key"]: h["_source"]["doc"]
                for h in self._scan("state", {"bool": {"filter": scope}}, [{"key": "asc"}], ["key", "doc"])}

    def _put(self, kind: str, key: str, incident: str, docs: list[dict], keys: Optional[list[str]], doc_key: str) -> None:
        scope: list[dict] = [{"term": {"incident": incident}}]
        if keys is not None:
            scope.append({"terms": {key: keys}})
        self._replace_docs(kind, [{"bool": {"filter": scope}}], [
            (d["id"], {"id": d["id"], "incident": incident, key: d[doc_key], "doc": d}) for d in docs])

    def put_claims(self, incident: str, claims: list[dict], slots: Optional[list[str]] = None) -> None:
        self._put("claims", "slot", incident, claims, slots, "slot")

    def put_events(self, incident: str, events: list[dict], days: Optional[list[str]] = None) -> None:
        self._put("events", "day", incident, events, days, "date")

    def claims(self, incident: Optional[str] = None) -> list[dict]:
        query = {"term": {"incident": incident}} if incident else {"match_all": {}}
        return self._derived("claims", query, [{"slot": "asc"}, {"id": "asc"}], "doc")

    def events(self, incident: Optional[str] = None) -> list[dict]:
        query = {"term": {"incident": incident}} if incident else {"match_all": {}}
        return self._derived("events", query, [{"day": "asc"}, {"id": "asc"}], "doc")

    def article_briefs(self, article_ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for start in range(0, len(article_ids), ID_CHUNK):
            query = {"ids": {"values": article_ids[start:start + ID_CHUNK]}}
            for hit in self._scan("articles", query, [{"id": "asc"}], list(BRIEF_FIELDS)):
                out[hit["_source"]["id"]] = {f: hit["_source"].get(f) for f in BRIEF_FIELDS}
        return out
