"""The prahari command line: parse arguments and dispatch to the stages."""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Iterator, Optional

from index.query import Filters, build_search
from index.store import Store, open_store
from prahari import __version__
from prahari.config import store_url
from prahari.errors import PrahariError, StoreError
from prahari.incident import all_incidents, find_incident
from prahari.model import FACT_EXPORT_FIELDS, Article, RawPage, fact_to_record

EXIT_USAGE = 2


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {value!r}")
    return number


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL",
                        help="sqlite:///relative.db, sqlite:////absolute.db or http://host:9200 "
                             "(default: $PRAHARI_STORE or sqlite:///data/prahari.db)")


def _add_filters(parser: argparse.ArgumentParser, irrelevant: bool = False) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--incident", metavar="ID", help="only this incident (e.g. aiims-2022)")
    group.add_argument("--since", type=_date, metavar="DATE", help="published on or after YYYY-MM-DD")
    group.add_argument("--until", type=_date, metavar="DATE", help="published on or before YYYY-MM-DD")
    group.add_argument("--lang", choices=("hi", "en"), help="only Hindi or only English reports")
    group.add_argument("--entity", action="append", default=[], metavar="ID",
                       help="mentions this entity id (e.g. nia, cert-in); repeat for several")
    group.add_argument("--source", metavar="HOST", help="only this source host")
    if irrelevant:
        group.add_argument("--include-irrelevant", action="store_true",
                           help="also include articles that do not match the incident's keywords")


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(incident=args.incident, since=args.since, until=args.until, lang=args.lang,
                   entity=args.entity, source=args.source,
                   include_irrelevant=getattr(args, "include_irrelevant", False))


def _open(args: argparse.Namespace) -> Store:
    return open_store(store_url(args.store))


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_update(url: str, incident_refs: list[str], max_pages: int = 0,
               overrides: Optional[dict] = None) -> list[dict]:
    """Crawl each incident into the store, printing progress, a summary line and what is new."""
    from prahari.lock import update_lock

    incidents = [find_incident(ref) for ref in incident_refs] if incident_refs else all_incidents()
    open_store(url).close()  # fail early, with a clear message, if the store cannot be opened
    with update_lock(url):
        return [_update_one(url, incident, max_pages, overrides) for incident in incidents]


def _update_one(url: str, incident, max_pages: int, overrides: Optional[dict]) -> dict:
    from crawlers.runner import run_crawl

    run_started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _say(f"update {incident.id}: crawling {len(incident.sources)} sources into {url}")
    started = time.monotonic()
    try:
        stats = run_crawl(url, incident, max_pages, overrides)
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    dropped = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("prahari/dropped/")}
    failed = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("prahari/failed/")}
    summary = {"incident": incident.id, "fetched": stats.get("prahari/fetched", 0),
               "stored": stats.get("prahari/stored", 0), "relevant": stats.get("prahari/relevant", 0),
               "facts": stats.get("prahari/facts", 0), "dropped": dropped, "failed": failed,
               "skipped_already_stored": stats.get("prahari/skipped_already_stored", 0),
               "requests": stats.get("downloader/request_count", 0),
               "seconds": round(time.monotonic() - started, 1)}
    for reason, count in sorted(dropped.items()):
        _say(f"  dropped {count}: {reason}")
    for reason, count in sorted(failed.items()):
        _say(f"  failed {count}: {reason}")
    print(f"update {incident.id}: {summary['fetched']} pages fetched, {summary['stored']} stored "
          f"({summary['relevant']} relevant, {summary['facts']} facts), {sum(dropped.values())} dropped, "
          f"{stats.get('prahari/failed_pages', 0) + stats.get('prahari/failed_listings', 0)} failed, "
          f"{summary['skipped_already_stored']} already stored, in {summary['seconds']}s", flush=True)
    try:
        summary.update(_whats_new(url, incident.id, run_started))
    except StoreError as exc:
        raise PrahariError(f"{exc}; everything stored before is intact, rerun update to finish") from None
    return summary


