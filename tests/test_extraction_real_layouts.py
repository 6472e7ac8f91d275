"""Real publishers' layouts that once came back empty or wrong, each as a small page written here."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import lxml.html
import pytest

from nlp.extract import extract_page, parse_datetime, story_only

STORY_EN = ("The e-Hospital servers of AIIMS Delhi went down on Wednesday morning and stayed down for days. "
            "Registration, billing and laboratory reports at the outpatient department were handled by hand. "
            "Officials said the Delhi Police had registered a case of extortion and cyber terrorism. "
            "Investigators from several agencies were examining the affected servers.")
PARAGRAPHS_EN = [STORY_EN, "Patients waited in long queues as staff wrote out slips by hand at every counter "
                 "of the hospital.", "The institute said the data would be restored on new servers after checks "
                 "by the National Informatics Centre."]
STORY_HI = ("एम्स दिल्ली का सर्वर बुधवार सुबह से ठप है और मरीजों का पंजीकरण हाथ से किया जा रहा है। "
            "दिल्ली पुलिस ने इस मामले में साइबर आतंकवाद का केस दर्ज किया है। "
            "अधिकारियों ने बताया कि कई जांच एजेंसियां सर्वरों की पड़ताल कर रही हैं और डेटा बहाल करने का काम जारी है।")


def page(body: str, head: str = "", body_class: str = "") -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>AIIMS servers down | Daily</title>{head}"
            f"</head><body class='{body_class}'><nav><a href='/'>Home</a> <a href='/india'>India</a></nav>{body}"
            "<footer>© 2022 Daily. All rights reserved.</footer></body></html>").encode("utf-8")


def paragraphs(items: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in items)


def test_share_class_on_body_does_not_prune_the_story():
    html = page(f"<div class='story'><h1>AIIMS servers down</h1>{paragraphs(PARAGRAPHS_EN)}</div>",
                body_class="home f_share_tools_on")
    fields = extract_page(html, "https://daily.example/aiims")
    assert STORY_EN in fields["text"] and fields["extraction"] == "precise"


def test_social_media_tag_class_on_article_does_not_prune_the_story():
    html = page(f"<article class='post type-post tag-social-media tag-aiims'><h1>AIIMS servers down</h1>"
                f"{paragraphs(PARAGRAPHS_EN)}<div class='share-bar'><a href='#'>Share on X</a></div></article>")
    fields = extract_page(html, "https://blog.example/2022/11/aiims")
    assert STORY_EN in fields["text"] and "Share on X" not in fields["text"]


def test_a_story_in_one_article_element_is_read_from_it_alone_and_reads_the_same():
    story = f"<article><h1>AIIMS servers down</h1>{paragraphs(PARAGRAPHS_EN)}</article>"
    outside = "<div class='reader-poll'><p>Did you wait in the OPD queue this week? Tell us in the poll below.</p></div>"
    tree = lxml.html.fromstring(page(story + outside))
    narrowed = story_only(tree)
    assert [el.tag for el in narrowed.iter("article", "nav", "footer")] == ["article"]
    fields = extract_page(page(story + outside), "https://daily.example/aiims")
    assert all(p in fields["text"] for p in PARAGRAPHS_EN) and "poll" not in fields["text"]
    assert fields["extraction"] == "precise"


@pytest.mark.parametrize("layout", ["listing", "story beside the article", "short"])
def test_the_whole_page_is_read_when_its_article_element_is_not_the_story(layout):
    lead, rest = PARAGRAPHS_EN[0], PARAGRAPHS_EN[1:]
    body = {
        # a section page: one <article> per teaser
        "listing": "".join(f"<article><h2>Story {n}</h2><p>{p}</p></article>" for n, p in enumerate(PARAGRAPHS_EN)),
        # a template whose <article> wraps the headline and lead only, the rest of the story after it
        "story beside the article": f"<article><h1>AIIMS servers down</h1><p>{rest[0]}</p></article>"
                                    f"<div class='body'><p>{lead}</p><p>{rest[1]}</p></div>",
        # an <article> too short to be the story
        "short": f"<article><p>Live updates</p></article><div>{paragraphs(PARAGRAPHS_EN)}</div>",
    }[layout]
    tree = lxml.html.fromstring(page(body))
    assert story_only(tree) is tree
    assert STORY_EN in extract_page(page(body), "https://daily.example/aiims")["text"]


def test_article_only_in_jsonld_is_read_from_there():
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "AIIMS servers down",
          "datePublished": "2022-11-24T10:00:00+05:30", "articleBody": "\n".join(PARAGRAPHS_EN)}
    # As on a script-rendered template: the visible page holds a teaser, the story is in the JSON-LD only.
    html = page("<div id='root'><p class='teaser'>What we know so far about the AIIMS outage.</p></div>",
                head=f"<script type='application/ld+json'>{json.dumps(ld)}</script>")
    fields = extract_page(html, "https://app.example/news/aiims")
    assert STORY_EN in fields["text"] and fields["extraction"] == "json-ld"
    assert fields["title"] == "AIIMS servers down"


def test_hindi_dateline_only_page():
    html = page(f"<div class='story'><h1>एम्स का सर्वर ठप</h1><div class='article-meta'>अपडेटेड: ३० नवंबर २०२२, "
                f"०७:३० PM IST</div><p>{STORY_HI}</p><p>{STORY_HI}</p></div>")
    fields = extract_page(html, "https://hindi.example/news/aiims")
    assert fields["published"] == "2022-11-30T19:30:00+05:30" and fields["language"] == "hi"


def test_english_dateline_only_page():
    html = page(f"<div class='story'><h1>AIIMS servers down</h1><p>By Staff Reporter | Updated: Nov 30, 2022, "
                f"19:30 IST</p>{paragraphs(PARAGRAPHS_EN)}</div>")
    assert extract_page(html, "https://daily.example/aiims")["published"] == "2022-11-30T19:30:00+05:30"


def test_published_label_wins_over_updated():
    html = page(f"<div class='story'><h1>AIIMS servers down</h1><p>Published 29 November 2022</p><p>Updated "
                f"December 1, 2022 10:00</p>{paragraphs(PARAGRAPHS_EN)}</div>")
    assert extract_page(html, "https://daily.example/aiims")["published"][:10] == "2022-11-29"


@pytest.mark.parametrize("value", ["2022-11-30", "30 नवंबर 2022", "November 30, 2022"])
def test_a_date_without_time_keeps_its_day_in_ist_and_in_utc(value):
    published = parse_datetime(value)
    assert published == "2022-11-30T12:00:00+05:30"
    assert datetime.fromisoformat(published).astimezone(timezone.utc).date().isoformat() == "2022-11-30"


def test_paywall_reprint_and_copyright_lines_are_not_the_story():
    body = (f"<article><h1>AIIMS servers down</h1>{paragraphs(PARAGRAPHS_EN)}"
            "<div class='paywall'><p>Subscribe now to keep reading our journalism every single day of the week.</p></div>"
            "<p>This copy is for your personal, non-commercial use only. To order presentation-ready copies, "
            "use Order Reprints.</p><p>Copyright © 2022 Daily Media. All rights reserved.</p></article>")
    text = extract_page(page(body), "https://daily.example/aiims")["text"]
    assert STORY_EN in text
    for boilerplate in ("Subscribe now", "non-commercial use", "Copyright"):
        assert boilerplate not in text


def test_headline_is_not_repeated_as_the_first_body_line():
    html = page(f"<article><h1>AIIMS servers down</h1>{paragraphs(PARAGRAPHS_EN)}</article>")
    assert extract_page(html, "https://daily.example/aiims")["text"].splitlines()[0] == STORY_EN


def test_reprocess_reextracts_a_store_built_before_extraction_paths(crawled, tmp_path, capsys):
    """A store from before schema v6 (no extraction column) migrates, searches as before, and reprocess keeps every
    article (and its search results)."""
    import shutil

    # sqlite3 is the store's own SQLite: two libraries in one process miss each other's locks.
    from index.sqlite import FTS_TOKENIZE, id_rowid, sqlite3
    from prahari.app.cli import main
    from tests.conftest import export_records

    store, incident = crawled
    old = tmp_path / "before.db"
    shutil.copy(store[len("sqlite:///"):], old)
    with sqlite3.connect(old) as db:
        db.create_function("id_rowid", 1, id_rowid, deterministic=True)
        db.execute("ALTER TABLE articles DROP COLUMN extraction")
        db.execute("ALTER TABLE articles DROP COLUMN archive")
        db.executescript("""
            CREATE TABLE article_entities_v5 (article_id TEXT, entity_id TEXT, PRIMARY KEY (article_id, entity_id));
            INSERT INTO article_entities_v5 SELECT k.id, ae.entity_id FROM article_entities ae
                JOIN article_keys k ON k.rowid = ae.key;
            DROP TABLE article_entities;
            ALTER TABLE article_entities_v5 RENAME TO article_entities;
            CREATE TABLE article_figures_v5 (article_id TEXT, kind TEXT, value REAL);
            INSERT INTO article_figures_v5 SELECT k.id, x.kind, x.value FROM article_figures x
                JOIN article_keys k ON k.rowid = x.key;
            DROP TABLE article_figures;
            ALTER TABLE article_figures_v5 RENAME TO article_figures;
            CREATE INDEX article_figures_article ON article_figures(article_id);
            CREATE INDEX article_figures_kind ON article_figures(kind, article_id);
            DROP INDEX facts_key;
            ALTER TABLE facts DROP COLUMN key;
            CREATE INDEX facts_cover ON facts(article_id, event_date);
        """)  # side tables found by article id, as schemas 1 to 13 kept them
        for table in ("ledger", "ledger_state", "claims", "events",  # v8, the claim ledger
                      "article_keys", "entity_days", "counts",  # v9, keys and kept counts
                      "text_changes"):  # v15, the search index's change log
            db.execute(f"DROP TABLE {table}")
        db.executescript(f"""
            CREATE INDEX articles_day ON articles(day);
            CREATE INDEX articles_incident ON articles(incident, relevant);
            CREATE INDEX articles_first_seen ON articles(first_seen);
            CREATE INDEX articles_published ON articles(published);
            CREATE INDEX articles_source ON articles(source);
            CREATE INDEX articles_cover ON articles(id, relevant, day, language, incident, source, first_seen);
            CREATE INDEX articles_scan ON articles(relevant, day, language, incident, source, first_seen, id);
            CREATE INDEX article_entities_entity ON article_entities(entity_id);
            CREATE INDEX facts_article ON facts(article_id);
            CREATE VIRTUAL TABLE facts_fts USING fts5(fact_id UNINDEXED, sentence, tokenize="{FTS_TOKENIZE}");
            CREATE VIRTUAL TABLE articles_fts_v5 USING fts5(article_id UNINDEXED, title, text,
                tokenize="{FTS_TOKENIZE}");
            INSERT INTO articles_fts_v5 (rowid, article_id, title, text)
                SELECT id_rowid(article_id), article_id, title, text FROM articles_fts ORDER BY 1;
            DROP TABLE articles_fts;
            ALTER TABLE articles_fts_v5 RENAME TO articles_fts;
        """)  # what v9 dropped, and full-text rowids taken from the article ids, as schemas 2 to 12 kept them
        db.execute("UPDATE meta SET value='5' WHERE key='schema_version'")

    def searched(url: str) -> dict[str, list[str]]:
        from index.query import Filters, build_search
        from index.store import open_store

        opened = open_store(url, create=False)
        try:
            return {q: [a.id for a in opened.search(build_search(q), Filters(include_irrelevant=True), 50)]
                    for q in ('"दिल्ली पुलिस"', "ransom OR फिरौती", "server")}
        finally:
            opened.close()

    before = export_records(store, capsys, "--include-irrelevant")
    before_search = searched(store)
    assert searched(f"sqlite:///{old}") == before_search  # migrated to the current schema on opening
    assert main(["reprocess", "--store", f"sqlite:///{old}", "--incident", str(incident)]) == 0
    after = export_records(f"sqlite:///{old}", capsys, "--include-irrelevant")
    assert searched(f"sqlite:///{old}") == before_search and all(before_search.values())
    assert sorted(r["id"] for r in after) == sorted(r["id"] for r in before)
    assert {r["extraction"] for r in after} <= {"precise", "recall", "json-ld"}
    assert [(r["title"], r["text"], r["published"]) for r in sorted(after, key=lambda r: r["id"])] == [
        (r["title"], r["text"], r["published"]) for r in sorted(before, key=lambda r: r["id"])]
