"""Property-based tests (Hypothesis, fixed budget and seed) for every parser that takes outside input.

Each property: any input gives a result or one clear error of ours, never another exception. Failing
examples found while writing these are kept below with @example, as regression tests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import string
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from index.export import write_records
from index.query import build_search
from index.store import open_store
from nlp.dates import find_dates
from nlp.extract import ExtractionError, extract_page
from nlp.figures import find_figures
from nlp.normalize import analyse, search_text, search_words
from prahari.errors import IncidentFileError, QuerySyntaxError
from prahari.incident import load_incident
from prahari.model import Article

BUDGET = settings(max_examples=150, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DEVANAGARI = "".join(chr(c) for c in range(0x0900, 0x0980))
BOTH_SCRIPTS = st.text(alphabet=st.sampled_from(string.printable + DEVANAGARI + "₹–—“”\x00\x1b\u200d"), max_size=300)
QUERY_WORDS = st.sampled_from(["AND", "OR", "NOT", "(", ")", '"', "*", "ransom", "फिरौती", "एनआईए", "200", "crore",
                               "-", ":", "NEAR", "^", "{", "}", "\\", "'", "\x00"])


@pytest.fixture(scope="module")
def store(crawled):
    opened = open_store(crawled[0])
    yield opened
    opened.close()


@BUDGET
@given(text=st.one_of(st.text(max_size=200), st.lists(QUERY_WORDS, max_size=30).map(" ".join)))
@example(text="(" * 1000 + "a" + ")" * 1000)
@example(text='"ransom" AND ( NOT')
@example(text="ran\x00som")
def test_any_query_gives_results_or_one_query_error(store, text):
    from index.query import Filters

    try:
        query = build_search(text)
    except QuerySyntaxError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(store.search(query, Filters(), limit=5), list)  # never an FTS5 syntax error


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
              st.dates().map(str)),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(
        st.sampled_from(["id", "title", "start", "end", "relevance", "all", "sources", "type", "url", "urls",
                         "archives", "domains", "languages", "endpoints", "queries", "x"]), children, max_size=5)),
    max_leaves=20)


@BUDGET
@given(document=st.one_of(YAML_VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True)), st.text(max_size=300)))
@example(document="start: 2022-13-45\n")
@example(document="a: &a [x]\nb: *a\n")
@example(document="\x1f")  # found by Hypothesis: PyYAML's message ran over two lines
def test_any_yaml_document_is_an_incident_or_one_file_error(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("incident") / "any.yaml"
    path.write_text(document, encoding="utf-8")
    try:
        incident = load_incident(path)
    except IncidentFileError as exc:
        message = str(exc)
        assert message.startswith(f"{path}:") and "\n" not in message
        return
    assert incident.id and incident.sources


@BUDGET
@given(body=st.one_of(st.binary(max_size=2000), BOTH_SCRIPTS.map(lambda t: f"<html><body><p>{t}</p></body></html>"
                                                                   .encode("utf-8", "surrogatepass"))),
       content_type=st.one_of(st.none(), st.sampled_from(["text/html", "text/html; charset=utf-16",
                                                          "text/html; charset=nonsense", "application/pdf"])))
@example(body=b"\xff\xfe<\x00h\x00", content_type="text/html; charset=utf-16")
def test_any_bytes_are_an_article_or_a_reason(body, content_type):
    try:
        fields = extract_page(body, "http://example.org/a", content_type)
    except ExtractionError as exc:
        assert str(exc)
        return
    assert fields["text"] and fields["language"] in ("hi", "en")


@BUDGET
@given(text=BOTH_SCRIPTS)
@example(text="50 में से 25 सर्वर, ₹२०० करोड़ और 3-4 crore")
@example(text="धारा 66F के तहत 1.3 TB डेटा, Rs 2.5 lakh")
def test_figures_and_dates_in_any_text(text):
    for figure in find_figures(text, "text"):
        assert 0 <= figure.start < figure.end <= len(text)
        for number in (figure.value, figure.low, figure.high, figure.of):
            assert number is None or math.isfinite(number)
    for mention in find_dates(text, "text", date(2022, 11, 30)):
        assert 0 <= mention.start < mention.end <= len(text)
        date.fromisoformat(mention.date)


CELL_TEXT = st.text(alphabet=st.sampled_from(string.printable + DEVANAGARI + "\x00\x01\x0b\x1b=+-@"), max_size=60)


@BUDGET
@given(title=CELL_TEXT, text=CELL_TEXT, author=st.one_of(st.none(), CELL_TEXT))
@example(title="=HYPERLINK(\"http://evil\")", text="\x01\x0b", author="@cmd")
def test_any_article_round_trips_through_every_export(tmp_path_factory, title, text, author):
    article = Article(id="a1", url="http://example.org/a", canonical_url="http://example.org/a",
                      source="example.org", title=title, language="en", text=text, author=author)
    record = article.to_record()
    out = io.StringIO()
    write_records([record], "jsonl", out, Article.EXPORT_FIELDS)
    assert json.loads(out.getvalue()) == record
    out = io.StringIO()
    write_records([record], "csv", out, Article.EXPORT_FIELDS)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    for name, value in (("title", title), ("author", author or "")):
        cell = row[name]
        assert not cell.startswith(("=", "+", "-", "@")), "formula cells are neutralised"
        assert cell.lstrip("'") == value.replace("\r\n", "\n").replace("\r", "\n") or cell.lstrip("'") == value
    path = Path(tmp_path_factory.mktemp("xlsx")) / "a.xlsx"
    with open(path, "wb") as handle:
        write_records([record], "xlsx", handle, Article.EXPORT_FIELDS)
    sheet = openpyxl.load_workbook(path).active
    cell = sheet.cell(row=2, column=Article.EXPORT_FIELDS.index("title") + 1).value or ""
    assert not str(cell).startswith(("=", "+", "-", "@"))


@BUDGET
@given(text=st.text(alphabet=st.sampled_from(string.printable + DEVANAGARI + "₹“”\u00a0\u200d\u0964"), max_size=300))
@example(text="one two.\nthree four\n\nfive\tsix  seven\u00a0eight")
@example(text="")
def test_the_analysed_form_gives_back_the_same_words(text):
    # Stores index search_text(text), and the pipeline hashes the words it gives back: no word may hold a
    # space or be empty, or the hashes of articles built with and without their forms would differ.
    assert search_words(search_text(text)) == analyse(text)


WORD_STARTS = st.text(alphabet=st.sampled_from("ab_ 1-.।" + "एमस्" + "\u093c\u0901"), max_size=60)


@BUDGET
@given(text=WORD_STARTS, term=st.text(alphabet=st.sampled_from("ab_1एमस्"), min_size=1, max_size=4))
@example(text="xab ab_ab abab ab", term="ab")
def test_relevance_counts_a_term_where_a_word_starts_as_a_regex_would(text, term):
    """The relevance counter looks at the character before each find; a look-behind regex is the definition."""
    import re

    from nlp.relevance import _hits

    assert _hits(term, text) == len(re.findall(r"(?<!\w)" + re.escape(term), text))
    assert _hits(term, text, most=1) == (1 if re.search(r"(?<!\w)" + re.escape(term), text) else 0)