@contextmanager
def _atomic_output(path: Path, binary: bool = False) -> Iterator[IO]:
    """A file written beside the target, then renamed: a crash never leaves half a file under the real name."""
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as out:
            yield out
        partial.replace(path)
    except OSError as exc:
        raise PrahariError(f"{path}: cannot write: {exc.strerror}") from None


def _whats_new(url: str, incident_id: str, since: str) -> dict:
    """Print and return the relevant articles, facts and entities this run saw for the first time."""
    store = open_store(url)
    try:
        scope = Filters(incident=incident_id, first_seen_since=since)
        articles = list(store.iter_articles(scope))
        facts = sum(1 for _ in store.iter_facts(scope))
        entities = store.entity_first_seen(scope)
    finally:
        store.close()
    names = ", ".join(e["entity"].name for e in entities[:8]) + (" …" if len(entities) > 8 else "")
    print(f"new in {incident_id}: {len(articles)} articles, {facts} facts, {len(entities)} entities"
          + (f" ({names})" if entities else ""), flush=True)
    for article in articles[:10]:
        print(f"  + {(article.published or '')[:10]} {article.language} {article.source}: {article.title}", flush=True)
    if len(articles) > 10:
        print(f"  … and {len(articles) - 10} more (prahari digest --since {since[:10]})", flush=True)
    return {"new_articles": len(articles), "new_facts": facts, "new_entities": len(entities)}


def cmd_update(args: argparse.Namespace) -> int:
    overrides = {"PRAHARI_REFRESH": True} if args.refresh else None
    run_update(store_url(args.store), [args.incident] if args.incident else [], args.max_pages, overrides)
    return 0


def _since_instant(args: argparse.Namespace) -> str:
    if args.days is not None:
        moment = datetime.now(timezone.utc) - timedelta(days=args.days)
    else:
        moment = args.since if args.since.tzinfo else args.since.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def cmd_digest(args: argparse.Namespace) -> int:
    from prahari.digest import build_digest, render_atom, render_html, render_markdown

    store = _open(args)
    try:
        digest = build_digest(store, _since_instant(args), Filters(incident=args.incident, lang=args.lang))
    finally:
        store.close()
    if args.format == "atom":
        text = render_atom(digest, f"urn:prahari:digest:{args.incident or 'all'}")
    else:
        text = render_html(digest) if args.format == "html" else render_markdown(digest)
    if args.out:
        with _atomic_output(Path(args.out)) as out:
            out.write(text)
        _say(f"digest: {sum(len(s) for s in digest['stories'])} new articles, {len(digest['facts'])} facts "
             f"→ {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _instant(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date or ISO-8601 time: {value!r}") from None


