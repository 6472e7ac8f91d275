"""Dashboard benchmark: first rendered timeline and one filter change, in Chromium, on a 100,000-article store."""

from __future__ import annotations

import copy
import hashlib
import time
from datetime import datetime, timedelta
from pathlib import Path

from index.store import open_store
from prahari.model import Article
from prahari.app.ingest import annotate, apply_relevance, build_article
from prahari.incident import find_incident
from prahari.app.sample.site import SampleSite, load_articles, load_publishers, render_jsonld, render_meta
from prahari.model import RawPage
from tests.browser import browser_page, dashboard_server

BIG = 100_000


def annotated_samples() -> list[Article]:
    """The sample corpus through extraction, relevance and NLP, once."""
    publishers, incident = load_publishers(), find_incident("aiims-2022-sample")
    out = []
    with SampleSite() as site:
        for item in load_articles():
            render = render_jsonld if publishers[item["publisher"]]["template"] == "jsonld" else render_meta
            page = RawPage(url=site.article_url(item), body=render(item, publishers[item["publisher"]],
                                                                   site.article_url(item)).encode(),
                           fetched_at="2026-11-01T06:00:00+00:00")
            article = build_article(page)
            apply_relevance(article, incident)
            out.append(annotate(article))
    return out


def build_big_store(url: str, count: int = BIG) -> None:
    """`count` articles cloned from the annotated samples, spread over 200 days and 40 sources."""
    samples = annotated_samples()
    store = open_store(url)
    start = datetime.fromisoformat("2022-11-23T10:00:00+05:30")
    batch = []
    for n in range(count):
        article = copy.deepcopy(samples[n % len(samples)])
        article.id = hashlib.sha1(f"bench-{n}".encode()).hexdigest()[:16]
        article.url = article.canonical_url = f"https://news{n % 40}.example.in/story/{n}"
        article.source = f"news{n % 40}.example.in"
        article.published = (start + timedelta(minutes=n * 3 % (200 * 24 * 60))).isoformat()
        article.story_id, article.duplicate_of, article.incident = article.id, None, "aiims-2022-sample"
        article.first_seen = "2026-11-01T06:00:00+00:00"
        for index, fact in enumerate(article.facts):
            fact.id = hashlib.sha1(f"{article.id}:{index}".encode()).hexdigest()[:16]
            fact.article_id, fact.url, fact.source = article.id, article.url, article.source
        batch.append(article)
        if len(batch) == 2000:
            store.save([], batch)
            batch = []
    if batch:
        store.save([], batch)
    store.close()


def time_dashboard(store_url: str) -> tuple[float, float]:
    """(seconds to the first rendered timeline, seconds for a language filter change) in Chromium."""
    with dashboard_server(store_url) as base, browser_page() as page:
        started = time.monotonic()
        page.goto(base + "/")
        page.locator(".pr-item").first.wait_for(timeout=120_000)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=120_000)
        first = time.monotonic() - started
        before = page.get_by_text(" articles · page 1 of").first.inner_text()
        started = time.monotonic()
        page.locator('[data-testid="stSidebar"] label').filter(has_text="हिन्दी").click()
        page.wait_for_function(
            "(before) => [...document.querySelectorAll('p')].some(p => p.innerText.includes(' articles · page 1 of') "
            "&& p.innerText !== before) && !document.querySelector('[data-testid=\"stSkeleton\"]')",
            arg=before, timeout=120_000)
        change = time.monotonic() - started
    return first, change


def bench_dashboard(scratch: Path, small_store: str) -> str:
    """Time the dashboard on the big store it builds; return that store's URL (the claims benchmark reuses it)."""
    started = time.monotonic()
    big = f"sqlite:///{scratch}/big.db"
    build_big_store(big)
    built = time.monotonic() - started
    base_first, base_change = time_dashboard(small_store)
    first, change = time_dashboard(big)
    print(f"bench dashboard: {BIG} articles (store built in {built:.0f}s): first timeline {first:.2f}s "
          f"(target <= 3), language filter {change:.2f}s (target <= 1); baseline on the {len(load_articles())}-article "
          f"demo store: first {base_first:.2f}s, filter {base_change:.2f}s", flush=True)
    return big
