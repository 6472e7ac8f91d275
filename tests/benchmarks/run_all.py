"""make bench: one line of figures per benchmark, each beside a baseline measured in the same run."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

# The crawl child and its worker are spawned, and import the main module again: this one here, the prahari script
# under `prahari update`. So this module imports what that script imports (prahari.app.cli) and little more; the
# crawl's own modules (Scrapy: 0.26 s of CPU in each child, and of the worker's start) are imported where used.
import prahari.app.cli  # noqa: F401
from tests.benchmarks.processes import ProcessTree, machine_cpu_seconds
from prahari.incident import load_incident
from prahari.app.sample.site import SampleSite, load_articles, load_publishers, render_jsonld, render_meta

if TYPE_CHECKING:
    from crawlers.context import CrawlReport

PAGES = 2000


def generated_articles(count: int = PAGES) -> list[dict]:
    """The sample corpus recombined into `count` distinct articles (paragraphs rotated, slugs numbered)."""
    base = load_articles()
    out = []
    for n in range(count):
        source = base[n % len(base)]
        donor = base[(n * 7 + 3) % len(base)]
        paragraphs = source["body"].strip().splitlines() + donor["body"].strip().splitlines()[:1]
        out.append({**source, "slug": f"{source['slug']}-{n}", "body": "\n".join(paragraphs[n % 2:] + paragraphs[:n % 2]),
                    "syndicated_from": None})
    return out


class CrawlRun(NamedTuple):
    seconds: float
    report: CrawlReport
    tree: ProcessTree  # the crawl's processes: peak MB summed over them, CPU by process name
    site_cpu: float  # CPU seconds of this process meanwhile: the sample site's server threads, and the sampling
    others_cpu: float  # CPU seconds of every other process on the machine meanwhile (an Elasticsearch node, ...)
    steal: float  # CPU seconds the hypervisor took from this machine meanwhile
    steady: float  # article pages a second in full flow (see steady_rate)


def crawl(site: SampleSite, scratch: Path, name: str, overrides: dict) -> CrawlRun:
    """One crawl of the sample site, with what it cost and what else ran on the machine meanwhile."""
    from crawlers.runner import CrawlMisconfigured, run_crawl

    incident_path = scratch / f"{name}.yaml"
    incident_path.write_text(site.incident_yaml(name), encoding="utf-8")
    first_page, (busy, steal), mine = len(site.article_times), machine_cpu_seconds(), os.times()
    started = time.monotonic()
    with ProcessTree(os.getpid(), include_root=False) as tree:
        try:
            report = run_crawl(f"sqlite:///{scratch}/{name}.db", load_incident(incident_path), overrides=overrides)
        except CrawlMisconfigured as exc:  # the fetch-only baseline runs without our pipelines on purpose
            report = exc.report
    seconds, now, (busy_now, steal_now) = time.monotonic() - started, os.times(), machine_cpu_seconds()
    # The crawl's processes are this one's children, collected by the time run_crawl returns: their CPU is exact.
    own, children = (now.user + now.system - mine.user - mine.system,
                     now.children_user + now.children_system - mine.children_user - mine.children_system)
    return CrawlRun(seconds, report, tree, own, busy_now - busy - own - children, steal_now - steal,
                    steady_rate(site.article_times[first_page:]))


def steady_rate(served: list[float]) -> float:
    """Article pages a second while a crawl is in full flow: from the 10th to the 90th percentile of the times they
    were served, leaving out start-up, discovery (robots.txt, feeds, sitemaps) and the last pages' tail."""
    if len(served) < 10:
        return 0.0
    served = sorted(served)
    low, high = len(served) // 10, len(served) * 9 // 10
    return (high - low) / max(served[high] - served[low], 1e-9)


def bench_nlp(articles: list[dict]) -> float:
    """NLP over the recombined corpus, beside bare spacy.blank tokenisation of the same text."""
    import spacy

    from nlp.pipeline import annotate_article
    from prahari.model import Article

    docs = [Article(id=str(n), url="u", canonical_url="u", source="s", title=a["title"], language=a["lang"],
                    text=a["body"], published=a["published"]) for n, a in enumerate(articles)]
    words = sum(len(d.text.split()) + len(d.title.split()) for d in docs)
    blank = {"hi": spacy.blank("hi"), "en": spacy.blank("en")}
    started = time.monotonic()
    for d in docs:
        blank[d.language](d.title)
        blank[d.language](d.text)
    base = time.monotonic() - started
    annotate_article(docs[0])  # load aliases and spaCy once, outside the timing
    started = time.monotonic()
    for d in docs:
        annotate_article(d)
    seconds = time.monotonic() - started
    print(f"bench nlp: {len(docs)} articles in {seconds:.1f}s = {len(docs) / seconds:.0f} articles/s, "
          f"{words / seconds:.0f} words/s (target >= 150 articles/s); bare spacy.blank tokenisation "
          f"{len(docs) / base:.0f} articles/s (baseline)", flush=True)
    return len(docs) / seconds


