"""The timeline command's three renderings: a table per day, JSON, and a small HTML page."""

from __future__ import annotations

import html
import json

from prahari.app.output import printable
from prahari.model import Article


def timeline_json(buckets: list[dict], articles: list[Article]) -> str:
    """Per-day buckets and one line per article."""
    return json.dumps({"buckets": buckets, "articles": [
        {"id": a.id, "day": (a.published or "")[:10] or None, "published": a.published, "language": a.language,
         "source": a.source, "title": a.title, "url": a.url, "story_id": a.story_id} for a in articles]},
        ensure_ascii=False, indent=2)


def by_day(articles: list[Article]) -> dict[str, list[Article]]:
    """Articles grouped by publication day (undated ones last, under "undated")."""
    days: dict[str, list[Article]] = {}
    for article in articles:
        days.setdefault((article.published or "undated")[:10], []).append(article)
    return days


def timeline_html(articles: list[Article]) -> str:
    """A self-contained page: one heading per day, one linked line per report."""
    e = html.escape
    rows = "".join(f"<h2>{e(day)}</h2><ul>" + "".join(
        f"<li>{e(a.language)} · {e(a.source)} · <a href=\"{e(a.url)}\">{e(a.title)}</a></li>" for a in items)
        + "</ul>" for day, items in by_day(articles).items())
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Prahari timeline</title></head><body>{rows}</body></html>"


def timeline_table(articles: list[Article]) -> str:
    """A header line per day with its counts, then the day's reports (copies marked)."""
    lines = []
    for day, items in by_day(articles).items():
        hi = sum(1 for a in items if a.language == "hi")
        lines.append(f"{day}  {len(items)} reports ({hi} hi, {len(items) - hi} en)")
        for article in items:
            copy = " [copy]" if article.duplicate_of else ""
            lines.append(f"    {(article.published or '')[11:16]:5}  {article.language}  {article.source:22.22}  "
                         f"{article.title}{copy}")
    return printable("\n".join(lines))
