"""The page → article → stored story service: extraction, relevance, NLP, story assignment, batched writes.

The Scrapy pipelines call its stages (extraction, NLP and the signature in one worker call, `read_page`);
`reprocess` runs them all over the stored pages.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Iterator, Optional
from urllib.parse import urlsplit

import numpy as np

from index.store import Store, batched, search_forms
from nlp.dedup import NEAR_DUPLICATE_JACCARD, band_keys, canonical_url, content_hash, jaccard, minhash_signature
from nlp.normalize import search_text
from nlp.relevance import score_relevance
from prahari.errors import ExtractionError, PrahariError
from prahari.incident import Incident, find_incident
from prahari.model import Article, RawPage, article_id_for

ARTICLE_BATCH = 50  # articles per store transaction in a crawl or reprocess


def build_article(page: RawPage) -> Article:
    """Extract an article from a raw page (raises ExtractionError when there is none)."""
    # Imported here: the crawl process imports this module for story assignment only, and trafilatura (0.13 s of
    # CPU at its start) is needed in the NLP workers alone.
    from nlp.extract import extract_page

    fields = extract_page(page.body, page.url, page.headers.get("Content-Type"),
                          page.hint_published, page.hint_title)
    canon = canonical_url(page.url)
    declared = fields["canonical"]
    # A same-site rel=canonical folds AMP and tracking variants; a cross-site one (syndication) is not
    # trusted for identity, near-duplicate detection groups those copies instead.
    if declared and urlsplit(declared).netloc == urlsplit(page.url).netloc and not names_a_listing(declared, page.url):
        canon = canonical_url(declared)
    title, text = fields["title"], fields["text"]
    forms = (title, text, search_text(title), search_text(text))  # analysed once: hashes and stores reuse them
    return Article(
        id=article_id_for(canon), url=page.url, canonical_url=canon, source=urlsplit(page.url).netloc,
        title=title, language=fields["language"], text=text,
        published=fields["published"], fetched=page.fetched_at, first_seen=page.fetched_at,
        author=fields["author"], incident=page.incident, content_hash=content_hash(text, forms[3]),
        extraction=fields["extraction"], archive=page.archive, search_forms=forms,
    )


def names_a_listing(canonical: str, url: str) -> bool:
    """A rel=canonical naming the site root or a section above the page (a template bug), not the page itself."""
    declared = urlsplit(canonical).path.rstrip("/")
    own = urlsplit(canonical_url(url)).path.rstrip("/")  # AMP and tracking variants folded first
    return not declared or (own != declared and own.startswith(declared + "/"))


def apply_relevance(article: Article, incident: Optional[Incident]) -> None:
    """Mark the article relevant (or not) to its incident's keyword groups."""
    groups = incident.relevance_groups if incident else []
    article.relevant, article.relevance = score_relevance(article.title, article.text, groups)


def annotate(article: Article) -> Article:
    """Run the bilingual NLP pipeline (entities, figures, dates and facts); return the same article."""
    from nlp.pipeline import annotate_article  # spaCy loads on first use only
    annotate_article(article)
    return article


def read_page(page: RawPage) -> tuple[Article, np.ndarray]:
    """A page's whole CPU-heavy part in one call: the annotated article and its near-duplicate signature.

    A crawl runs it in a worker process, so a page crosses the process boundary once each way.
    """
    article = annotate(build_article(page))
    return article, article_signature(article)


def article_signature(article: Article) -> np.ndarray:
    """The article's near-duplicate signature, from its analysed text (made again only when it has none)."""
    return minhash_signature(article.text, search_forms(article)[1])


@lru_cache(maxsize=4096)
def _utc_stamp(published: Optional[str]) -> str:
    """A publication time as a UTC ISO string, comparable as text ("9999" when missing or unreadable)."""
    try:
        return datetime.fromisoformat(published).astimezone(timezone.utc).isoformat() if published else "9999"
    except ValueError:
        return "9999"


def _order_key(candidate: dict) -> tuple:
    return (_utc_stamp(candidate.get("published")), candidate.get("first_seen") or "", candidate["id"])


def _near_copies(candidates: list[dict], content_hash: str, signature: np.ndarray) -> list[dict]:
    """The candidates with the same content hash or a signature at least NEAR_DUPLICATE_JACCARD alike."""
    signed = [c for c in candidates if c["content_hash"] != content_hash and c.get("signature")]
    near = set()
    if signed:
        # One comparison for all of them: a near-duplicate-heavy incident brings dozens per article.
        stacked = np.frombuffer(b"".join(c["signature"] for c in signed), dtype=np.uint64).reshape(len(signed), -1)
        alike = jaccard(stacked, signature) >= NEAR_DUPLICATE_JACCARD
        near = {id(c) for c, keep in zip(signed, alike) if keep}
    return [c for c in candidates if c["content_hash"] == content_hash or id(c) in near]