def bench_backfill(site: SampleSite, scratch: Path, articles: list[dict], live_rate: float) -> None:
    """The same pages as captures in fake Common Crawl and Wayback archives (half outside the window)."""
    import yaml

    from crawlers.runner import run_crawl
    from tests.archive_fakes import Capture, FakeArchives

    captures = []
    for n, article in enumerate(articles):
        archive = "commoncrawl" if n % 2 == 0 else "wayback"
        stamp = "20221128103000" if n % 4 < 2 else "20210310103000"  # every other pair: outside the window
        captures.append(Capture(archive, site.article_url(article), stamp, site._page(article["publisher"],
                                                                                     article["slug"])))
    with FakeArchives(captures, cc_page_size=500, wayback_page_size=500, throttle_once=False) as archives:
        path = scratch / "backfill.yaml"
        path.write_text(yaml.safe_dump({
            "id": "backfill", "title": "backfill", "start": "2022-11-23", "end": "2022-12-31",
            "relevance": {"all": [["AIIMS", "एम्स"], ["server", "सर्वर", "hack", "हैक", "cyber", "साइबर"]]},
            "sources": [{"type": "archive", "domains": ["127.0.0.1"], "endpoints": archives.endpoints()}]}),
            encoding="utf-8")
        started = time.monotonic()
        with ProcessTree(os.getpid(), include_root=False) as memory:
            report = run_crawl(f"sqlite:///{scratch}/backfill.db", load_incident(path),
                               overrides={"PRAHARI_PROGRESS": False})
        seconds = time.monotonic() - started
    listed = sum(report.archive_listed.values())
    rate = len(captures) / seconds  # the measure: captures per second, end to end
    print(f"bench archive-backfill: {len(captures)} captures in two fake archives ({listed} in the window, "
          f"{report.stored} stored) in {seconds:.1f}s = {rate:.0f} captures/s end to end ({report.stored / seconds:.0f} "
          f"stored pages/s), peak RSS {memory.peak_mb:.0f} MB; baseline: the live crawl of the same pages above "
          f"{live_rate:.0f} pages/s (ratio {rate / live_rate:.2f}, target >= 0.7; RSS target <= 400 MB)", flush=True)


