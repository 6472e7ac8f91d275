"""Discover articles from RSS 2.0 and Atom feeds."""

from __future__ import annotations

import calendar
from datetime import datetime, timezone

import feedparser

from crawlers.spiders import ArticleSpider


class FeedSpider(ArticleSpider):
    """Read each feed and request every linked article."""

    name = "feed"

    def parse_listing(self, response):
        if self.not_modified(response):
            return
        parsed = feedparser.parse(response.body, response_headers={"content-type": response.headers.get(
            "Content-Type", b"").decode("latin-1")})
        if not parsed.entries:
            self.bad_listing(response, "empty feed" if parsed.get("version") else "not an RSS or Atom feed")
            return
        self.remember_validators(response)
        for entry in parsed.entries:
            link = self.link(response, entry.get("link"))
            if not link:
                continue
            stamp = entry.get("published_parsed") or entry.get("updated_parsed")
            published = (datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc).isoformat()
                         if stamp else None)
            if not self.in_window(published):
                continue
            yield self.article_request(link, published, entry.get("title"))
