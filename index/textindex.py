"""The SQLite store's ranking index: a Tantivy index of the text FTS5 holds, kept in a folder beside the file.

FTS5's bm25 scores every match of a query before it can pick the best (0.5 µs each: 0.16 s for a phrase that a
quarter of a million-article store holds); Tantivy skips the matches that cannot reach the top. The store writes
only to SQLite, and logs the key of each article it writes, a rewrite included (text_changes); a search first
brings this index up to that log, so the index is never a second source of truth: deleting the folder costs one
rebuild on the next search.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

from index.query import BoolNode, Node, Term
from prahari.errors import StoreError

FORMAT = 1  # bumped when the schema or the analyser changes: an index of another format is rebuilt
TOKENS = r"[\p{L}\p{N}\p{Co}\p{M}]+"  # what FTS_TOKENIZE keeps in a word: letters, numbers, marks, private use
TITLE_BOOST = 3.0  # a title match weighs three text matches, as the FTS5 ranking's column weights say
REBUILD_SHARE = 0.25  # more than this share of the store changed since the last sync: rebuild, not catch up
WRITER_HEAP = 128 << 20  # bytes Tantivy buffers before it writes a segment
READ_CHUNK = 5000  # articles read from SQLite per step of a sync
ANALYSER = "prahari"


def _tantivy():
    try:
        import tantivy
    except ImportError as exc:  # a broken install: say what is missing instead of a traceback
        raise StoreError(f"the SQLite store ranks searches with tantivy, which is not installed ({exc}): "
                         "run `make install` or `pip install -r requirements.txt`") from None
    return tantivy


class TextIndex:
    """Rank parsed queries over a store's article text; `sync` first, with the store's connection."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.state_path = folder / "state.json"
        self._index: Any = None
        self._seen: Optional[tuple[str, int]] = None  # (store id, change seq) this process last read the index at

    # --- keeping up with the store --------------------------------------------------------------------------

    def sync(self, db, store_id: str) -> None:
        """Bring the index up to the store's change log, rebuilding it when that is cheaper or it is missing."""
        head = _head(db)
        if self._seen == (store_id, head) and self._index is not None:
            return
        with self._locked():
            state = self._state()
            if state.get("format") != FORMAT or state.get("store") != store_id:
                self._rebuild(db, store_id, head)
            elif state["seq"] != head:
                self._catch_up(db, store_id, state["seq"], head)
            else:
                self._open().reload()
        self._seen = (store_id, head)

    def _catch_up(self, db, store_id: str, since: int, head: int) -> None:
        oldest = db.execute("SELECT MIN(seq) FROM text_changes").fetchone()[0]
        size = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM article_keys").fetchone()[0]
        if (since > head or (oldest is not None and oldest > since + 1)
                or head - since > REBUILD_SHARE * max(size, 1)):
            # The store is older than the index (a file put back from a backup), the log no longer reaches back
            # to the index, or much changed.
            self._rebuild(db, store_id, head)
            return
        keys = [r[0] for r in db.execute("SELECT DISTINCT key FROM text_changes WHERE seq > ? AND seq <= ?",
                                         (since, head))]
        index = self._open()
        writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
        try:
            for key in keys:  # a changed article is taken out, then put back if it is still stored
                writer.delete_documents_by_term("key", key)
            for start in range(0, len(keys), READ_CHUNK):
                chunk = keys[start:start + READ_CHUNK]
                self._add(writer, db.execute(f"SELECT rowid, title, text FROM articles_fts WHERE rowid IN "
                                             f"({','.join('?' for _ in chunk)})", chunk))
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._write_state(store_id, head)
        index.reload()

    def _rebuild(self, db, store_id: str, head: int) -> None:
        if self.state_path.exists():
            self.state_path.unlink()  # a stop part way leaves no state: the next search rebuilds again
        index = self._open(fresh=True)
        writer = index.writer(heap_size=WRITER_HEAP, num_threads=min(2, os.cpu_count() or 1))
        try:
            writer.delete_all_documents()
            self._add(writer, db.execute("SELECT rowid, title, text FROM articles_fts"))
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._write_state(store_id, head)
        index.reload()

    def _add(self, writer, rows) -> None:
        document = _tantivy().Document
        for key, title, text in rows:
            writer.add_document(document(key=key, title=title or "", text=text or ""))

    # --- the folder -----------------------------------------------------------------------------------------

    def _open(self, fresh: bool = False):
        tantivy = _tantivy()
        if self._index is not None and not fresh:
            return self._index
        self.folder.mkdir(parents=True, exist_ok=True)
        schema = _schema(tantivy)
        if fresh:  # a folder of another format (or a damaged one) is emptied first
            for child in self.folder.iterdir():
                if child.name not in (".lock", "state.json") and child.is_file():
                    child.unlink()
        try:
            index = tantivy.Index(schema, path=str(self.folder), reuse=not fresh)
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot open the search index {self.folder}: {exc}; delete that folder and "
                             "search again to rebuild it") from None
        index.register_tokenizer(ANALYSER, _analyser())
        self._index = index
        return index

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time brings the index up to date (a crawl, the dashboard, the CLI may all search)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _state(self) -> dict:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and isinstance(state.get("seq"), int) else {}

    def _write_state(self, store_id: str, head: int) -> None:
        partial = self.state_path.with_suffix(".tmp")
        partial.write_text(json.dumps({"format": FORMAT, "store": store_id, "seq": head}), encoding="utf-8")
        os.replace(partial, self.state_path)

    def synced_seq(self, store_id: str) -> Optional[int]:
        """The last change this index holds, if it is this store's; the store trims its log up to there."""
        state = self._state()
        return state["seq"] if state.get("store") == store_id and state.get("format") == FORMAT else None

    # --- ranking --------------------------------------------------------------------------------------------

    def best(self, query: Node, limit: int, within: Optional[list[int]] = None) -> list[tuple[float, int]]:
        """(score, key) of the best `limit` matches, best first; `within`: only these keys. Equal scores keep the
        index's order at the cut (as in Elasticsearch), and go by key inside it."""
        tantivy = _tantivy()
        compiled = self._compile(query)
        if within is not None:
            compiled = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, compiled),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(self._index.schema, "key", within))])
        searcher = self._index.searcher()
        try:
            hits = searcher.search(compiled, limit, count=False).hits
        except ValueError as exc:  # the query parser's limits keep every search we build within Tantivy's
            raise StoreError(f"the search index could not run this search: {exc}") from None
        return sorted(((score, searcher.doc(address)["key"][0]) for score, address in hits),
                      key=lambda hit: (-hit[0], hit[1]))

    def _compile(self, node: Node):
        tantivy = _tantivy()
        query, occur = tantivy.Query, tantivy.Occur
        if isinstance(node, BoolNode):
            kind = occur.Must if node.op == "AND" else occur.Should
            clauses = [(kind, self._compile(child)) for child in node.children]
            clauses += [(occur.MustNot, self._compile(child)) for child in node.negated]
            return query.boolean_query(clauses)
        words = [token for word in node.tokens for token in _analyser().analyze(word)]
        prefix = isinstance(node, Term) and node.prefix
        if not words:  # nothing searchable in it (punctuation only): matches nothing, as in FTS5
            return query.empty_query()
        schema = self._index.schema

        def leaf(field: str):
            if prefix:  # as in Elasticsearch, every word a prefix opens scores alike
                return query.phrase_prefix_query(schema, field, words)
            if len(words) > 1:
                return query.phrase_query(schema, field, words)
            return query.term_query(schema, field, words[0])

        return query.boolean_query([(occur.Should, query.boost_query(leaf("title"), TITLE_BOOST)),
                                    (occur.Should, leaf("text"))])


def _head(db) -> int:
    """The store's last change number (0 before any)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'text_changes'").fetchone()
    return row[0] if row else 0


@lru_cache(maxsize=1)
def _analyser():
    """Words as FTS5's tokenizer cuts them (FTS_TOKENIZE), lower case, Latin accents folded as unicode61 does."""
    tantivy = _tantivy()
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKENS))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


def _schema(tantivy):
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", stored=True, indexed=True, fast=True)
    for field in ("title", "text"):
        builder.add_text_field(field, stored=False, tokenizer_name=ANALYSER, index_option="position")
    return builder.build()

