"""Backfill from web archives: Common Crawl's URL index and WARC records, and the Wayback Machine's CDX API."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from typing import Iterator, Optional
from urllib.parse import unquote, urlencode, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawlers.context import archive_outlet
from crawlers.spiders import ArticleSpider, inflate
from prahari.incident import ARCHIVES
from prahari.inputs import split_url
from prahari.model import RawPage

HTML_TYPES = ("text/html", "application/xhtml+xml")
WAYBACK_PAGE = 5000  # captures per CDX answer
MAX_RECORD_BYTES = 10 * 1024 * 1024  # a WARC record inflates to at most this (a gzip bomb is cut off)
CRAWL_SPAN = timedelta(days=45)  # a crawl without from/to in collinfo.json: its id's week ± this


def not_html(content_type: str) -> Optional[str]:
    """Why a capture of this content type is not an article page, or None when it is HTML."""
    if content_type.split(";")[0].strip().lower() in HTML_TYPES:
        return None
    return f"archive capture is not HTML ({content_type.split(';')[0].strip() or '?'})"


def cdx_stamp(day: date, end: bool = False) -> str:
    """A day as a CDX timestamp (the first or the last second of it)."""
    return day.strftime("%Y%m%d") + ("235959" if end else "000000")


def capture_time(timestamp: str) -> Optional[datetime]:
    """A CDX timestamp (20221124053000) as a UTC time."""
    try:
        return datetime.strptime(timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def page_key(url: str) -> str:
    """One key for the same page under http/https, www. or a trailing slash."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/') or '/'}?{parts.query}"


def crawl_window(crawl: dict) -> tuple[Optional[date], Optional[date]]:
    """The days a Common Crawl crawl covers, from collinfo.json's from/to, else from its id (CC-MAIN-2022-49)."""
    try:
        if crawl.get("from") and crawl.get("to"):
            return (datetime.fromisoformat(crawl["from"].replace("Z", "+00:00")).date(),
                    datetime.fromisoformat(crawl["to"].replace("Z", "+00:00")).date())
        year, week = (int(part) for part in str(crawl.get("id", "")).split("-")[-2:])
        middle = date.fromisocalendar(year, week, 3)
        return middle - CRAWL_SPAN, middle + CRAWL_SPAN
    except (ValueError, TypeError):
        return None, None


