"""Discover articles from sitemaps: sitemap indexes, urlsets and Google News sitemaps."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from lxml import etree

from crawlers.spiders import ArticleSpider, day_of, inflate

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


def _text(node, name: str):
    found = node.xpath(f".//*[local-name()='{name}']/text()")
    return found[0].strip() if found else None


# Monthly archive sitemaps name their month: sitemap-2022-11.xml, /2022/11/, sitemap_202211.xml.
_MONTH_IN_URL = re.compile(r"(?<!\d)(20\d\d)[-_/]?(0[1-9]|1[0-2])(?!\d)")


class SitemapSpider(ArticleSpider):
    """Follow sitemap indexes, then request every article URL with its news date and title."""

    name = "sitemap"

    def parse_listing(self, response):
        if self.not_modified(response):
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a raw .xml.gz (a Content-Encoding gzip is undone by Scrapy, capped)
            try:
                body = inflate(body)
            except ValueError as exc:
                self.bad_listing(response, f"gzip sitemap: {exc}")
                return
        root = etree.fromstring(body, _PARSER) if body.strip() else None
        if root is None or etree.QName(root).localname not in ("urlset", "sitemapindex"):
            self.bad_listing(response, "not a sitemap")
            return
        if etree.QName(root).localname == "sitemapindex":
            # An index is always read in full (its children are what change); archives outside the
            # incident's dates are skipped by their lastmod or the month in their URL.
            for child in root.xpath("//*[local-name()='sitemap']"):
                url = self.link(response, _text(child, "loc"))
                if url and self.child_in_window(url, _text(child, "lastmod")):
                    yield self.listing_request(url, self.parse_listing)
            return
        self.remember_validators(response)
        for entry in root.xpath("//*[local-name()='url']"):
            loc = self.link(response, _text(entry, "loc"))
            if not loc:
                continue
            published = _text(entry, "publication_date") or _text(entry, "lastmod")
            if not self.in_window(published):
                continue
            yield self.article_request(loc, published, _text(entry, "title"))

    def child_in_window(self, url: str, lastmod: str | None) -> bool:
        """Whether a child sitemap can hold articles from the incident's dates."""
        modified = day_of(lastmod)
        if modified and self.since and modified < self.since:
            self.context.report.skipped_outside_dates += 1
            return False
        month = _MONTH_IN_URL.search(urlsplit(url).path)
        if month:
            first = date(int(month.group(1)), int(month.group(2)), 1)
            last = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            if (self.since and last <= self.since) or (self.until and first > self.until):
                self.context.report.skipped_outside_dates += 1
                return False
        return True
