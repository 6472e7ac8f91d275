"""Discover articles from sitemaps: sitemap indexes, urlsets and Google News sitemaps."""

from __future__ import annotations

import gzip

import scrapy
from lxml import etree

from crawlers.spiders import ArticleSpider, is_http

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def _text(node, name: str):
    found = node.xpath(f".//*[local-name()='{name}']/text()")
    return found[0].strip() if found else None


class SitemapSpider(ArticleSpider):
    """Follow sitemap indexes, then request every article URL with its news date and title."""

    name = "sitemap"

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.listing_failed)

    def parse_sitemap(self, response):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        root = etree.fromstring(body, _PARSER) if body.strip() else None
        if root is None or etree.QName(root).localname not in ("urlset", "sitemapindex"):
            self.crawler.stats.inc_value("prahari/failed_listings")
            self.crawler.stats.inc_value("prahari/failed/not a sitemap")
            self.logger.warning("%s: not a sitemap", response.url)
            return
        if etree.QName(root).localname == "sitemapindex":
            for loc in root.xpath("//*[local-name()='sitemap']/*[local-name()='loc']/text()"):
                url = response.urljoin(loc.strip())
                if is_http(url):
                    yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.listing_failed)
            return
        for entry in root.xpath("//*[local-name()='url']"):
            loc = _text(entry, "loc")
            if not loc or not is_http(response.urljoin(loc)):
                continue
            published = _text(entry, "publication_date") or _text(entry, "lastmod")
            yield self.article_request(response.urljoin(loc), published, _text(entry, "title"))
