"""Serve the sample site on loopback: one HTTP server per publisher, pages rendered from the YAML data."""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import parse_qs, urlencode, urlsplit

import yaml

DATA_DIR = Path(__file__).parent
DEFAULT_BASE_PORT = 8631
Route = Callable[["SampleSite", str], tuple[int, dict[str, str], bytes]]


def load_articles() -> list[dict]:
    """Every sample article (English and Hindi), in file order."""
    articles = []
    for name in ("articles_en.yaml", "articles_hi.yaml"):
        articles.extend(yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8")))
    for article in articles:
        article["lang"] = "hi" if any("\u0900" <= c <= "\u097f" for c in article["title"]) else "en"
    return articles


def load_publishers() -> dict[str, dict]:
    """The made-up publishers, their templates and listings."""
    return yaml.safe_load((DATA_DIR / "publishers.yaml").read_text(encoding="utf-8"))


def _paragraphs(article: dict) -> list[str]:
    return [line.strip() for line in article["body"].strip().splitlines() if line.strip()]


def render_jsonld(article: dict, publisher: dict, url: str) -> str:
    """Template A: JSON-LD NewsArticle, <h1>, a related-links box inside the body, nav and footer."""
    e = html.escape
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": article["title"],
          "datePublished": article["published"], "author": {"@type": "Person", "name": article["author"]},
          "publisher": {"@type": "Organization", "name": publisher["name"]}, "mainEntityOfPage": url}
    paras = _paragraphs(article)
    related = "".join(f"<li><a href='/news/other-{i}'>{e(t)}</a></li>" for i, t in enumerate(article.get("related") or
                      ["Read more: city news", "Top stories of the day"]))
    body = "".join(f"<p>{e(p)}</p>" for p in paras[:1])
    body += f"<div class='related-links'><h3>Related</h3><ul>{related}</ul></div>"
    body += "".join(f"<p>{e(p)}</p>" for p in paras[1:])
    return f"""<!DOCTYPE html><html lang="{'hi' if article['lang'] == 'hi' else 'en'}"><head><meta charset="utf-8">
<title>{e(article['title'])} | {e(publisher['name'])}</title>
<meta property="og:title" content="{e(article['title'])} | {e(publisher['name'])}">
<meta property="og:site_name" content="{e(publisher['name'])}">
<link rel="canonical" href="{e(url)}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script></head>
<body><nav class="site-nav"><a href="/">Home</a> <a href="/india">India</a> <a href="/delhi">Delhi</a></nav>
<div class="share-bar">Share on WhatsApp · Share on X · Copy link</div>
<article><h1>{e(article['title'])}</h1><div class="byline">By {e(article['author'])}</div>
<div class="story-body">{body}</div></article>
<footer><p>© {e(publisher['name'])}. All rights reserved. About us · Contact · Privacy policy</p></footer>
</body></html>"""


def render_meta(article: dict, publisher: dict, url: str) -> str:
    """Template B: og/article meta tags (or <time>, or nothing), headline in a div, "also read" links in the body."""
    e = html.escape
    date_in = article.get("date_in", "meta")
    meta_date = f'<meta property="article:published_time" content="{article["published"]}">' if date_in == "meta" else ""
    time_tag = f'<time datetime="{article["published"]}">{article["published"][:10]}</time>' if date_in == "time" else ""
    paras = _paragraphs(article)
    also = "इसे भी पढ़ें: दिल्ली में प्रदूषण पर नई रिपोर्ट" if article["lang"] == "hi" else "Also Read: Delhi air quality dips again"
    body = "".join(f"<p>{e(p)}</p>" for p in paras[:2]) + f"<p><strong>{e(also)}</strong></p>"
    body += "".join(f"<p>{e(p)}</p>" for p in paras[2:])
    return f"""<!DOCTYPE html><html lang="{article['lang']}"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{e(article['title'])} - {e(publisher['name'])}</title>
<meta property="og:title" content="{e(article['title'])} - {e(publisher['name'])}">
<meta property="og:site_name" content="{e(publisher['name'])}">
<meta name="author" content="{e(article['author'])}">{meta_date}
<link rel="canonical" href="{e(url)}"></head>
<body><header><ul class="menu"><li>मुख्य पृष्ठ</li><li>देश</li><li>दिल्ली</li></ul></header>
<div class="headline">{e(article['title'])}</div><div class="meta">{e(article['author'])} {time_tag}</div>
<div class="content">{body}</div>
<div class="social-share">WhatsApp | Facebook | X</div>
<footer>कॉपीराइट © {e(publisher['name'])} · हमारे बारे में · संपर्क</footer></body></html>"""


