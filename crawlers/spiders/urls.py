"""Fetch a fixed list of article URLs."""

from __future__ import annotations

from crawlers.spiders import ArticleSpider


class UrlsSpider(ArticleSpider):
    """Request each listed URL as an article."""

    name = "urls"

    async def start(self):
        for url in self.start_urls:
            yield self.article_request(url)