class ArchiveSpider(ArticleSpider):
    """List an incident's outlets in the archives over its start..end window and fetch each page once."""

    name = "archive"
    @classmethod
    def update_settings(cls, settings):
        """Public services with rate limits: every request to one archive goes through that archive's own
        download slot, with PRAHARI_ARCHIVE_CONCURRENCY (default 2) requests in flight at most."""
        super().update_settings(settings)
        concurrency = settings.getint("PRAHARI_ARCHIVE_CONCURRENCY", 2)
        settings.set("DOWNLOAD_SLOTS", {f"archive:{name}": {"concurrency": concurrency} for name in ARCHIVES},
                     priority="spider")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = [s for s in self.context.incident.sources if s.type == "archive"]
        self.until_day = self.until or datetime.now(timezone.utc).date()
        # page key -> captures not yet tried, nearest the window's start first (listing by listing)
        self.pending: dict[str, list[dict]] = {}

    async def start(self):
        for number, source in enumerate(self.sources):
            if "commoncrawl" in source.archives:
                yield self.listing_request(source.endpoints["commoncrawl_index"] + "/collinfo.json",
                                           self.parse_collinfo, number)
            if "wayback" in source.archives:
                for domain in source.domains:
                    request = self.wayback_request(source, number, domain, None)
                    if request is not None:
                        yield request

    def listing_request(self, url: str, callback, number: int = 0, **meta):
        request = super().listing_request(url, callback)
        archive = "wayback" if callback == self.parse_wayback else "commoncrawl"
        request.meta.update({"source": number, "handle_httpstatus_list": [304, 404],
                             "download_slot": f"archive:{archive}", **meta})
        return request

    # Listings are remembered once read to the end: the next update asks only for newer captures.
    def listed_from(self, key: str) -> Optional[date]:
        """The first day still to list for one archive listing (None: the whole window is done)."""
        state = self.context.validators.get(key)
        if not state or state[0] != "listed":
            return self.since
        done = date.fromisoformat(state[1])
        return None if done >= self.until_day else max(self.since or done, done)

    def listing_done(self, key: str) -> None:
        self.context.archive_listed[key] = ("listed", self.until_day.isoformat())

    # Common Crawl
    def parse_collinfo(self, response):
        source = self.sources[response.meta["source"]]
        try:
            crawls = json.loads(response.body)
        except ValueError:
            self.bad_listing(response, "Common Crawl collinfo.json is not JSON")
            return
        for crawl in crawls if isinstance(crawls, list) else []:
            first, last = crawl_window(crawl)
            if not crawl.get("id") or first is None or (self.since and last < self.since) or first > self.until_day:
                continue
            api = crawl.get("cdx-api") or f"{source.endpoints['commoncrawl_index']}/{crawl['id']}-index"
            for domain in source.domains:
                key = f"archive:commoncrawl:{crawl['id']}:{domain}"
                since = self.listed_from(key)
                if since is None:
                    continue
                query = {"url": domain, "matchType": "domain", "output": "json", "from": cdx_stamp(since),
                         "to": cdx_stamp(self.until_day, end=True)}
                yield self.listing_request(f"{api}?{urlencode({**query, 'showNumPages': 'true'})}",
                                           self.parse_cc_pages, response.meta["source"], query=query, api=api,
                                           key=key)

    def parse_cc_pages(self, response):
        meta = response.meta
        if response.status == 404:  # "No Captures found": none, not a failure
            self.listing_done(meta["key"])
            return
        try:
            pages = int(json.loads(response.body).get("pages", 0))
        except (ValueError, AttributeError):
            self.bad_listing(response, "Common Crawl index: bad showNumPages answer")
            return
        if pages == 0:
            self.listing_done(meta["key"])
            return
        yield self.listing_request(f"{meta['api']}?{urlencode({**meta['query'], 'page': 0})}", self.parse_cc_index,
                                   meta["source"], query=meta["query"], api=meta["api"], key=meta["key"],
                                   page=0, pages=pages)

    def parse_cc_index(self, response):
        """One page of a crawl's index (one page per request): keep in-window HTML captures, fetch each page."""
        meta = response.meta
        source = self.sources[meta["source"]]
        captures = []
        if response.status != 404:
            for line in response.text.splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and self.keep(source, row.get("url"), row.get("timestamp"),
                                                       row.get("status"), row.get("mime-detected") or row.get("mime"),
                                                       row.get("languages"), check_languages=True):
                    captures.append({"archive": "commoncrawl", "url": row["url"], "timestamp": row["timestamp"],
                                     "filename": row.get("filename"), "offset": int(row.get("offset", 0)),
                                     "length": int(row.get("length", 0)), "data": source.endpoints["commoncrawl_data"]})
        yield from self.schedule(captures)
        if meta["page"] + 1 < meta["pages"]:
            yield self.listing_request(f"{meta['api']}?{urlencode({**meta['query'], 'page': meta['page'] + 1})}",
                                       self.parse_cc_index, meta["source"], query=meta["query"], api=meta["api"],
                                       key=meta["key"], page=meta["page"] + 1, pages=meta["pages"])
        else:
            self.listing_done(meta["key"])

    # The Wayback Machine
    def wayback_request(self, source, number: int, domain: str, resume: Optional[str]):
        key = f"archive:wayback:{domain}"
        since = self.listed_from(key)
        if since is None:
            return None
        params = [("url", domain), ("matchType", "domain"), ("output", "json"), ("from", cdx_stamp(since)),
                  ("to", cdx_stamp(self.until_day, end=True)), ("filter", "statuscode:200"),
                  ("filter", "mimetype:text/html"), ("collapse", "urlkey"), ("showResumeKey", "true"),
                  ("limit", str(WAYBACK_PAGE))] + ([("resumeKey", resume)] if resume else [])
        return self.listing_request(f"{source.endpoints['wayback_cdx']}?{urlencode(params)}", self.parse_wayback,
                                    number, domain=domain, key=key)

    def parse_wayback(self, response):
        """A CDX answer: a header row, capture rows, then (when there are more) an empty row and a resume key."""
        meta = response.meta
        source = self.sources[meta["source"]]
        if response.status == 404:
            self.listing_done(meta["key"])
            return
        try:
            rows = json.loads(response.body or b"[]")
        except ValueError:
            self.bad_listing(response, "Wayback CDX answer is not JSON")
            return
        if not isinstance(rows, list) or not rows:
            self.listing_done(meta["key"])
            return
        header, resume = rows[0], None
        if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
            resume, rows = rows[-1][0], rows[:-2]
        captures = []
        for values in rows[1:]:
            row = dict(zip(header, values)) if isinstance(values, list) else {}
            if self.keep(source, row.get("original"), row.get("timestamp"), row.get("statuscode"),
                         row.get("mimetype"), None, check_languages=False):
                captures.append({"archive": "wayback", "url": row["original"], "timestamp": row["timestamp"],
                                 "replay": source.endpoints["wayback_replay"]})
        yield from self.schedule(captures)
        if resume:
            yield self.wayback_request(source, meta["source"], meta["domain"], resume)
        else:
            self.listing_done(meta["key"])

    # Both archives
    def keep(self, source, url, timestamp, status, mime, languages, check_languages: bool) -> bool:
        """The index line alone decides: in the window, status 200, HTML, the outlet, the URL and language filters."""
        if not url or not timestamp or str(status) != "200":
            return False
        if not_html(mime or ""):
            self.context.report.skipped_not_html += 1
            return False
        when = capture_time(timestamp)
        if when is None or (self.since and when.date() < self.since) or when.date() > self.until_day:
            self.context.report.skipped_outside_dates += 1
            return False
        parts = split_url(url)
        if parts is None:
            self.context.report.fail("malformed URL in an archive index")
            return False
        if (parts.hostname or "").lower().removeprefix("www.") not in source.domains:
            return False
        if source.url_contains and not any(word.casefold() in unquote(url).casefold() for word in source.url_contains):
            return False
        if check_languages and source.languages:
            found = {lang.strip() for lang in str(languages or "").split(",") if lang.strip()}
            if not found & set(source.languages):
                return False
        return True

    def schedule(self, captures: list[dict]) -> Iterator[scrapy.Request]:
        """Fetch each page once: its capture nearest the window's start; later ones wait in case it fails."""
        fresh: dict[str, list[dict]] = {}
        for capture in captures:
            self.context.report.archive_listed[archive_outlet(capture['archive'], capture['url'])] += 1
            fresh.setdefault(page_key(capture["url"]), []).append(capture)
        for key, found in fresh.items():
            found.sort(key=lambda c: c["timestamp"])
            if key in self.pending or key in self.context.archive_keys:
                self.pending.setdefault(key, []).extend(found)  # already being fetched from another listing
                continue
            self.context.archive_keys.add(key)
            self.pending[key] = found[1:]
            yield self.capture_request(found[0])

    def capture_request(self, capture: dict) -> scrapy.Request:
        if capture["archive"] == "commoncrawl":
            end = capture["offset"] + capture["length"] - 1
            url = f"{capture['data']}/{capture['filename']}"
            headers = {"Range": f"bytes={capture['offset']}-{end}"}
        else:
            url = f"{capture['replay']}/{capture['timestamp']}id_/{capture['url']}"
            headers = {}
        # dont_filter: records of one WARC file share its URL and differ only by their Range header.
        return scrapy.Request(url, headers=headers, callback=self.parse_capture, errback=self.capture_failed,
                              dont_filter=True, meta={"prahari_article": True, "prahari_original_url": capture["url"],
                                    "capture": capture, "download_slot": f"archive:{capture['archive']}"})

    def parse_capture(self, response):
        capture = response.meta["capture"]
        if capture["archive"] == "commoncrawl":
            body, content_type, problem = self.read_warc(response.body)
        else:
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
            body, problem = response.body, not_html(content_type) if content_type else None
        if problem:
            yield from self.try_next(capture, problem)
            return
        when = capture_time(capture["timestamp"])
        provenance = {k: capture[k] for k in ("archive", "timestamp", "filename", "offset", "length") if k in capture}
        if capture["archive"] == "wayback":
            provenance["replay_url"] = response.url
        self.pending.pop(page_key(capture["url"]), None)
        self.context.report.parsed += 1
        self.context.report.archive_fetched[archive_outlet(capture['archive'], capture['url'])] += 1
        yield RawPage(url=capture["url"], body=body, status=200,
                      headers={"Content-Type": content_type} if content_type else {},
                      fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      hint_published=when.isoformat() if when else None,  # a hint: the page's own date wins
                      incident=self.context.incident.id, archive=provenance)

    @staticmethod
    def read_warc(data: bytes) -> tuple[bytes, str, Optional[str]]:
        """(HTML body, content type, problem) from one gzip member holding a WARC response record."""
        try:
            raw = inflate(data, MAX_RECORD_BYTES)
        except ValueError as exc:
            return b"", "", f"truncated or damaged WARC record ({exc})"
        try:
            for record in ArchiveIterator(BytesIO(raw)):
                if record.rec_type != "response":
                    continue
                content_type = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                problem = not_html(content_type)
                return (b"", content_type, problem) if problem else (record.content_stream().read(), content_type, None)
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            return b"", "", f"truncated or damaged WARC record ({type(exc).__name__})"
        return b"", "", "truncated or damaged WARC record (no response record)"

    def try_next(self, capture: dict, problem: str) -> Iterator[scrapy.Request]:
        """This capture failed: try the page's next capture, or count the page as failed with the reason."""
        later = self.pending.get(page_key(capture["url"])) or []
        if later:
            yield self.capture_request(later.pop(0))
            return
        self.pending.pop(page_key(capture["url"]), None)
        self.context.report.fail(problem)
        self.logger.warning("failed %s: %s", capture["url"], problem)

    def capture_failed(self, failure):
        capture = failure.request.meta.get("capture")
        response = getattr(failure.value, "response", None)
        problem = f"archive HTTP {response.status}" if response is not None else type(failure.value).__name__
        if capture is None:
            return self.article_failed(failure)
        if failure.check(IgnoreRequest) and response is None:
            return None  # already stored (or --max-pages): skipped on purpose, counted elsewhere
        return list(self.try_next(capture, problem))