class StoryAssigner:
    """Give near-duplicate and syndicated copies one story_id; duplicate_of names the earliest copy."""

    def __init__(self, store: Store):
        self.store = store
        self.pending: list[dict] = []  # this batch, not yet written
        self.rows: dict[str, dict] = {}  # by id: this batch's stored candidates, then its own articles
        self.renamed: dict[str, str] = {}  # story re-pointings made in this batch: old story id -> new one

    def _story(self, story_id: str) -> str:
        """A story's id now: a candidate (stored, or earlier in this batch) carries the name its story had when it
        was read or assigned."""
        seen = set()
        while story_id in self.renamed and story_id not in seen:  # never loops, even on a store that contradicts itself
            seen.add(story_id)
            story_id = self.renamed[story_id]
        return story_id

    def assign(self, article: Article, signature: np.ndarray, bands: list[str], stored: list[dict]
               ) -> list[tuple[str, str]]:
        """Set story_id and duplicate_of from the stored candidates and this batch's earlier articles; return
        the story re-pointings to apply (story id, new story id)."""
        band_set = set(bands)
        candidates = stored + [p for p in self.pending if p["id"] != article.id and (
            p["content_hash"] == article.content_hash or band_set & p["bands"])]
        me = {"id": article.id, "story_id": article.id, "published": article.published,
              "first_seen": article.first_seen, "content_hash": article.content_hash,
              "signature": signature.tobytes(), "bands": band_set}
        matches = _near_copies(candidates, article.content_hash, signature)
        repoints = []
        if matches:
            # A story is named after its earliest copy, so its id does not depend on crawl order. That copy may be
            # unlike this one (a chain of rewrites, each alike to the one before): it comes first all the same.
            stories = {self._story(m["story_id"]) for m in matches if m["story_id"]}
            first_copies = [me if story == article.id else self.rows.get(story) for story in stories]
            root = min([*matches, me, *filter(None, first_copies)], key=_order_key)
            article.story_id = root["id"]
            article.duplicate_of = None if root["id"] == article.id else root["id"]
            for story in sorted(stories - {root["id"]}):  # every story this copy joins becomes one
                repoints.append((story, root["id"]))
                self.renamed[story] = root["id"]  # this batch's later copies read the new name through _story
        else:
            article.story_id, article.duplicate_of = article.id, None
        me["story_id"] = article.story_id
        self.pending.append(me)
        self.rows[article.id] = me
        return repoints

    def flushed(self) -> None:
        """The batch is written; the store now answers for it."""
        self.pending.clear()
        self.rows.clear()
        self.renamed.clear()

    def save_batch(self, pages: list[RawPage], articles: list[Article],
                   computed: Optional[list[np.ndarray]] = None) -> None:
        """Assign stories to a batch of articles and write it, with its pages, in one transaction
        (`computed`: the articles' signatures, when a worker made them already)."""
        signatures, repoints = {}, []
        try:
            signed = [known if known is not None else article_signature(article)
                      for article, known in zip(articles, computed or [None] * len(articles))]
            bands = [band_keys(signature) for signature in signed]
            # One lookup for the whole batch: the store does not change until the batch is written.
            stored = self.store.story_candidates([(a.content_hash, b, a.id) for a, b in zip(articles, bands)])
            self.rows = {row["id"]: row for rows in stored for row in rows}
            for article, signature, its_bands, its_stored in zip(articles, signed, bands, stored):
                repoints += self.assign(article, signature, its_bands, its_stored)
                signatures[article.id] = (signature.tobytes(), its_bands)
            self.store.save(pages, articles, signatures, repoints)
        finally:
            self.flushed()



def incidents_for_reprocess(store: Store, refs: list[str]) -> dict[str, Incident]:
    """The incident of every stored page, by id: bundled ones, plus the files given with --incident.

    Relevance depends on the incident's keyword groups; an incident that cannot be found is an error,
    never "no groups, so everything is relevant".
    """
    given = {incident.id: incident for incident in (find_incident(ref) for ref in refs)}
    needed = [row["value"] for row in store.filter_options().get("incident", [])]
    found, missing = {}, []
    for incident_id in needed:
        if incident_id in given:
            found[incident_id] = given[incident_id]
            continue
        try:
            found[incident_id] = find_incident(incident_id)
        except PrahariError:
            missing.append(incident_id)
    if missing:
        raise PrahariError(f"stored pages belong to incident(s) {', '.join(missing)} that are not bundled; "
                           "pass each incident file with --incident PATH")
    return found


def reprocess(store: Store, incidents: dict[str, Incident], say: Callable[[str], None]) -> tuple[int, int]:
    """Rebuild every article from its stored raw page; return (articles rebuilt, pages without an article)."""
    assigner = StoryAssigner(store)
    done = dropped = 0

    def rebuilt() -> Iterator[Article]:
        nonlocal dropped
        for page in store.iter_pages():
            try:
                article = build_article(page)
            except ExtractionError:
                dropped += 1
                continue
            apply_relevance(article, incidents.get(page.incident or ""))
            yield annotate(article)

    for batch in batched(rebuilt(), ARTICLE_BATCH):
        assigner.save_batch([], batch)
        done += len(batch)
        say(f"  … {done} articles reprocessed")
    say("  … making the rebuilt articles searchable")  # here, with progress shown, rather than in the first search
    store.ready_for_search()
    return done, dropped
