"""Extraction and dedup details: metadata order, title suffixes, charsets, canonical URLs, near-duplicates."""

import hashlib

import lxml.html
import numpy as np

from nlp.dedup import NUM_PERM, canonical_url, content_hash, jaccard, minhash_signature
from nlp.extract import decode_html, parse_datetime, read_metadata, strip_site_suffix


def meta(html: str, hint=None):
    return read_metadata(lxml.html.fromstring(html), hint)


def test_metadata_order_jsonld_then_meta_then_time_then_hint():
    jsonld = '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2022-11-28T13:15:00+05:30"}</script>'
    og = '<meta property="article:published_time" content="2022-11-29T10:00:00+05:30">'
    time_tag = '<time datetime="2022-11-30T09:00:00+05:30">x</time>'
    assert meta(f"<html><head>{jsonld}{og}</head><body>{time_tag}</body></html>")["published"] == "2022-11-28T13:15:00+05:30"
    assert meta(f"<html><head>{og}</head><body>{time_tag}</body></html>")["published"] == "2022-11-29T10:00:00+05:30"
    assert meta(f"<html><body>{time_tag}</body></html>")["published"] == "2022-11-30T09:00:00+05:30"
    assert meta("<html><body><p>x</p></body></html>", "Wed, 23 Nov 2022 13:30:00 +0000")["published"] == "2022-11-23T13:30:00+00:00"


def test_broken_jsonld_falls_back_and_graph_is_read():
    broken = '<script type="application/ld+json">{"@type": "NewsArticle", </script><meta property="og:title" content="AIIMS servers down | Site">'
    assert meta(f"<html><head>{broken}</head></html>")["title"] == "AIIMS servers down"
    graph = ('<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":["NewsArticle"],'
             '"headline":"H","author":[{"name":"प्रिया वर्मा"}]}]}</script>')
    found = meta(f"<html><head>{graph}</head></html>")
    assert found["title"] == "H" and found["author"] == "प्रिया वर्मा"


def test_ist_is_india_not_israel_and_naive_times_are_ist():
    assert parse_datetime("Nov 30 2022 2:37PM IST") == "2022-11-30T14:37:00+05:30"
    assert parse_datetime("2022-11-30T14:37:00") == "2022-11-30T14:37:00+05:30"
    assert parse_datetime("not a date at all") is None


def test_site_suffix_is_stripped():
    assert strip_site_suffix("AIIMS servers down | Delhi Chronicle", "Delhi Chronicle") == "AIIMS servers down"
    assert strip_site_suffix("एम्स का सर्वर ठप - प्रहरी समाचार", None) == "एम्स का सर्वर ठप"
    assert strip_site_suffix("A - B story about servers and hackers", None) == "A - B story about servers and hackers"


def test_charsets():
    text = "officials\u2019 \u201cransomware\u201d"
    assert text in decode_html(f"<p>{text}</p>".encode("cp1252"), "text/html; charset=utf-8")
    hindi = "<meta charset='iso-8859-1'><p>एम्स</p>"
    assert "एम्स" in decode_html(hindi.encode("utf-8"), "text/html; charset=iso-8859-1")


def test_canonical_urls():
    assert canonical_url("https://Ex.com/a/b/?utm_source=x&id=2#top") == "https://ex.com/a/b?id=2"
    assert canonical_url("https://ex.com/a/b/amp") == canonical_url("https://ex.com/a/b?amp=1") == "https://ex.com/a/b"
    assert canonical_url("https://amp.ex.com/amp/a/b/") == "https://ex.com/a/b"


def test_near_duplicates_and_hashes():
    text = "Senior officials of the Intelligence Bureau and the NIA met at the Home Ministry on Tuesday to review the attack on AIIMS servers."
    assert content_hash(text) == content_hash("  " + text.upper() + "\n")
    edited = text + " according to the agency report"
    other = "AIIMS opened a new cancer treatment block in Jhajjar on Saturday with two hundred beds for patients."
    assert jaccard(minhash_signature(text), minhash_signature(edited)) > 0.6
    assert jaccard(minhash_signature(text), minhash_signature(other)) < 0.3


def test_signatures_match_the_ones_already_stored():
    """Stores hold signatures datasketch 2 wrote (affine32, seed 7): new ones must equal them, bit for bit."""
    written_by_datasketch = {
        "एम्स दिल्ली के सर्वर पर रैनसमवेयर हमला, दिल्ली पुलिस ने मामला दर्ज किया":
            "27c63684c1ce742595d384b085b0cd78cf6603bb",
        "AIIMS Delhi servers hit by ransomware; Delhi Police register a case": "df299714cc453dee411035d4cdea1dfa23edd8fd",
        "": "bbb50aa7919d0c78a599e7f65b71d4485905b309",
    }
    for text, digest in written_by_datasketch.items():
        signature = minhash_signature(text)
        assert signature.dtype == np.uint64 and len(signature) == NUM_PERM
        assert hashlib.sha1(signature.tobytes()).hexdigest() == digest, text
