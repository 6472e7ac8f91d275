"""Fake Common Crawl (collinfo, paged CDX index, WARC data with ranges) and Wayback (CDX, id_ replay) on loopback.

Real formats: CDX JSON lines with url, timestamp, mime, status, digest, length, offset, filename, languages,
charset; WARC records written with warcio, one gzip member each; the Wayback CDX JSON array with a header
row and resume keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from prahari.app.sample.site import LoopbackServer, loopback_handler

IN_WINDOW_CRAWL = {"id": "CC-MAIN-2022-49", "name": "November/December 2022 Index",
                   "from": "2022-11-26T00:00:00", "to": "2022-12-10T23:59:59"}
OLD_CRAWL = {"id": "CC-MAIN-2021-04", "name": "January 2021 Index", "from": "2021-01-15T00:00:00",
             "to": "2021-01-28T23:59:59"}


@dataclass
class Capture:
    """One archived capture of a page, as an index lists it and as the archive returns it."""

    archive: str  # commoncrawl | wayback
    url: str
    timestamp: str  # 20221124053000
    body: bytes = b""
    mime: str = "text/html"  # what the index line says
    status: int = 200
    languages: str = "eng"
    content_type: str = "text/html; charset=utf-8"  # what the record itself says
    truncated: bool = False  # the WARC record is cut short
    crawl: str = IN_WINDOW_CRAWL["id"]


@dataclass
class FakeArchives:
    captures: list[Capture]
    cc_page_size: int = 5
    wayback_page_size: int = 4
    throttle_once: bool = True  # the first Wayback CDX request answers 429 with Retry-After
    data_delay: float = 0.0  # seconds per capture fetch, to make a backfill slow enough to interrupt
    requests: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.warc: dict[str, bytes] = {}
        self.index_lines: dict[str, list[dict]] = {}
        self._write_warcs()
        self.lock = threading.Lock()
        self.server: Optional[LoopbackServer] = None

    def _write_warcs(self) -> None:
        by_file: dict[str, io.BytesIO] = {}
        for number, capture in enumerate(c for c in self.captures if c.archive == "commoncrawl"):
            filename = f"crawl-data/{capture.crawl}/segments/1669/warc/part-{number % 2:05d}.warc.gz"
            out = by_file.setdefault(filename, io.BytesIO())
            writer = WARCWriter(out, gzip=True)
            headers = StatusAndHeaders(f"{capture.status} OK", [("Content-Type", capture.content_type)],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(capture.url, "response", payload=io.BytesIO(capture.body),
                                               http_headers=headers)
            offset = out.tell()
            writer.write_record(record)
            length = out.tell() - offset
            if capture.truncated:
                length //= 2
            self.index_lines.setdefault(capture.crawl, []).append({
                "urlkey": surt(capture.url), "timestamp": capture.timestamp, "url": capture.url, "mime": capture.mime,
                "mime-detected": capture.mime, "status": str(capture.status),
                "digest": hashlib.sha1(capture.body).hexdigest().upper(), "length": str(length),
                "offset": str(offset), "filename": filename, "languages": capture.languages, "charset": "UTF-8"})
        self.warc = {name: out.getvalue() for name, out in by_file.items()}

    # Endpoints, as an incident file names them
    def endpoints(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return {"commoncrawl_index": f"{base}/cc-index", "commoncrawl_data": f"{base}/cc-data",
                "wayback_cdx": f"{base}/wayback/cdx", "wayback_replay": f"{base}/wayback/web"}

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        route = parts.path
        with self.lock:
            self.requests[route.split("/")[1] + ("/" + route.split("/")[2] if route.count("/") > 1 else "")] += 1
        if route == "/robots.txt":
            return 404, {}, b""
        if route == "/cc-index/collinfo.json":
            return 200, {"Content-Type": "application/json"}, json.dumps([IN_WINDOW_CRAWL, OLD_CRAWL]).encode()
        if route.startswith("/cc-index/") and route.endswith("-index"):
            return self._cc_index(route[len("/cc-index/"):-len("-index")], query)
        if route.startswith("/cc-data/"):
            return self._cc_data(route[len("/cc-data/"):], headers.get("Range", ""))
        if route == "/wayback/cdx":
            return self._wayback_cdx(query)
        if route.startswith("/wayback/web/"):
            return self._replay(path[len("/wayback/web/"):])
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _matching(self, rows: list[dict], query: dict, url_key: str, time_key: str = "timestamp") -> list[dict]:
        domain = query.get("url", [""])[0].lower()
        since, until = query.get("from", ["0"])[0], query.get("to", ["99999999999999"])[0]
        out = []
        for row in rows:
            host = (urlsplit(row[url_key]).hostname or "").lower()
            if (host == domain or host.endswith("." + domain)) and since <= row[time_key][:len(since)] \
                    and row[time_key][:len(until)] <= until:
                out.append(row)
        return out

    def _cc_index(self, crawl: str, query: dict) -> tuple[int, dict[str, str], bytes]:
        rows = self._matching(self.index_lines.get(crawl, []), query, "url")
        if not rows:
            return 404, {"Content-Type": "text/plain"}, b"No Captures found for: " + query.get("url", [""])[0].encode()
        pages = (len(rows) + self.cc_page_size - 1) // self.cc_page_size
        if query.get("showNumPages") == ["true"]:
            return 200, {"Content-Type": "application/json"}, json.dumps(
                {"pages": pages, "pageSize": self.cc_page_size, "blocks": pages}).encode()
        page = int(query.get("page", ["0"])[0])  # one page per request, as the real index answers
        chunk = rows[page * self.cc_page_size:(page + 1) * self.cc_page_size]
        return 200, {"Content-Type": "text/x-ndjson"}, "".join(json.dumps(r) + "\n" for r in chunk).encode()

    def _cc_data(self, filename: str, byte_range: str) -> tuple[int, dict[str, str], bytes]:
        if self.data_delay:
            time.sleep(self.data_delay)
        data = self.warc.get(filename)
        if data is None or not byte_range.startswith("bytes="):
            return 404, {}, b""
        first, last = (int(x) for x in byte_range[len("bytes="):].split("-"))
        return 206, {"Content-Type": "application/octet-stream",
                     "Content-Range": f"bytes {first}-{last}/{len(data)}"}, data[first:last + 1]

    def _wayback_cdx(self, query: dict) -> tuple[int, dict[str, str], bytes]:
        if self.throttle_once:
            self.throttle_once = False
            return 429, {"Retry-After": "1", "Content-Type": "text/plain"}, b"slow down"
        rows = [{"urlkey": surt(c.url), "timestamp": c.timestamp, "original": c.url, "mimetype": c.mime,
                 "statuscode": str(c.status), "digest": hashlib.sha1(c.body).hexdigest().upper(),
                 "length": str(len(c.body))} for c in self.captures if c.archive == "wayback"]
        rows = self._matching(rows, query, "original")
        start = int(query.get("resumeKey", ["0"])[0])
        chunk = rows[start:start + self.wayback_page_size]
        header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
        answer: list = [header] + [[r[k] for k in header] for r in chunk]
        if start + self.wayback_page_size < len(rows):
            answer += [[], [str(start + self.wayback_page_size)]]
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _replay(self, rest: str) -> tuple[int, dict[str, str], bytes]:
        if self.data_delay:
            time.sleep(self.data_delay)
        stamp, _, original = rest.partition("id_/")
        for capture in self.captures:
            if capture.archive == "wayback" and capture.timestamp == stamp and capture.url == unquote(original):
                return capture.status, {"Content-Type": capture.content_type}, capture.body
        return 404, {}, b""

    def start(self) -> "FakeArchives":
        self.server = LoopbackServer(("127.0.0.1", 0), loopback_handler(self.respond))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def surt(url: str) -> str:
    """A simple SURT key (host reversed, then the path), as CDX indexes sort by."""
    parts = urlsplit(url)
    host = ",".join(reversed((parts.hostname or "").split(".")))
    return f"{host}){parts.path}{'?' + parts.query if parts.query else ''}"
