"""Page extraction: trafilatura for the body, our own reading of the page metadata."""

from __future__ import annotations

import codecs
import copy
import json
import re
from datetime import datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Iterator, Optional
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import dateparser
import lxml.html
import trafilatura
from trafilatura.settings import Extractor
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from nlp.normalize import DIGITS, nfc, script_language
from prahari.errors import ExtractionError

MAX_PAGE_BYTES = 10 * 1024 * 1024
IST = timezone(timedelta(hours=5, minutes=30))
ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle"}
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ")
# Boxes that are not the story: related links, "also read", share bars, paywall and newsletter boxes.
# A class or id matches when one of its whole tokens is in this list or starts with "<word>-"/"<word>_";
# "f_share_tools_on" on <body> or "tag-social-media" on <article> never match (and those elements are
# never pruned anyway).
BOILERPLATE_WORDS = ("related", "also-read", "read-also", "share", "sharing", "social", "social-share",
                     "newsletter", "paywall", "subscribe", "subscription", "promo", "advert", "ad-slot",
                     "comments", "recommended", "trending", "more-stories", "breadcrumb", "breadcrumbs")
NEVER_PRUNED = {"html", "body", "main", "article"}
# (Not <form>: ASP.NET templates wrap the whole page, story included, in one.)
NEVER_TEXT = ("script", "style", "noscript", "svg", "iframe", "template", "button", "select", "input")
SMALL_BOX = 400  # characters of paragraph text below which a boilerplate box never holds the story
_BOILERPLATE_TOKEN = re.compile(r"(?<!\S)(?:" + "|".join(re.escape(w) for w in BOILERPLATE_WORDS) + r")(?:[-_]\S*)?(?!\S)",
                                re.IGNORECASE)
_CLASS_AND_ID = lxml.etree.XPath("//@class | //@id")
READ_ALSO = re.compile(r"^\s*(इसे भी पढ़ें|ये भी पढ़ें|यह भी पढ़ें|Also [Rr]ead|ALSO READ|Read [Aa]lso)\s*[:|-]")
# Lines that are never the story: reprint and copyright notices, print/share prompts, sign-up boxes.
NOT_STORY_LINE = re.compile(
    r"^\s*(-\s*)?(Order Reprints|Print Article|Print this article|This copy is for your personal, non-commercial use"
    r"|Copyright\s*©|©\s*(Copyright\s*)?\d{4}|All rights reserved|Like this story\? Share it"
    r"|Thanks for signing up|Sign up for|Subscribe to (our|the) newsletter|Already a subscriber"
    r"|Subscribe now|Click here to subscribe|Reproduction (in whole or in part )?(is )?(prohibited|forbidden))",
    re.IGNORECASE)
_EN_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
             r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_HI_MONTH = ("(?:जनवरी|फरवरी|फ़रवरी|मार्च|अप्रैल|अप्रेल|मई|जून|जुलाई|अगस्त|सितंबर|सितम्बर|अक्टूबर|अक्तूबर|नवंबर|नवम्बर"
             "|दिसंबर|दिसम्बर)")
_CLOCK = r"(?:[,|\s]*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*IST)?)?"
_DATELINE = re.compile(
    rf"(?<!\w)(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_EN_MONTH}|{_HI_MONTH}),?\s+(?:19|20)\d\d{_CLOCK}"
    rf"|{_EN_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d{_CLOCK}"
    rf"|(?:19|20)\d\d-\d\d-\d\d(?:[T\s]\d\d:\d\d(?::\d\d)?)?)(?!\w)", re.IGNORECASE)
_PUBLISHED_LABEL = re.compile(r"(Published|Posted|First published|प्रकाशित|प्रकाशन)", re.IGNORECASE)
_DATELINE_ELEMENTS = lxml.etree.XPath(
    "//*[contains(@class,'date') or contains(@class,'time') or contains(@class,'publish') or contains(@class,'updated')"
    " or contains(@class,'byline') or contains(@class,'dateline') or contains(@class,'posted')"
    " or contains(@id,'date') or contains(@id,'publish')][not(self::script) and not(self::style)]")
_VISIBLE_TEXT = lxml.etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
DATELINE_SCAN = 3000  # characters of page text searched for a dateline when no element is named like one
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HAS_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SHORT_BODY = 200  # characters: a precise-pass body this short triggers the fallbacks
JSONLD_SHARE = 0.8  # …as does one shorter than this share of the page's JSON-LD articleBody
FALLBACK_GAIN = 1.5  # a fallback body replaces the precise one only when this many times as long
STORY_SHARE = 0.75  # the share of a page's paragraph text its one <article> must hold to be read alone