@dataclass
class SampleSite:
    """The sample publishers on 127.0.0.1, one port each; counts requests so tests can check incremental crawls."""

    base_port: int = 0
    extra_routes: dict[str, Route] = field(default_factory=dict)
    article_delay: float = 0.0  # seconds per article page, to make crawls slow enough to interrupt
    articles: list[dict] = field(default_factory=load_articles)

    def __post_init__(self):
        self.publishers = load_publishers()
        self.requests: Counter = Counter()
        self.conditional: Counter = Counter()  # requests that carried If-None-Match or If-Modified-Since
        self.article_times: list[float] = []  # time.monotonic() of each article page served, for crawl rates
        self.by_slug = {(a["publisher"], a["slug"]): a for a in self.articles}
        self.rendered: dict[tuple[str, str], bytes] = {}
        self.ports: dict[str, int] = ({n: self.base_port + p["port_offset"] for n, p in self.publishers.items()}
                                      if self.base_port else {})
        self.servers: list[ThreadingHTTPServer] = []
        self.lock = threading.Lock()

    def add_article(self, article: dict) -> None:
        """Publish one more article (it appears in its publisher's feed or sitemap at once)."""
        with self.lock:
            self.articles.append(article)
            self.by_slug[(article["publisher"], article["slug"])] = article

    def search_endpoints(self) -> dict[str, str]:
        """Where this site answers as GDELT DOC 2.0 and as Bing News RSS (for search sources)."""
        base = self.base_url(next(iter(self.publishers)))
        return {"gdelt": f"{base}/api/v2/doc/doc", "bing": f"{base}/news/search"}

    def base_url(self, publisher: str) -> str:
        return f"http://127.0.0.1:{self.ports[publisher]}"

    def article_url(self, article: dict) -> str:
        return f"{self.base_url(article['publisher'])}/news/{article['slug']}"

    def start(self) -> "SampleSite":
        for name, publisher in self.publishers.items():
            port = self.base_port + publisher["port_offset"] if self.base_port else 0
            server = LoopbackServer(("127.0.0.1", port), self._handler(name))
            self.ports[name] = server.server_address[1]
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def incident_yaml(self, incident_id: str = "aiims-2022-sample") -> str:
        """An incident file pointing at this running site (feeds, sitemap index and a URL list)."""
        sources = [{"type": p["listing"]["type"], "url": self.base_url(n) + p["listing"]["path"]}
                   for n, p in self.publishers.items()]
        first = next(a for a in self.articles if a["publisher"] == "chronicle")
        sources.append({"type": "urls", "urls": [
            self.article_url(first) + "/amp", self.article_url(first) + "?utm_source=twitter&utm_medium=social"]})
        return yaml.safe_dump({
            "id": incident_id, "title": "AIIMS Delhi ransomware attack (bundled sample site)", "start": "2022-11-23",
            "relevance": {"all": [
                ["AIIMS", "एम्स", "All India Institute of Medical Sciences", "अखिल भारतीय आयुर्विज्ञान संस्थान"],
                ["server", "सर्वर", "hack", "हैक", "ransomware", "रैंसमवेयर", "cyber", "साइबर", "ransom", "फिरौती"]]},
            "sources": sources}, allow_unicode=True, sort_keys=False)

    def _listing(self, name: str) -> tuple[str, bytes]:
        base = self.base_url(name)
        mine = [a for a in self.articles if a["publisher"] == name]
        fmt = self.publishers[name]["listing"]["format"]
        e = html.escape
        if fmt == "rss":
            items = "".join(
                f"<item><title>{e(a['title'])}</title><link>{base}/news/{a['slug']}</link>"
                f"<pubDate>{format_datetime(datetime.fromisoformat(a['published']))}</pubDate></item>" for a in mine)
            return "application/rss+xml", (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                                           f"<title>{e(self.publishers[name]['name'])}</title>{items}</channel></rss>").encode()
        if fmt == "atom":
            entries = "".join(
                f"<entry><title>{e(a['title'])}</title><link href=\"{base}/news/{a['slug']}\"/>"
                f"<id>{base}/news/{a['slug']}</id><updated>{a['published']}</updated></entry>" for a in mine)
            return "application/atom+xml", (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                                            f"<title>{e(self.publishers[name]['name'])}</title>{entries}</feed>").encode()
        urls = "".join(
            f"<url><loc>{base}/news/{a['slug']}</loc><news:news><news:publication>"
            f"<news:name>{e(self.publishers[name]['name'])}</news:name><news:language>{a['lang']}</news:language>"
            f"</news:publication><news:publication_date>{a['published']}</news:publication_date>"
            f"<news:title>{e(a['title'])}</news:title></news:news></url>" for a in mine)
        return "application/xml", ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                                   f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode()

    def respond(self, name: str, path: str, request_headers: Optional[dict[str, str]] = None
                ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request to one publisher."""
        request_headers = request_headers or {}
        with self.lock:
            self.requests[(name, path)] += 1
            if "If-None-Match" in request_headers or "If-Modified-Since" in request_headers:
                self.conditional[(name, path)] += 1
        if path in self.extra_routes:
            return self.extra_routes[path](self, path)
        clean = path.split("?")[0].rstrip("/")
        if clean in ("/api/v2/doc/doc", "/news/search"):
            return fake_search(self, path)
        if clean == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if clean == "/sitemap-index.xml":
            body = (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{self.base_url(name)}/news-sitemap.xml</loc></sitemap></sitemapindex>")
            return 200, {"Content-Type": "application/xml"}, body.encode()
        if clean == self.publishers[name]["listing"]["path"] or clean == "/news-sitemap.xml":
            ctype, body = self._listing(name)
            # Validators as real publishers send them: a hash of the body and the newest item's time.
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            newest = max((datetime.fromisoformat(a["published"]) for a in self.articles if a["publisher"] == name),
                         default=datetime(2022, 11, 23, tzinfo=timezone.utc))
            validators = {"ETag": etag, "Last-Modified": format_datetime(newest.astimezone(timezone.utc), usegmt=True)}
            if request_headers.get("If-None-Match") == etag:
                return 304, validators, b""
            return 200, {"Content-Type": ctype, **validators}, body
        if clean.startswith("/news/"):
            if self.article_delay:
                time.sleep(self.article_delay)
            slug = clean[len("/news/"):]
            amp = slug.endswith("/amp")
            slug = slug[:-4] if amp else slug
            page = self._page(name, slug)
            if page is not None:
                self.article_times.append(time.monotonic())
                return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not found</h1></body></html>"

    def _page(self, name: str, slug: str) -> Optional[bytes]:
        """The rendered article page (rendered once, then served from memory)."""
        if (name, slug) not in self.rendered:
            article = self.by_slug.get((name, slug))
            if article is None:
                return None
            render = render_jsonld if self.publishers[name]["template"] == "jsonld" else render_meta
            self.rendered[(name, slug)] = render(article, self.publishers[name], f"{self.base_url(name)}/news/{slug}").encode()
        return self.rendered[(name, slug)]

    def _handler(self, name: str):
        return loopback_handler(lambda path, headers: self.respond(name, path, headers))


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server for loopback sites, with a listen backlog of 128 instead of socketserver's 5.

    A crawl opens dozens of connections at once; past the backlog the kernel drops the connection request,
    and the client tries again only a second later (seen as one-second stalls in the benchmarks).
    """

    request_queue_size = 128
    daemon_threads = True


def loopback_handler(respond: Callable[[str, dict[str, str]], tuple[int, dict[str, str], bytes]]):
    """A keep-alive HTTP handler class answering GET with respond(path, headers) -> (status, headers, body)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real news sites serve
        # Headers and body go out in two writes: without this, Nagle and delayed ACKs can stall each
        # keep-alive response.
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 (http.server's naming)
            status, headers, body = respond(self.path, dict(self.headers.items()))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep test and demo output quiet
            pass

    return Handler


def fake_search(site: SampleSite, path: str) -> tuple[int, dict[str, str], bytes]:
    """Answer like GDELT DOC 2.0 (JSON artlist) or Bing News (RSS) with this site's articles.

    The language comes from sourcelang:/setlang, GDELT's startdatetime/enddatetime bound the dates,
    and an article matches when it holds any word of the query (the pipeline judges relevance).
    """
    parts = urlsplit(path)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if parts.path.startswith("/api/"):
        query = params.get("query", "")
        lang = "hi" if "sourcelang:hindi" in query else "en"
        words = [w.strip('()"') for w in query.split() if ":" not in w and w not in ("OR", "AND")]
    else:
        query, lang = params.get("q", ""), params.get("setlang", "en")
        words = [w.strip('()"') for w in query.split() if w not in ("OR", "AND")]
    start, end = params.get("startdatetime"), params.get("enddatetime")
    hits = []
    for article in site.articles:
        published = datetime.fromisoformat(article["published"]).astimezone(timezone.utc)
        stamp = published.strftime("%Y%m%d%H%M%S")
        if article["lang"] != lang or (start and stamp < start) or (end and stamp > end):
            continue
        if any(w and w.lower() in (article["title"] + " " + article["body"]).lower() for w in words):
            hits.append((article, published))
    if parts.path.startswith("/api/"):
        if not hits:
            return 200, {"Content-Type": "application/json"}, b"{}"
        items = [{"url": site.article_url(a), "url_mobile": "", "title": a["title"],
                  "seendate": p.strftime("%Y%m%dT%H%M%SZ"), "socialimage": "", "domain": "127.0.0.1",
                  "language": "Hindi" if lang == "hi" else "English", "sourcecountry": "India"} for a, p in hits]
        return 200, {"Content-Type": "application/json"}, json.dumps({"articles": items}, ensure_ascii=False).encode()
    e = html.escape
    items = "".join(
        f"<item><title>{e(a['title'])}</title><link>{e(bing_click(site.article_url(a)))}</link>"
        f"<description>{e(a['title'])}</description><pubDate>{format_datetime(p, usegmt=True)}</pubDate>"
        f"<News:Source>{e(site.publishers[a['publisher']]['name'])}</News:Source></item>" for a, p in hits)
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:News="https://www.bing.com/news/search?q=&amp;format=rss">'
            f"<channel><title>{e(query)} - Bing News</title><link>https://www.bing.com/news/search?q={e(query)}</link>"
            f"<description>Search results</description>{items}</channel></rss>")
    return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, body.encode()


def bing_click(url: str) -> str:
    """Bing's wrapped result link: apiclick.aspx with the target in the url parameter."""
    return "http://www.bing.com/news/apiclick.aspx?" + urlencode({"ref": "FexRss", "aid": "", "url": url, "c": "1"})