def cmd_reprocess(args: argparse.Namespace) -> int:
    from nlp.extract import ExtractionError
    from prahari.process import StoryAssigner, annotate, apply_relevance, build_article

    store = _open(args)
    incidents: dict[str, object] = {}
    done = dropped = 0
    assigner = StoryAssigner(store)
    batch: list[tuple[RawPage, Article]] = []

    def flush() -> None:
        assigner.save_batch([], [a for _p, a in batch])
        batch.clear()

    for page in store.iter_pages():
        try:
            article = build_article(page)
        except ExtractionError:
            dropped += 1
            continue
        if page.incident and page.incident not in incidents:
            try:
                incidents[page.incident] = find_incident(page.incident)
            except PrahariError:
                incidents[page.incident] = None
        apply_relevance(article, incidents.get(page.incident))
        annotate(article)
        batch.append((page, article))
        done += 1
        if len(batch) >= 50:
            flush()
            _say(f"  … {done} articles reprocessed")
    if batch:
        flush()
    store.close()
    print(f"reprocess: {done} articles rebuilt from stored pages, {dropped} pages without an article")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from nlp.extract import ExtractionError
    from prahari.process import annotate, build_article

    target = args.target
    if target.startswith(("http://", "https://")):
        article = _fetch_one(target)
    else:
        path = Path(target)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise PrahariError(f"{target}: cannot read: {exc.strerror}") from None
        page = RawPage(url=path.resolve().as_uri(), body=body, hint_published=args.published,
                       fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            article = build_article(page)
        except ExtractionError as exc:
            raise PrahariError(f"{target}: {exc}") from None
    if args.published:
        from nlp.extract import parse_datetime
        article.published = parse_datetime(args.published) or article.published
    annotate(article)
    record = article.to_record()
    record["facts"] = [fact_to_record(f) for f in article.facts]
    if args.format == "json":
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(f"{article.title}\n{article.language} · {article.published or 'no date'} · {article.author or ''}\n")
        print(article.text)
    return 0


def _fetch_one(url: str) -> Article:
    """Fetch one URL through the Scrapy downloader into a scratch store, and read the article back."""
    from prahari.incident import Incident, Source

    with tempfile.TemporaryDirectory() as scratch:
        scratch_url = f"sqlite:///{scratch}/extract.db"
        incident = Incident(id="extract", title="one page", start=date.today(), relevance_groups=[],
                            sources=[Source(type="urls", urls=[url])], path=None)
        from crawlers.runner import run_crawl
        stats = run_crawl(scratch_url, incident, overrides={"ROBOTSTXT_OBEY": False})
        store = open_store(scratch_url)
        articles = list(store.iter_articles(Filters(include_irrelevant=True)))
        store.close()
    if not articles:
        reasons = [k.split("/", 2)[2] for k in stats if k.startswith(("prahari/failed/", "prahari/dropped/"))]
        raise PrahariError(f"{url}: no article extracted ({', '.join(reasons) or 'nothing fetched'})")
    return articles[0]


def _article_row(article: Article) -> str:
    when = (article.published or "")[:16].replace("T", " ")
    return f"{when:16}  {article.language}  {article.source:22.22}  {article.title}"


def cmd_search(args: argparse.Namespace) -> int:
    query = build_search(args.query)
    store = _open(args)
    results = store.search(query, _filters(args), limit=args.limit)
    store.close()
    if args.format == "json":
        print(json.dumps([a.to_record() for a in results], ensure_ascii=False, indent=2))
    else:
        for article in results:
            print(_article_row(article) + f"\n{'':18}{article.url}")
        print(f"{len(results)} result{'s' if len(results) != 1 else ''}", file=sys.stderr)
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    store = _open(args)
    filters = _filters(args)
    buckets = store.timeline(filters)
    articles = list(store.iter_articles(filters))
    store.close()
    if args.format == "json":
        print(json.dumps({"buckets": buckets, "articles": [
            {"id": a.id, "day": (a.published or "")[:10] or None, "published": a.published, "language": a.language,
             "source": a.source, "title": a.title, "url": a.url, "story_id": a.story_id} for a in articles]},
            ensure_ascii=False, indent=2))
        return 0
    by_day: dict[str, list[Article]] = {}
    for article in articles:
        by_day.setdefault((article.published or "undated")[:10], []).append(article)
    if args.format == "html":
        e = html.escape
        rows = "".join(f"<h2>{e(day)}</h2><ul>" + "".join(
            f"<li>{e(a.language)} · {e(a.source)} · <a href=\"{e(a.url)}\">{e(a.title)}</a></li>" for a in items)
            + "</ul>" for day, items in by_day.items())
        print(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Prahari timeline</title></head><body>{rows}</body></html>")
        return 0
    for day, items in by_day.items():
        hi = sum(1 for a in items if a.language == "hi")
        print(f"{day}  {len(items)} reports ({hi} hi, {len(items) - hi} en)")
        for article in items:
            copy = " [copy]" if article.duplicate_of else ""
            print(f"    {(article.published or '')[11:16]:5}  {article.language}  {article.source:22.22}  {article.title}{copy}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from index.export import write_records

    if args.what == "claims":
        raise PrahariError("export --what claims: claims are not built yet in this version; use articles or facts")
    if args.format == "xlsx" and not args.out:
        raise PrahariError("export --format xlsx needs --out FILE (a spreadsheet cannot go to the terminal)")
    store = _open(args)
    filters = _filters(args)
    if args.what == "articles":
        records = (a.to_record() for a in store.iter_articles(filters))
        fields = Article.EXPORT_FIELDS
    else:
        records = (fact_to_record(f) for f in store.iter_facts(filters))
        fields = FACT_EXPORT_FIELDS
    if args.out:
        with _atomic_output(Path(args.out), binary=args.format == "xlsx") as out:
            count = write_records(records, args.format, out, fields)
        _say(f"exported {count} {args.what} to {args.out}")
    else:
        count = write_records(records, args.format, sys.stdout, fields)
        _say(f"exported {count} {args.what}")
    store.close()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from prahari.sample.site import DEFAULT_BASE_PORT, SampleSite

    url = store_url(args.store)
    site = SampleSite(base_port=args.site_port or DEFAULT_BASE_PORT)
    try:
        site.start()
    except OSError as exc:
        raise PrahariError(f"cannot serve the sample site on 127.0.0.1:{site.base_port}-{site.base_port + 2}: "
                           f"{exc.strerror}; pick other ports with --site-port") from None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            incident_path = Path(scratch) / "aiims-2022-sample.yaml"
            incident_path.write_text(site.incident_yaml(), encoding="utf-8")
            _say(f"demo: serving the sample site on {', '.join(site.base_url(n) for n in site.ports)}")
            run_update(url, [str(incident_path)])
    finally:
        site.stop()
    print(f"\nThe demo store is {url}. Try:\n"
          f"  prahari search 'फिरौती OR ransom' --store {url}\n"
          f"  prahari timeline --store {url}\n"
          f"  prahari export --what articles --format jsonl --store {url}")
    if args.no_dashboard:
        return 0
    return run_dashboard(url, args.port)


def dashboard_command(url: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The streamlit command line and environment that serve the dashboard on 127.0.0.1:port over a store."""
    import os

    command = [sys.executable, "-m", "dashboard.serve", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--global.developmentMode", "false",
               "--client.toolbarMode", "viewer"]
    return command, {**os.environ, "PRAHARI_STORE": url}


def run_dashboard(url: str, port: int) -> int:
    """Serve the dashboard until Ctrl-C."""
    import subprocess

    open_store(url).close()  # a store that cannot be opened is reported here, in one line
    command, env = dashboard_command(url, port)
    print(f"dashboard: http://127.0.0.1:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from nlp.dedup import band_keys, canonical_url, minhash_signature

    source, target = open_store(args.source), open_store(args.target)
    try:
        done_urls = target.known_urls()
        pages = copied_pages = 0
        batch: list[RawPage] = []
        for page in source.iter_pages():
            pages += 1
            if canonical_url(page.url) in done_urls:
                continue  # copied by an earlier, interrupted run
            batch.append(page)
            if len(batch) >= 200:
                target.save(batch, [])
                copied_pages += len(batch)
                batch = []
                _say(f"  … {copied_pages} pages copied")
        if batch:
            target.save(batch, [])
            copied_pages += len(batch)
        articles = 0
        everything = Filters(include_irrelevant=True)
        chunk: list[Article] = []

        def flush() -> None:
            facts = source.facts_for([a.id for a in chunk])
            for article in chunk:
                article.facts = facts.get(article.id, [])
            signatures = {}
            for article in chunk:
                signature = minhash_signature(article.text)
                signatures[article.id] = (signature.tobytes(), band_keys(signature))
            target.save([], chunk, signatures)  # same ids: a rerun overwrites, never duplicates
            chunk.clear()

        for article in source.iter_articles(everything):
            chunk.append(article)
            articles += 1
            if len(chunk) >= 500:
                flush()
                _say(f"  … {articles} articles copied")
        if chunk:
            flush()
        target.save_listing_validators(source.listing_validators())
    finally:
        source.close()
        target.close()
    print(f"reindex: {copied_pages} of {pages} pages and {articles} articles copied from {args.source} to {args.target}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    return run_dashboard(store_url(args.store), args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prahari", description="Prahari (प्रहरी): follow one incident through Hindi and English news.")
    parser.add_argument("--version", action="version", version=f"prahari {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("update", help="crawl an incident's sources into the store (incremental)",
                       description="Crawl every source of an incident (feeds, sitemaps, URL lists), extract, score "
                                   "and store new articles. Pages already stored are never fetched again.")
    p.add_argument("--incident", metavar="ID|PATH", help="bundled incident id or path to a YAML file "
                                                         "(default: every bundled incident)")
    p.add_argument("--max-pages", type=_positive, default=0, metavar="N", help="fetch at most N article pages")
    p.add_argument("--refresh", action="store_true",
                   help="fetch article pages already stored, and feeds that answer 'not modified', again")
    _add_store(p)
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("reprocess", help="rebuild every extraction from stored raw pages (offline)")
    _add_store(p)
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("extract", help="run one page (file or URL) through extraction and NLP, without storing it")
    p.add_argument("target", metavar="PATH|URL")
    p.add_argument("--published", metavar="ISO", help="publication time to use if the page has none")
    p.add_argument("--format", choices=("json", "text"), default="text")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("search", help="full-text search in Hindi and English",
                       description='Search titles and text. Words, "exact phrases", AND / OR / NOT, parentheses '
                                   "and prefix* are understood, e.g. 'फिरौती OR ransom', '\"200 crore\" NOT bitcoin'.")
    p.add_argument("query")
    p.add_argument("--limit", type=_positive, default=20, metavar="N")
    p.add_argument("--format", choices=("table", "json"), default="table")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("timeline", help="reports per day, oldest first")
    p.add_argument("--format", choices=("table", "json", "html"), default="table")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("export", help="export articles or facts with links to their sources")
    p.add_argument("--what", choices=("articles", "facts", "claims"), default="articles")
    p.add_argument("--format", choices=("jsonl", "json", "csv", "xlsx"), default="jsonl")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _add_filters(p, irrelevant=True)
    _add_store(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("digest", help="what is new since a date: articles by story, facts, entities (md, html, Atom)",
                       description="Everything first seen (fetched for the first time) since --since or in the last "
                                   "--days days. Atom output is a feed analysts can subscribe to.")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--since", type=_instant, metavar="DATE", help="YYYY-MM-DD (midnight UTC) or an ISO-8601 time")
    when.add_argument("--days", type=_positive, metavar="N", help="the last N days (1 = since this time yesterday)")
    p.add_argument("--format", choices=("md", "html", "atom"), default="md")
    p.add_argument("--incident", metavar="ID", help="only this incident")
    p.add_argument("--lang", choices=("hi", "en"), help="only Hindi or only English reports")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _add_store(p)
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("dashboard", help="serve the searchable timeline in the browser (Streamlit, 127.0.0.1)",
                       description="Start the dashboard over a store on http://127.0.0.1:PORT/. Filters live in the "
                                   "URL, so a view can be bookmarked and shared.")
    p.add_argument("--port", type=_positive, default=8501, help="port on 127.0.0.1 (default 8501)")
    _add_store(p)
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("reindex", help="copy everything, raw pages included, from one store to another",
                       description="Copy pages, articles, facts and feed validators between any two stores "
                                   "(SQLite <-> Elasticsearch, or ES -> ES). Safe to rerun after an interruption.")
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="store to read")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="store to write")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("demo", help="serve the bundled sample site on 127.0.0.1, crawl it and index it")
    p.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard afterwards")
    p.add_argument("--port", type=_positive, default=8501, help="dashboard port")
    p.add_argument("--site-port", type=_positive, default=0, help="first of three sample-site ports (default 8631)")
    _add_store(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the prahari console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PrahariError as exc:
        print(f"prahari: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("prahari: interrupted; everything stored so far is kept, rerun to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