def decode_html(body: bytes, content_type: Optional[str] = None) -> str:
    """Decode page bytes, trusting valid UTF-8 over a wrong charset label."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")  # valid multi-byte UTF-8 is almost never an accident
    except UnicodeDecodeError:
        pass
    declared = http_content_type_encoding(content_type or "") or html_body_declared_encoding(body[:4096])
    if declared and codecs.lookup(declared).name not in ("utf-8",):
        try:
            return body.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass
    best = charset_normalizer.from_bytes(body[:200000]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace")
    return body.decode("cp1252", errors="replace")


def parse_datetime(value: Any) -> Optional[str]:
    """Read a date-time string (ISO, RFC 822 or free text) into ISO-8601 with its offset; IST if none.

    A date without a time ("2022-11-30", "30 नवंबर 2022") becomes noon IST on that day, so the day is the
    same in IST and in UTC wherever it is shown (midnight IST would be the previous day in UTC).
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    parsed: Optional[datetime] = None
    date_only = bool(DATE_ONLY.match(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            # dateparser reads IST as Israel time: strip it, Asia/Kolkata is the default anyway.
            cleaned = re.sub(r"\b(IST|Updated:?|Published:?|अपडेटेड:?)\s*", " ", text).strip()
            date_only = not HAS_TIME.search(cleaned)
            parsed = dateparser.parse(cleaned, languages=["hi", "en"], settings={
                "TIMEZONE": "Asia/Kolkata", "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "past"})
    if parsed is None:
        return None
    if date_only:
        return datetime.combine(parsed.date(), time(12, 0), tzinfo=IST).isoformat()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=IST)
    return parsed.isoformat()


def dateline(tree) -> Optional[str]:
    """The publication time a page shows in its text ("Updated: Nov 30, 2022, 19:30 IST", "30 नवंबर 2022").

    Looked for in elements named like a dateline or byline, then in the first part of the page text; a
    date labelled "Published"/"प्रकाशित" wins over one labelled "Updated"/"अपडेटेड", else the first.
    """
    texts = [" ".join(el.itertext()) for el in _DATELINE_ELEMENTS(tree)]
    texts.append(" ".join(_VISIBLE_TEXT(tree))[:DATELINE_SCAN])
    for text in texts:
        text = nfc(" ".join(text.split())).translate(DIGITS)
        found = list(_DATELINE.finditer(text))
        if not found:
            continue
        labelled = [m for m in found if _PUBLISHED_LABEL.search(text[max(0, m.start() - 30):m.start()])]
        for match in labelled + found:
            parsed = parse_datetime(match.group(0))
            if parsed:
                return parsed
    return None


def htmldate_published(tree) -> Optional[str]:
    """htmldate's search (URL, headers, text patterns): the last resort, a day only (noon IST)."""
    from htmldate import find_date

    try:
        found = find_date(copy.deepcopy(tree), extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
    except (ValueError, TypeError):
        return None
    return parse_datetime(found) if found else None


def _json_ld_objects(tree) -> Iterator[dict]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text_content() or "")
        except ValueError:
            continue  # broken JSON-LD is common; the meta tags are the fallback
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                stack.extend(item.get("@graph") or [])
                yield item


def _is_article(obj: dict) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(k in ARTICLE_TYPES for k in kinds if isinstance(k, str))


def _author_name(value: Any) -> Optional[str]:
    if isinstance(value, list):
        names = [_author_name(v) for v in value]
        return ", ".join(n for n in names if n) or None
    if isinstance(value, dict):
        value = value.get("name")
    return nfc(value).strip() or None if isinstance(value, str) else None


_META_TAGS = lxml.etree.XPath("//meta[@content]")


def meta_tags(tree) -> dict[str, str]:
    """Every <meta> tag's content by its property, name or itemprop (the first non-empty one wins)."""
    tags: dict[str, str] = {}
    for element in _META_TAGS(tree):
        content = element.get("content", "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = element.get(attr)
            if key and key not in tags:
                tags[key] = content
    return tags


def _meta(tags: dict[str, str], *keys: str) -> Optional[str]:
    return next((tags[key] for key in keys if key in tags), None)


def strip_site_suffix(title: str, site_name: Optional[str]) -> str:
    """Drop " | Site Name" style suffixes (and prefixes) from an og:title or <title>."""
    for sep in TITLE_SEPARATORS:
        if sep not in title:
            continue
        parts = [p.strip() for p in title.split(sep)]
        if site_name and parts[-1].casefold() == site_name.casefold():
            return sep.join(parts[:-1])
        if site_name and parts[0].casefold() == site_name.casefold():
            return sep.join(parts[1:])
        if len(parts[-1].split()) <= 4 and len(parts[-1]) < len(sep.join(parts[:-1])):
            return sep.join(parts[:-1])
    return title


def json_ld_article(tree) -> dict:
    """The page's JSON-LD NewsArticle (or Article, BlogPosting…) object, or {}."""
    return next((o for o in _json_ld_objects(tree) if _is_article(o)), {})


def read_metadata(tree, hint_published: Optional[str] = None) -> dict[str, Optional[str]]:
    """Headline, published time, author, canonical link and the JSON-LD body, from JSON-LD, meta tags and <time>."""
    article = json_ld_article(tree)
    tags = meta_tags(tree)
    site_name = _meta(tags, "og:site_name")
    headline = article.get("headline") if isinstance(article.get("headline"), str) else None
    if not headline:
        h1 = tree.xpath("//article//h1 | //h1")
        headline = h1[0].text_content().strip() if h1 else None
    if not headline:
        og = _meta(tags, "og:title", "twitter:title")
        head = tree.xpath("//title")
        raw = og or (head[0].text_content().strip() if head else "")
        headline = strip_site_suffix(raw, site_name) if raw else None
    # Structured data first, then the dateline the page shows, then the listing's date, then htmldate.
    published = (parse_datetime(article.get("datePublished"))
                 or parse_datetime(_meta(tags, "article:published_time", "datePublished", "publish-date", "pubdate"))
                 or parse_datetime(next(iter(tree.xpath("//time/@datetime")), None))
                 or dateline(tree)
                 or parse_datetime(hint_published)
                 or htmldate_published(tree))
    author = _author_name(article.get("author")) or _author_name(_meta(tags, "author", "article:author"))
    canonical = next(iter(tree.xpath("//link[@rel='canonical']/@href")), None)
    return {"title": nfc(" ".join((headline or "").split())), "published": published, "author": author,
            "canonical": canonical, "site_name": site_name, "jsonld_body": jsonld_body(article)}


def _paragraph_chars(element) -> int:
    return sum(len(p.text_content()) for p in element.iter("p"))


def prune_boilerplate(tree) -> int:
    """Remove related-links, share, newsletter and paywall boxes in place; return how many were removed.

    Whole class/id tokens only; <html>, <body>, <main> and <article> are never removed, nor is an element
    that holds most of the page's paragraph text (a template that wraps the story in a "share" box).
    """
    candidates = {value.getparent() for value in _CLASS_AND_ID(tree) if _BOILERPLATE_TOKEN.search(value)}
    candidates |= set(tree.iter("aside", "nav"))
    candidates = [el for el in candidates if isinstance(el.tag, str) and el.tag not in NEVER_PRUNED]
    total: Optional[int] = None  # the page's paragraph text, counted only when a box holds much text
    removed = 0
    for element in candidates:
        if element.getparent() is None:
            continue  # already gone with an ancestor
        own = _paragraph_chars(element)
        if own > SMALL_BOX:
            total = total if total is not None else _paragraph_chars(tree)
            if own > total / 2:
                continue  # it holds the story
        element.drop_tree()
        removed += 1
    return removed


def clean_lines(text: str, title: Optional[str] = None) -> str:
    """Body lines without "also read" links, reprint/copyright/sign-up notices, or a repeated headline on top."""
    lines = [line.strip() for line in nfc(text).splitlines()]
    lines = [line for line in lines if line and not READ_ALSO.match(line) and not NOT_STORY_LINE.match(line)]
    if lines and title and " ".join(lines[0].split()).casefold() == " ".join(title.split()).casefold():
        lines = lines[1:]  # the headline is the title field, not the body's first paragraph
    return "\n".join(lines)


def story_only(tree):
    """The page cut down to its one <article> when that holds nearly all the page's paragraph text, else the page.

    trafilatura copies and walks the whole page several times: given the story alone it finds the same body
    sooner (real pages: 45 % take this path, median extraction 7.7 -> 6.1 ms, F1 unchanged). Only <article>
    says "this is the story"; the deepest <div> holding most of the text cost recall on the real pages.
    """
    articles = list(tree.iter("article"))
    if len(articles) != 1:
        return tree  # a listing, a live blog, or no story container at all
    own = _paragraph_chars(articles[0])
    if own < SMALL_BOX or own < STORY_SHARE * _paragraph_chars(tree):
        return tree  # the story (or part of it) lives outside the <article>
    page = lxml.html.Element("html")
    lxml.etree.SubElement(page, "body").append(articles[0])  # moved: extract_body does not read the tree again
    return page


# Made once: an Extractor reads trafilatura's settings on creation, nine config lookups a call otherwise. The
# precise pass favours precision and skips trafilatura's readability/justext comparison (fast) and its own recall
# retries, since the recall pass runs when it finds too little: on the real pages, F1 0.963 -> 0.966 and 0.1 ms a
# page less than the balanced setting. Neither pass keeps links, so the page's URL does not change what they find.
_PASSES = {precise: Extractor(fast=precise, precision=precise, recall=not precise, comments=False, tables=False,
                              dedup=False) for precise in (True, False)}


def _trafilatura(tree, precise: bool) -> str:
    return trafilatura.extract(tree, options=_PASSES[precise]) or ""


def jsonld_body(article: dict) -> str:
    """The articleBody (or text) a JSON-LD NewsArticle object declares, as plain text."""
    body = article.get("articleBody") or article.get("text")
    if not isinstance(body, str) or not body.strip():
        return ""
    if "<" in body:  # some publishers put HTML in articleBody
        try:
            paragraphs = lxml.html.fragment_fromstring(body, create_parent="div").xpath(".//text()")
            body = "\n".join(p for p in paragraphs if p.strip())
        except (lxml.etree.ParserError, ValueError):
            pass
    return body


def extract_body(tree, title: Optional[str] = None, html: Optional[str] = None,
                 declared: Optional[str] = None) -> tuple[str, str]:
    """The article body as plain text and the path that produced it: "precise", "recall" or "json-ld".

    Rule: the precise pass (boilerplate pruned, trafilatura without its slower comparison pass, on the story's
    own <article> when that holds it: story_only) is kept unless it is shorter than SHORT_BODY characters or
    than JSONLD_SHARE of the page's own JSON-LD articleBody. Then trafilatura's recall pass (on the unpruned
    page) and the JSON-LD body are candidates too, and one replaces the body only when at least FALLBACK_GAIN
    times as long (a longer text with the same story mostly means boilerplate came along). The tree is pruned
    in place; `html` (the page as text) rebuilds the unpruned page for the recall pass; `declared` is the
    JSON-LD body when the caller has already read it (read_metadata does).
    """
    declared = clean_lines(jsonld_body(json_ld_article(tree)) if declared is None else declared, title)
    pristine = None if html is not None else copy.deepcopy(tree)
    # What is never the story goes first (in C): every later pass, ours and trafilatura's, runs on less.
    lxml.etree.strip_elements(tree, *NEVER_TEXT, lxml.etree.Comment, with_tail=False)
    prune_boilerplate(tree)
    best, path = clean_lines(_trafilatura(story_only(tree), precise=True), title), "precise"
    if len(best) < SHORT_BODY or len(best) < JSONLD_SHARE * len(declared):
        unpruned = pristine if pristine is not None else lxml.html.fromstring(html)
        for candidate, name in ((clean_lines(_trafilatura(unpruned, precise=False), title), "recall"),
                                (declared, "json-ld")):
            if len(candidate) > FALLBACK_GAIN * len(best):
                best, path = candidate, name
    if declared and " ".join(best.split()) == " ".join(declared.split()):
        path = "json-ld"  # trafilatura itself fell back on the page's JSON-LD
    return best, path


def extract_page(body: bytes, url: Optional[str], content_type: Optional[str] = None,
                 hint_published: Optional[str] = None, hint_title: Optional[str] = None) -> dict[str, Any]:
    """Read one page into article fields; raise ExtractionError when there is no article."""
    if len(body) > MAX_PAGE_BYTES:
        raise ExtractionError(f"page too large ({len(body) // 1024 // 1024} MB > {MAX_PAGE_BYTES // 1024 // 1024} MB)")
    # Control characters are not text (and lxml trees holding them break trafilatura's pass).
    html = _CONTROL_CHARS.sub(" ", decode_html(body, content_type))
    if not html.strip():
        raise ExtractionError("empty page")
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not HTML: {exc}") from None
    meta = read_metadata(tree, hint_published)
    # After the metadata: extract_body prunes the tree.
    text, path = extract_body(tree, meta["title"], html, meta["jsonld_body"])
    if not text:
        raise ExtractionError("no article text found")
    title = meta["title"] or nfc(hint_title or "") or text.split("\n")[0][:200]
    canonical = meta["canonical"]
    if canonical and url:
        canonical = urljoin(url, canonical)
        if urlsplit(canonical).scheme not in ("http", "https"):
            canonical = None
    return {"title": title, "text": text, "published": meta["published"], "author": meta["author"],
            "canonical": canonical, "language": script_language(title + "\n" + text), "extraction": path}
