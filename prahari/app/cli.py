"""The prahari command line: parse arguments and dispatch to the services in prahari.app."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

from index.query import Filters, Scope, build_search
from index.store import Store, open_store
from prahari import __version__
from prahari.app.output import atomic_output, printable
from prahari.config import absolute_store, store_url
from prahari.errors import NoStore, PrahariError
from prahari.inputs import read_regular_file
from prahari.model import Article, RawPage, fact_to_record

EXIT_USAGE = 2


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from None


MAX_COUNT = 1_000_000_000  # --limit, --max-pages: more than any store holds
MAX_DAYS = 36_500


def _whole(value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, got {value!r}")
    return number


def _positive(value: str) -> int:
    return _whole(value, 0, MAX_COUNT)


def _days(value: str) -> int:
    return _whole(value, 0, MAX_DAYS)


def _port(value: str) -> int:
    return _whole(value, 1, 65535)


def _whole_or_zero_port(value: str) -> int:
    return _whole(value, 0, 65533)  # 0: the default; three consecutive ports from here


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL",
                        help="sqlite:///relative.db (relative to this folder), sqlite:////absolute.db or "
                             "http://host:9200 (default: $PRAHARI_STORE, else one per-user file: see prahari info)")


def _add_filters(parser: argparse.ArgumentParser, irrelevant: bool = False) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--incident", metavar="ID", help="only this incident (e.g. aiims-2022)")
    group.add_argument("--since", type=_date, metavar="DATE", help="published on or after YYYY-MM-DD")
    group.add_argument("--until", type=_date, metavar="DATE", help="published on or before YYYY-MM-DD")
    group.add_argument("--lang", choices=("hi", "en"), help="only Hindi or only English reports")
    group.add_argument("--entity", action="append", default=[], metavar="ID",
                       help="mentions this entity: an id (nia), a name or an alias in either script (NIA, "
                            "एनआईए), any case; repeat for several (prahari entities lists them)")
    group.add_argument("--source", metavar="HOST", help="only this source host")
    if irrelevant:
        group.add_argument("--include-irrelevant", action="store_true",
                           help="also include articles that do not match the incident's keywords")


def _filters(args: argparse.Namespace, store: Store) -> Filters:
    """The command's filters, with --entity values (ids, names or aliases in either script) resolved to ids."""
    from prahari.app.entities import resolve_entities

    scope = {f.name: getattr(args, f.name) for f in fields(Scope)}
    scope["entity"] = resolve_entities(scope.get("entity") or [], store)
    return Filters(**scope, include_irrelevant=getattr(args, "include_irrelevant", False))


def _open(args: argparse.Namespace) -> Store:
    """The store a read command works on: it must exist and be ours (nothing is created for a typo)."""
    return open_store(store_url(args.store), create=False)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _crawl_overrides(args: argparse.Namespace, **extra) -> dict:
    """Scrapy settings the command line changes: -v turns the Scrapy log on."""
    return {**({"LOG_ENABLED": True} if args.verbose else {}), **extra}


def cmd_update(args: argparse.Namespace) -> int:
    from prahari.app.update import run_update

    overrides = _crawl_overrides(args, **({"PRAHARI_REFRESH": True} if args.refresh else {}))
    as_json = args.format == "json"  # the summaries as JSON on stdout; the readable lines go to stderr
    summaries = run_update(store_url(args.store), [args.incident] if args.incident else [], args.max_pages,
                           overrides, sys.stderr if as_json else None)
    if as_json:
        print(json.dumps(summaries, ensure_ascii=False, indent=2))
    return 0


