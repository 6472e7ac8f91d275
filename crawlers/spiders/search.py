"""Discover articles through news-search endpoints: GDELT DOC 2.0 (JSON) and Bing News (RSS)."""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, timezone
from typing import Optional
from urllib.parse import parse_qs, urlencode, urlsplit

import feedparser

from crawlers.spiders import ArticleSpider

ENDPOINTS = {
    "gdelt": "https://api.gdeltproject.org/api/v2/doc/doc",
    "bing": "https://www.bing.com/news/search",
}
GDELT_LANGUAGES = {"hi": "hindi", "en": "english"}
BING_MARKETS = {"hi": "hi-IN", "en": "en-IN"}


def gdelt_url(endpoint: str, query: str, lang: str, since: Optional[date], until: Optional[date]) -> str:
    """A GDELT DOC 2.0 article-list query in one language, bounded by the incident's dates."""
    params = {"query": f"{query} sourcelang:{GDELT_LANGUAGES.get(lang, lang)}", "mode": "artlist",
              "format": "json", "maxrecords": "250", "sort": "datedesc"}
    if since:
        params["startdatetime"] = since.strftime("%Y%m%d000000")
    if until:
        params["enddatetime"] = until.strftime("%Y%m%d235959")
    return f"{endpoint}?{urlencode(params)}"


def bing_url(endpoint: str, query: str, lang: str) -> str:
    """A Bing News RSS query in one language (Bing takes no date range; dates are filtered on our side)."""
    market = BING_MARKETS.get(lang, lang)
    return f"{endpoint}?{urlencode({'q': query, 'format': 'rss', 'setlang': lang, 'mkt': market})}"


def search_urls(queries: dict[str, str], engines: list[str], endpoints: dict[str, str],
                since: Optional[date], until: Optional[date]) -> list[str]:
    """Every endpoint URL a search source asks, per engine and language."""
    urls = []
    for engine in engines:
        endpoint = endpoints.get(engine) or ENDPOINTS[engine]
        for lang, query in queries.items():
            urls.append(gdelt_url(endpoint, query, lang, since, until) if engine == "gdelt"
                        else bing_url(endpoint, query, lang))
    return urls


def unwrap_bing_link(link: str) -> str:
    """Bing wraps result links in apiclick.aspx?…&url=<target>; return the target."""
    parts = urlsplit(link)
    if parts.path.lower().endswith("apiclick.aspx"):
        target = parse_qs(parts.query).get("url")
        if target:
            return target[0]
    return link


class SearchSpider(ArticleSpider):
    """Ask each search endpoint and request every result through the usual article path."""

    name = "search"

    def parse_listing(self, response):
        if self.not_modified(response):
            return
        body = response.body.lstrip()
        if body.startswith(b"{"):
            results = self._gdelt(response)
        else:
            results = self._rss(response)
        if results is None:
            self.bad_listing(response, "not a search result listing")
            return
        self.context.report.search_results += len(results)
        for url, published, title in results:
            url = self.link(response, url)
            if url and self.in_window(published):
                yield self.article_request(url, published, title)

    def _gdelt(self, response) -> Optional[list[tuple[str, Optional[str], Optional[str]]]]:
        try:
            data = json.loads(response.body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        out = []
        for item in data.get("articles") or []:  # GDELT answers {} when nothing matched
            if isinstance(item, dict) and item.get("url"):
                seen = item.get("seendate")
                published = None
                if seen:
                    try:
                        published = datetime.strptime(seen, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).isoformat()
                    except ValueError:
                        published = None
                out.append((item["url"], published, item.get("title")))
        return out

    def _rss(self, response) -> Optional[list[tuple[str, Optional[str], Optional[str]]]]:
        parsed = feedparser.parse(response.body)
        if not parsed.get("version"):
            return None
        out = []
        for entry in parsed.entries:
            if not entry.get("link"):
                continue
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            published = datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc).isoformat() if stamp else None
            try:
                link = unwrap_bing_link(response.urljoin(entry["link"]))
            except ValueError:
                link = entry["link"]  # malformed: self.link counts it when the results are read
            out.append((link, published, entry.get("title")))
        return out