def main() -> None:
    # Imported here, not at the top (see the note there): the crawl's children should hold the crawl's own CPU and
    # peak RSS, not the benchmarks' imports (Streamlit, Playwright, trafilatura: 0.7 s, 26 MB each).
    import trafilatura

    from crawlers.runner import crawl_settings, run_crawl
    from crawlers.workers import CRAWL_NAME, WORKER_NAME
    from tests.benchmarks.claims import bench_claims, bench_crosslingual
    from tests.benchmarks.dashboard import bench_dashboard
    from tests.benchmarks.realpages import bench_realpages
    from tests.benchmarks.scale import ARTICLES, DEFAULT_ARTICLES, bench_scale
    from tests.benchmarks.stories import bench_story_growth

    scale_only = "--scale-only" in sys.argv[1:]
    if not scale_only:
        bench_realpages()
    articles = generated_articles()
    nlp_rate = bench_nlp(articles)
    if not scale_only:
        bench_crosslingual()
    with tempfile.TemporaryDirectory() as tmp:
        small = f"sqlite:///{tmp}/demo.db"
        with SampleSite() as site:
            incident = Path(tmp) / "demo.yaml"
            incident.write_text(site.incident_yaml(), encoding="utf-8")
            run_crawl(small, load_incident(incident))
        es_url = os.environ.get("PRAHARI_BENCH_ES_URL")
        if not es_url:
            print("bench scale: PRAHARI_BENCH_ES_URL is not set (make bench starts a node): Elasticsearch lines "
                  "left out", flush=True)
        big = bench_scale(Path(tmp), es_url)
        bench_dashboard(big, ARTICLES, small, Path(tmp))
        claims_store = big
        if ARTICLES != DEFAULT_ARTICLES:  # the kept store stays as built: the incremental step adds articles
            claims_store = f"sqlite:///{tmp}/claims.db"
            shutil.copyfile(big[len("sqlite:///"):], claims_store[len("sqlite:///"):])
        bench_claims(f"{ARTICLES // 1000}k", claims_store, nlp_rate, with_incremental=True)
        bench_story_growth(Path(tmp), es_url)
    if scale_only:
        return
    publishers = load_publishers()
    with tempfile.TemporaryDirectory() as tmp, SampleSite(articles=articles) as site:
        scratch = Path(tmp)
        for article in articles:  # render once up front: the server then answers like a static site
            site._page(article["publisher"], article["slug"])
        # Baseline 1: fetch-only Scrapy crawl of the same site (no extraction, no store writes).
        no_pipelines = {name: None for name in crawl_settings().getdict("ITEM_PIPELINES")}
        baseline = crawl(site, scratch, "fetch-only", {"ITEM_PIPELINES": no_pipelines, "PRAHARI_WORKERS": 0})
        fetched = baseline.report.requests
        fetch_rate = fetched / baseline.seconds
        print(f"bench crawl-fetch-only: {fetched} responses in {baseline.seconds:.1f}s = {fetch_rate:.0f} pages/s "
              f"(baseline), peak RSS {baseline.tree.peak_mb:.0f} MB, crawler CPU "
              f"{baseline.tree.cpu_seconds(CRAWL_NAME) / fetched * 1000:.2f} ms/page; in full flow {baseline.steady:.0f} "
              f"article pages/s; meanwhile other processes used {baseline.others_cpu:.2f} s of CPU and the hypervisor took "
              f"{baseline.steal:.2f} s", flush=True)
        # Baseline 2: bare trafilatura over the same pages, in-process.
        pages = [(render_jsonld if publishers[a["publisher"]]["template"] == "jsonld" else render_meta)(
            a, publishers[a["publisher"]], site.article_url(a)) for a in articles]
        started = time.monotonic()
        for html in pages:
            trafilatura.extract(html)
        seconds = time.monotonic() - started
        print(f"bench bare-trafilatura: {len(pages)} pages in {seconds:.1f}s = {len(pages) / seconds:.0f} pages/s "
              f"(baseline)", flush=True)
        # Prahari end to end: crawl + extract + relevance + NLP + dedup + SQLite store.
        ours = crawl(site, scratch, "prahari", {"PRAHARI_PROGRESS": False})
        seconds = full_seconds = ours.seconds
        stored, tree = ours.report.stored, ours.tree
        per_page = [cpu / stored * 1000 for cpu in (tree.cpu_seconds(CRAWL_NAME), tree.cpu_seconds(WORKER_NAME),
                                                    ours.site_cpu)]
        cores = os.cpu_count() or 1
        ceiling = cores * 1000 / sum(per_page)  # pages/s with every core busy on this crawl and nothing else
        print(f"bench prahari-update: {stored} pages crawled+extracted+stored in {seconds:.1f}s = "
              f"{stored / seconds:.0f} pages/s = {stored / seconds / fetch_rate:.2f}x the fetch-only crawl (target "
              f">= 0.75x), peak RSS {tree.peak_mb:.0f} MB summed over the crawler and its NLP worker (target <= "
              f"400); CPU per page: crawler {per_page[0]:.2f} ms, worker {per_page[1]:.2f} ms, the sample site and this "
              f"sampling {per_page[2]:.2f} ms: {sum(per_page):.2f} ms in all, so {cores} cores finish at most {ceiling:.0f} "
              f"pages/s = {ceiling / fetch_rate:.2f}x; in full flow {ours.steady:.0f} article pages/s = "
              f"{ours.steady / baseline.steady:.2f}x the fetch-only crawl's (start-up and discovery, which both share, "
              f"make up the rest of the end-to-end figure); meanwhile other processes used {ours.others_cpu:.2f} s of "
              f"CPU and the hypervisor took {ours.steal:.2f} s", flush=True)
        bench_claims(f"{PAGES // 1000}k", f"sqlite:///{scratch}/prahari.db", nlp_rate, with_incremental=False)
        bench_backfill(site, scratch, articles, stored / full_seconds)
        # No-change rerun: every article already stored.
        before = sum(n for (_pub, path), n in site.requests.items() if path.startswith("/news/"))
        rerun = crawl(site, scratch, "prahari", {"PRAHARI_PROGRESS": False})
        seconds, report = rerun.seconds, rerun.report
        after = sum(n for (_pub, path), n in site.requests.items() if path.startswith("/news/"))
        print(f"bench prahari-update-no-change: {seconds:.1f}s (target <= 10), "
              f"{report.requests} requests, {after - before} article-page requests (target 0), "
              f"{report.listings_not_modified} listings answered 304; baseline: the full update "
              f"above took {full_seconds:.1f}s", flush=True)


if __name__ == "__main__":
    main()