def _since_instant(args: argparse.Namespace) -> str:
    if args.days is not None:
        moment = datetime.now(timezone.utc) - timedelta(days=args.days)
    else:
        moment = args.since if args.since.tzinfo else args.since.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def cmd_digest(args: argparse.Namespace) -> int:
    from prahari.app.digest import build_digest, render_atom, render_html, render_markdown

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
        with atomic_output(Path(args.out)) as out:
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
    from prahari.app.ingest import incidents_for_reprocess, reprocess
    from prahari.app.update import refresh_claims

    store = _open(args)
    try:
        incidents = incidents_for_reprocess(store, args.incident)
        done, dropped = reprocess(store, incidents, _say)
    finally:
        store.close()
    for incident in incidents.values():
        refresh_claims(store_url(args.store), incident, None)
    print(f"reprocess: {done} articles rebuilt from stored pages, {dropped} pages without an article")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from nlp.extract import MAX_PAGE_BYTES, ExtractionError, parse_datetime
    from prahari.app.ingest import annotate, build_article

    target = args.target
    if target.startswith(("http://", "https://")):
        article = _fetch_one(target, args)
    else:
        path = Path(target)
        body = read_regular_file(path, MAX_PAGE_BYTES)
        page = RawPage(url=path.resolve().as_uri(), body=body, hint_published=args.published,
                       fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            article = build_article(page)
        except ExtractionError as exc:
            raise PrahariError(f"{target}: {exc}") from None
    if args.published:
        article.published = parse_datetime(args.published) or article.published
    annotate(article)
    record = article.to_record()
    record["facts"] = [fact_to_record(f) for f in article.facts]
    if args.format == "json":
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(printable(f"{article.title}\n{article.language} · {article.published or 'no date'} · "
                        f"{article.author or ''}\n"))
        print(printable(article.text))
    return 0


def _fetch_one(url: str, args: argparse.Namespace) -> Article:
    """Fetch one URL through the Scrapy downloader into a scratch store, and read the article back."""
    import tempfile

    from crawlers.runner import run_crawl
    from prahari.incident import Incident, Source

    with tempfile.TemporaryDirectory() as scratch:
        scratch_url = f"sqlite:///{scratch}/extract.db"
        incident = Incident(id="extract", title="one page", start=date.today(), relevance_groups=[],
                            sources=[Source(type="urls", urls=[url])])
        report = run_crawl(scratch_url, incident, overrides=_crawl_overrides(
            args, ROBOTSTXT_OBEY=False, PRAHARI_PROGRESS=False, PRAHARI_WORKERS=0))
        store = open_store(scratch_url)
        try:
            articles = list(store.iter_articles(Filters(include_irrelevant=True)))
        finally:
            store.close()
    if not articles:
        reasons = sorted({*report.failed, *report.dropped})
        raise PrahariError(f"{url}: no article extracted ({', '.join(reasons) or 'nothing fetched'})")
    return articles[0]


def _article_row(article: Article) -> str:
    when = (article.published or "")[:16].replace("T", " ")
    return f"{when:16}  {article.language}  {article.source:22.22}  {article.title}"


def cmd_search(args: argparse.Namespace) -> int:
    query = build_search(args.query)
    store = _open(args)
    try:
        results = store.search(query, _filters(args, store), limit=args.limit)
    finally:
        store.close()
    if args.sort == "time":
        results.sort(key=lambda a: (a.published or "", a.id))
    if args.format == "json":
        print(json.dumps([a.to_record() for a in results], ensure_ascii=False, indent=2))
    else:
        for article in results:
            print(printable(_article_row(article) + f"\n{'':18}{article.url}"))
    order = "oldest first" if args.sort == "time" else "best match first"
    _say(f"{len(results)} result{'s' if len(results) != 1 else ''}, {order}" if results else
         "no articles match (Hindi and English cross only through names and glossary words; try the other "
         "language's word, or widen the filters)")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from prahari.app.timeline import timeline_html, timeline_json, timeline_table

    store = _open(args)
    try:
        filters = _filters(args, store)
        buckets = store.timeline(filters)
        articles = list(store.iter_articles(filters))
    finally:
        store.close()
    if args.format == "json":
        print(timeline_json(buckets, articles))
    elif args.format == "html":
        print(timeline_html(articles))
    elif articles:
        print(timeline_table(articles))
    if not articles:
        _say("no reports match these filters (prahari info shows what the store holds)")
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    from prahari.app.entities import entities_json, entities_table, entity_summary

    store = _open(args)
    try:
        rows = entity_summary(store, _filters(args, store), args.type)
    finally:
        store.close()
    if args.format == "json":
        print(entities_json(rows))
    elif rows:
        print(printable(entities_table(rows)))
    if not rows:
        _say("no entities match these filters")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from index.export import records_for, write_records

    from index.interchange import write_interchange

    if args.format == "xlsx" and not args.out:
        raise PrahariError("export --format xlsx needs --out FILE (a spreadsheet cannot go to the terminal)")
    interchange = args.format in ("stix", "timesketch")
    if interchange and args.what not in ("claims", "events"):
        raise PrahariError(f"export --format {args.format} is for --what claims or --what events")

    def write(records, fields, out) -> int:
        if interchange:
            return write_interchange(args.what, args.format, records, out)
        return write_records(records, args.format, out, fields)

    store = _open(args)
    try:
        records, fields = records_for(store, args.what, _filters(args, store))
        if args.out:
            with atomic_output(Path(args.out), binary=args.format == "xlsx") as out:
                count = write(records, fields, out)
            _say(f"exported {count} {args.what} to {args.out}")
        else:
            count = write(records, fields, sys.stdout)
            _say(f"exported {count} {args.what}")
    finally:
        store.close()
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from index.ledger import read_claims
    from prahari.app.claims import claims_table

    store = _open(args)
    try:
        claims = read_claims(store, _filters(args, store), args.status, args.slot,
                             facts_per_side=None if args.format == "json" else 0)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(claims, ensure_ascii=False, indent=2))
    elif claims:
        print(printable(claims_table(claims)))
    else:
        _say("no claims match (claims are built by `prahari update` and `prahari reprocess`)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from prahari.app.launch import port_in_use, run_dashboard
    from prahari.app.sample.site import DEFAULT_BASE_PORT, SampleSite
    from prahari.app.update import run_update

    url = store_url(args.store)
    if not args.no_dashboard and port_in_use(args.port):  # say so before a crawl, not after it
        raise PrahariError(f"port {args.port} on 127.0.0.1 is already in use; pick another with --port")
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
            run_update(url, [str(incident_path)], overrides=_crawl_overrides(args))
    finally:
        site.stop()
    print(f"\nThe demo store is {url}. Try:\n"
          f"  prahari search 'फिरौती OR ransom' --store {url}\n"
          f"  prahari timeline --store {url}\n"
          f"  prahari export --what articles --format jsonl --store {url}")
    if args.no_dashboard:
        return 0
    return run_dashboard(url, args.port, args.verbose)


def cmd_reindex(args: argparse.Namespace) -> int:
    from prahari.app.reindex import reindex

    source_url, target_url = absolute_store(args.source), absolute_store(args.target)
    source = open_store(source_url, create=False)
    try:
        target = open_store(target_url)
        try:
            copied, pages, articles = reindex(source, target, _say)
        finally:
            target.close()
    finally:
        source.close()
    print(f"reindex: {copied} of {pages} pages and {articles} articles copied from {args.source} to {args.target}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from prahari.app.launch import run_dashboard

    return run_dashboard(store_url(args.store), args.port, args.verbose)


def cmd_info(args: argparse.Namespace) -> int:
    url = store_url(args.store)
    try:
        store = open_store(url, create=False)
    except NoStore:
        print(f"prahari {__version__}\nstore: {url} (not created yet: `prahari update` or `prahari demo` creates it)")
        return 0
    try:
        counts = store.counts()
    finally:
        store.close()
    print(f"prahari {__version__}\nstore: {url}")
    for name, count in counts.items():
        print(f"  {name}: {count}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prahari", description="Prahari (प्रहरी): follow one incident through Hindi and English news.")
    parser.add_argument("--version", action="version", version=f"prahari {__version__} (prahari info shows the store)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("update", help="crawl an incident's sources into the store (incremental)",
                       description="Crawl every source of an incident (feeds, sitemaps, URL lists), extract, score "
                                   "and store new articles. Pages already stored are never fetched again.")
    p.add_argument("--incident", metavar="ID|PATH",
                   help="bundled incident id (aiims-2022) or a YAML file (a name ending in .yaml/.yml or "
                        "containing /); default: every bundled incident with real sources")
    p.add_argument("--max-pages", type=_positive, default=0, metavar="N", help="fetch at most N article pages")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: one summary per incident on stdout (counts, and every page not stored with why)")
    p.add_argument("--refresh", action="store_true",
                   help="fetch article pages already stored, and feeds that answer 'not modified', again")
    _add_store(p)
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("reprocess", help="rebuild every extraction from stored raw pages (offline)",
                       description="Re-extract every stored page with the current extraction and NLP, and score it "
                                   "against its incident again. Pages of an incident file that is not bundled "
                                   "need that file with --incident.")
    p.add_argument("--incident", action="append", default=[], metavar="PATH",
                   help="an incident file whose stored pages to rescore (repeat for several)")
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
    p.add_argument("--sort", choices=("relevance", "time"), default="relevance",
                   help="relevance: the best LIMIT matches, best first (default); time: the same, oldest first")
    p.add_argument("--format", choices=("table", "json"), default="table")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("entities", help="agencies, organisations, people and places: when each was first and last "
                                        "named, in how many articles, and its role",
                       description="List every entity the reports name, most articles first, with the first and last "
                                   "day it was named and its role where the text says it (investigating, assisting, "
                                   "affected, commenting). The ids work with --entity everywhere.")
    p.add_argument("--type", type=str.upper, choices=("AGENCY", "ORG", "PERSON", "PLACE"), help="only this type")
    p.add_argument("--format", choices=("table", "json"), default="table")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("timeline", help="reports per day, oldest first")
    p.add_argument("--format", choices=("table", "json", "html"), default="table")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("export", help="export articles, facts, figures, claims or events with links to their sources",
                       description="Export what the store holds. claims: each slot's values with their status, "
                                   "outlets for and against and every source sentence; events: what happened on "
                                   "each day the reports name. stix (claims/events as a STIX 2.1 bundle for "
                                   "OpenCTI/MISP) and timesketch (JSONL for a Timesketch timeline) are for claims "
                                   "and events.")
    p.add_argument("--what", choices=("articles", "facts", "figures", "claims", "events", "notes"), default="articles",
                   help="notes: every report and fact you starred, tagged or noted in the dashboard, with its "
                        "headline or sentence, outlet and link")
    p.add_argument("--format", choices=("jsonl", "json", "csv", "xlsx", "stix", "timesketch"), default="jsonl")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _add_filters(p, irrelevant=True)
    _add_store(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("claims", help="what the reports claim: corroborated, single-source and disputed values",
                       description="Each claim slot (ransom_demand, servers_affected, action:nia…) with its values. "
                                   "corroborated: two or more independent outlets and none against; disputed: "
                                   "another outlet gives an incompatible value, or denies it. Syndicated copies and "
                                   "wire rewrites in the other language count as one outlet.")
    p.add_argument("--status", choices=("corroborated", "single-source", "disputed"), help="only claims with this status")
    p.add_argument("--slot", metavar="SLOT", help="only this slot (e.g. ransom_demand, action:nia)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="json: an array of claims as exported, each with every source sentence")
    _add_filters(p)
    _add_store(p)
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("digest", help="what is new since a date: articles by story, facts, entities (md, html, Atom)",
                       description="Everything first seen (fetched for the first time) since --since or in the last "
                                   "--days days. Atom output is a feed analysts can subscribe to.")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--since", type=_instant, metavar="DATE", help="YYYY-MM-DD (midnight UTC) or an ISO-8601 time")
    when.add_argument("--days", type=_days, metavar="N", help="the last N days (1 = since this time yesterday)")
    p.add_argument("--format", choices=("md", "html", "atom"), default="md")
    p.add_argument("--incident", metavar="ID", help="only this incident")
    p.add_argument("--lang", choices=("hi", "en"), help="only Hindi or only English reports")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    _add_store(p)
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("dashboard", help="serve the searchable timeline in the browser (Streamlit, 127.0.0.1)",
                       description="Start the dashboard over a store on http://127.0.0.1:PORT/. Filters live in the "
                                   "URL, so a view can be bookmarked and shared.")
    p.add_argument("--port", type=_port, default=8501, help="port on 127.0.0.1 (default 8501)")
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
    p.add_argument("--port", type=_port, default=8501, help="dashboard port")
    p.add_argument("--site-port", type=_whole_or_zero_port, default=0, help="first of three sample-site ports (default 8631)")
    _add_store(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", help="the version, the store in use and what it holds")
    _add_store(p)
    p.set_defaults(func=cmd_info)

    for command in sub.choices.values():
        command.add_argument("-v", "--verbose", action="store_true",
                             help="show the Scrapy and Streamlit logs (off by default)")
    return parser


class Stopped(BaseException):
    """SIGTERM: stop like Ctrl-C, cleaning up on the way out (the crawl child is stopped too)."""


def _stop(signum, frame):
    """SIGTERM (and the retry alarm): raise Stopped, but never inside a finalizer, where Python would only
    print it as an ignored exception; there, try again in a moment."""
    while frame is not None:
        if frame.f_code.co_name in ("__del__", "_finalize", "__exit__"):
            signal.setitimer(signal.ITIMER_REAL, 0.02)
            return
        frame = frame.f_back
    raise Stopped()


def _stop_again_later(unraisable) -> None:
    """A Stopped raised where Python can only swallow it (a weakref callback, say): ask again in a moment
    instead of printing it, so the stop still happens and no traceback shows."""
    if isinstance(unraisable.exc_value, Stopped):
        signal.setitimer(signal.ITIMER_REAL, 0.02)
        return
    sys.__unraisablehook__(unraisable)


def install_stop_handlers() -> None:
    """SIGTERM stops the command like Ctrl-C does; only the main thread may set signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGALRM, _stop)
    sys.unraisablehook = _stop_again_later


def _quiet_stdout() -> None:
    """After a broken pipe or a full disk, later writes to stdout (and the flush at exit) go nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the prahari console script."""
    args = build_parser().parse_args(argv)
    install_stop_handlers()
    try:
        code = args.func(args)
        sys.stdout.flush()  # a full disk under stdout shows here, not as a traceback at exit
        return code
    except PrahariError as exc:
        print(f"prahari: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `prahari timeline | head`: the reader has all it wanted
        _quiet_stdout()
        return 0
    except OSError as exc:  # stdout on a full disk, a closed terminal
        if exc.errno not in (errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EDQUOT):
            raise
        _quiet_stdout()
        print(f"prahari: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, Stopped):
        print("prahari: interrupted; everything stored so far is kept, rerun to continue", file=sys.stderr)
        return 130
    except ImportError as exc:  # SIGTERM inside a C extension's import shows up as "initialization failed"
        if not _interrupted(exc):
            raise
        print("prahari: interrupted; everything stored so far is kept, rerun to continue", file=sys.stderr)
        return 130


def _interrupted(exc: BaseException) -> bool:
    """Whether a stop (SIGTERM, Ctrl-C) is somewhere in this exception's chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (KeyboardInterrupt, Stopped)):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


if __name__ == "__main__":
    sys.exit(main())
