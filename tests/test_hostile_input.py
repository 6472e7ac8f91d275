"""Hostile or unlucky input, one test per case of the hostile-input review: nothing lost, nothing hangs,
no traceback, no way in."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
from index.sqlite import sqlite3  # the store's own SQLite: two libraries in one process miss each other's locks
import stat
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard import charts, data
from index.query import parse_query
from index.store import open_store
from prahari.app.cli import main
from prahari.app.lock import update_lock
from prahari.app.sample.site import SampleSite, load_articles
from prahari.errors import QuerySyntaxError, StoreError
from tests.conftest import export_records, marked_processes, write_incident

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
VALID = {"id": "h", "title": "H", "start": "2022-11-23", "relevance": {"all": [["AIIMS", "एम्स"], ["server", "सर्वर"]]}}


STORY = ("<p>The e-Hospital servers of AIIMS Delhi went down on Wednesday morning and stayed down for days.</p>"
         "<p>Registration, billing and laboratory reports were handled by hand at every counter.</p>"
         "<p>Officials said Delhi Police registered a case of extortion and cyber terrorism over the attack.</p>")


def story_page(title: str) -> bytes:
    """A small article page about the attack, with the given (hostile) title."""
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{STORY}</article></body>"
            "</html>").encode("utf-8")


def serve_hostile_page(site: SampleSite, directory: Path, title: str) -> tuple[Path, str]:
    """Serve a story page with this title on the sample site; (an incident listing it, a fresh store URL)."""
    page = story_page(title)
    site.extra_routes["/hostile"] = lambda s, p: (200, {"Content-Type": "text/html"}, page)
    incident = incident_file(directory, [{"type": "urls", "urls": [site.base_url("chronicle") + "/hostile"]}])
    return incident, f"sqlite:///{directory}/s.db"


def incident_file(directory: Path, sources: list, **extra) -> Path:
    path = directory / f"i-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump({**VALID, **extra, "sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture()
def dashboard_app(crawled, monkeypatch, main_module_restored):
    """The dashboard under AppTest over the crawled store; its cached store connection is dropped afterwards,
    so no test after it shares an open SQLite connection (and its POSIX locks) with this process."""
    import gc

    store, _ = crawled
    monkeypatch.setenv("PRAHARI_STORE", store)
    data.check_store.clear()
    yield AppTest.from_file(APP, default_timeout=60)
    data._shared_store.clear()
    gc.collect()


def one_line_error(capsys, code: int, *expect: str) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("prahari: error:"), err
    assert "Traceback" not in err
    for word in expect:
        assert word in err, err
    return err


def run_json_update(incident: Path, store: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["update", "--incident", str(incident), "--store", store, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)[0]


# 1, 20: a malformed link never ends a listing; every page not stored is counted once, with its reason
@pytest.mark.parametrize("kind", ["feed", "sitemap"])
def test_a_malformed_link_does_not_end_the_listing(tmp_path, capsys, kind):
    articles = load_articles()[:3]
    with SampleSite() as site:
        links = [site.article_url(articles[0]), "http://[::1", "http://127.0.0.1:99999/x",
                 site.article_url(articles[1]), site.article_url(articles[2])]
        if kind == "feed":
            body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>" + "".join(
                f"<item><title>t{n}</title><link>{link}</link></item>" for n, link in enumerate(links))
                + "</channel></rss>").encode()
            route = ("/hostile.xml", "application/rss+xml")
        else:
            body = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>" + "".join(
                f"<url><loc>{link}</loc></url>" for link in links) + "</urlset>").encode()
            route = ("/hostile-sitemap.xml", "application/xml")
        site.extra_routes[route[0]] = lambda s, p: (200, {"Content-Type": route[1], "ETag": '"v1"'}, body)
        incident = incident_file(tmp_path, [{"type": kind, "url": site.base_url("chronicle") + route[0]}])
        store = f"sqlite:///{tmp_path}/s.db"
        summary = run_json_update(incident, store, capsys)
        assert summary["stored"] == 3, "the entries after the malformed ones are fetched"
        assert summary["failed"] == {"malformed link in a listing": 2}
        # Not a clean run: the listing's validators are not saved, so nothing is lost to a 304 next time.
        assert open_store(store).listing_validators() == {}


# 2, 17: a URL list with a broken URL is refused at load time, with the file, key and problem
@pytest.mark.parametrize("bad", ["http://[::1", "http://example.org:99999/a"])
def test_a_broken_url_in_a_urls_list_is_refused_before_crawling(tmp_path, capsys, bad):
    incident = incident_file(tmp_path, [{"type": "urls", "urls": ["http://example.org/a", bad]}])
    code = main(["update", "--incident", str(incident), "--store", f"sqlite:///{tmp_path}/s.db"])
    one_line_error(capsys, code, str(incident), "sources[0].urls[1]", "not a valid URL")


# 3: a rel=canonical naming the site root never merges different pages
def test_canonical_to_the_site_root_does_not_merge_pages(tmp_path, capsys):
    with SampleSite() as site:
        texts = ["The AIIMS server outage entered its third day as staff kept paper records for every patient.",
                 "Delhi Police registered a case after the AIIMS server attack, officials said on Friday evening.",
                 "CERT-In and NIC teams examined the AIIMS servers while e-Hospital stayed offline for days."]
        for n, text in enumerate(texts):
            page = (f"<html><head><title>AIIMS server story {n}</title><link rel='canonical' href='/'></head>"
                    f"<body><article><h1>AIIMS server story {n}</h1><p>{text}</p><p>{text}</p></article></body></html>")
            site.extra_routes[f"/story-{n}"] = lambda s, p, page=page: (200, {"Content-Type": "text/html"},
                                                                         page.encode())
        base = site.base_url("chronicle")
        incident = incident_file(tmp_path, [{"type": "urls", "urls": [f"{base}/story-{n}" for n in range(3)]}])
        store = f"sqlite:///{tmp_path}/s.db"
        assert run_json_update(incident, store, capsys)["stored"] == 3
    assert len(export_records(store, capsys, "--include-irrelevant")) == 3


# 4: reprocess never rescores pages of an incident it cannot find
def test_reprocess_of_a_custom_incident_needs_its_file_and_keeps_irrelevant_articles(tmp_path, capsys):
    with SampleSite() as site:
        incident = write_incident(site, tmp_path, "my-own-incident")
        store = f"sqlite:///{tmp_path}/s.db"
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
    before = export_records(store, capsys, "--include-irrelevant")
    one_line_error(capsys, main(["reprocess", "--store", store]), "my-own-incident", "--incident")
    assert main(["reprocess", "--store", store, "--incident", str(incident)]) == 0
    after = export_records(store, capsys, "--include-irrelevant")
    assert sorted((r["id"], r["relevant"]) for r in after) == sorted((r["id"], r["relevant"]) for r in before)
    assert not all(r["relevant"] for r in after)


# 5: export --out onto a FIFO, a symlink or a device writes through, never renames over it
def test_export_writes_through_fifos_symlinks_and_devices(crawled, tmp_path, capsys):
    store, _ = crawled
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert main(["export", "--store", store, "--out", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and received[0].count(b"\n") == 44
    target, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    target.write_text("old", encoding="utf-8")
    link.symlink_to(target)
    assert main(["export", "--store", store, "--out", str(link)]) == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").count("\n") == 44
    capsys.readouterr()
    one_line_error(capsys, main(["export", "--store", store, "--out", "/dev/full"]), "/dev/full", "No space left")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode), "the device is still a device"


# 6: a gzip bomb served as a raw .xml.gz sitemap is cut off
def test_gzip_sitemap_bomb_is_capped(tmp_path, capsys):
    bomb = gzip.compress(b"<urlset>" + b" " * (80 * 1024 * 1024) + b"</urlset>", compresslevel=9)
    with SampleSite() as site:
        site.extra_routes["/bomb.xml.gz"] = lambda s, p: (200, {"Content-Type": "application/octet-stream"}, bomb)
        site.extra_routes["/broken.xml.gz"] = lambda s, p: (200, {"Content-Type": "application/octet-stream"},
                                                             b"\x1f\x8b\x08\x00garbage-not-deflate")
        base = site.base_url("chronicle")
        incident = incident_file(tmp_path, [{"type": "sitemap", "url": f"{base}/bomb.xml.gz"},
                                            {"type": "sitemap", "url": f"{base}/broken.xml.gz"}])
        summary = run_json_update(incident, f"sqlite:///{tmp_path}/s.db", capsys)
    assert summary["failed"] == {"gzip sitemap: inflates to more than 50 MB": 1,
                                 "gzip sitemap: damaged gzip data (Error -3 while decompressing data: invalid "
                                 "block type)": 1} or summary["failed_listings"] == 2
    assert summary["failed_listings"] == 2


# 7, 14: YAML aliases, huge files, FIFOs and devices as incident files
def test_incident_files_that_would_hang_or_explode(tmp_path, capsys):
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nid: *c\n", encoding="utf-8")
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (2 * 1024 * 1024), encoding="utf-8")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    store = f"sqlite:///{tmp_path}/s.db"
    for path, problem in ((laughs, "aliases"), (huge, "larger than"), (fifo, "not a regular file"),
                          (Path("/dev/zero"), "not a regular file")):
        one_line_error(capsys, main(["update", "--incident", str(path), "--store", store]), problem)
    one_line_error(capsys, main(["extract", "/dev/zero"]), "not a regular file")


# 8: control characters in a page title never reach the terminal
def test_control_characters_in_titles_are_not_printed(tmp_path, capsys):
    with SampleSite() as site:
        incident, store = serve_hostile_page(site, tmp_path, "AIIMS server \x1b]0;pwned\x07 attack \x1b[2J")
        capsys.readouterr()
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
        assert main(["search", "AIIMS", "--store", store]) == 0
        assert main(["timeline", "--store", store]) == 0
    out = capsys.readouterr()
    assert "pwned" in out.out and "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err


# 9: the search box's text is shown as text: no links, images or HTML from a shared URL
def test_dashboard_never_renders_markdown_from_the_query(dashboard_app):
    app = dashboard_app
    app.query_params["q"] = "ransom [Session expired, log in](http://evil.example/login) ![t](http://evil.example/t.png)"
    app.run()
    assert not app.exception
    shown = "\n".join(m.value for m in [*app.markdown, *app.info, *app.caption])
    assert "](http" not in shown.replace("\\](", "").replace("\\]\\(", ""), shown
    assert "\\[Session expired" in shown


def test_the_day_chart_escapes_its_labels_and_links():
    span = (date(2022, 11, 25), date(2022, 11, 26))
    drawn = charts.report_bars([{"day": "2022-11-25", "language": "<img src=x onerror=alert(1)>", "count": 2},
                                {"day": "2022-11-25", "language": "hi", "count": 1}], span,
                               lambda day: f"?q=x' onmouseover='alert(1)&since={day}")
    assert "<img" not in drawn and "&lt;img src=x onerror=alert(1)&gt;" in drawn
    assert "x' onmouseover" not in drawn and "x&#x27; onmouseover" in drawn


@pytest.mark.parametrize("q", ["(" * 40 + "ransom" + ")" * 40, "(" * 1000 + "a" + ")" * 1000, "ransom\x00 AND (",
                               '"unclosed'])
def test_dashboard_hostile_queries_give_a_message_not_a_traceback(dashboard_app, q):
    app = dashboard_app
    app.query_params["q"] = q
    app.run()
    assert not app.exception, app.exception
    assert app.warning or any("articles match" in m.value for m in app.markdown)


# 10: a redirect into the cloud metadata address (or any private network) is refused and counted
def test_redirect_to_a_private_address_is_refused(tmp_path, capsys):
    with SampleSite() as site:
        site.extra_routes["/moved"] = lambda s, p: (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
        incident = incident_file(tmp_path, [{"type": "urls", "urls": [site.base_url("chronicle") + "/moved"]}])
        summary = run_json_update(incident, f"sqlite:///{tmp_path}/s.db", capsys)
    assert summary["failed"] == {"refused: 169.254.169.254 is a private, loopback or link-local address": 1}


# 12: a start or end with a time of day is read as that day
def test_incident_dates_with_a_time_do_not_hang(tmp_path, capsys):
    with SampleSite() as site:
        first = site.article_url(site.articles[0])
        path = tmp_path / "timed.yaml"
        path.write_text(yaml.safe_dump({**VALID, "sources": [{"type": "urls", "urls": [first]}]}).replace(
            "start: '2022-11-23'", "start: 2022-11-20 10:00:00\nend: 2022-12-31 23:00:00"), encoding="utf-8")
        assert run_json_update(path, f"sqlite:///{tmp_path}/s.db", capsys)["stored"] == 1


# 13: stopping update stops its whole process tree, promptly
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_update_leaves_no_process_behind(tmp_path, how):
    mark = f"PRAHARI_TEST_MARK_{uuid.uuid4().hex}"
    with SampleSite(article_delay=0.3) as site:
        incident = write_incident(site, tmp_path)
        update = subprocess.Popen([sys.executable, "-m", "prahari.app.cli", "update", "--incident", str(incident),
                                   "--store", f"sqlite:///{tmp_path}/s.db"], env={**os.environ, mark: "1"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(marked_processes(mark)) < 3 and time.monotonic() < deadline:  # update, crawl child, worker
            time.sleep(0.2)
        assert len(marked_processes(mark)) >= 3
        update.send_signal(how)
        update.wait(timeout=15)
        deadline = time.monotonic() + 10
        while marked_processes(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marked_processes(mark) == [], "no crawl child or worker outlives update"
    if how == signal.SIGTERM:
        assert "interrupted; everything stored so far is kept" in update.stderr.read()


# 15: hostile search syntax: one line, never an engine's parser error
@pytest.mark.parametrize("text", ["(" * 40 + "a" + ")" * 40, "(" * 1000 + "a" + ")" * 1000, "ran\x00som AND (",
                                  "a " * 600, '"' * 3])
def test_hostile_queries_give_one_query_error(text):
    with pytest.raises(QuerySyntaxError):
        parse_query(text)


def test_nul_byte_in_a_query_is_a_space(crawled, capsys):
    store, _ = crawled
    assert main(["search", "ransom\x00", "--store", store, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)


# 16: control characters in an XLSX cell and in the Atom digest
def test_xlsx_and_atom_with_control_characters(tmp_path, capsys):
    with SampleSite() as site:
        incident, store = serve_hostile_page(site, tmp_path, "AIIMS server \x01 attack \x0b report")
        assert main(["update", "--incident", str(incident), "--store", store]) == 0
    out = tmp_path / "x.xlsx"
    assert main(["export", "--format", "xlsx", "--out", str(out), "--store", store]) == 0
    assert not list(tmp_path.glob("*.partial"))
    sheet = openpyxl.load_workbook(out).active
    assert "AIIMS server" in str(sheet.cell(row=2, column=5).value)
    capsys.readouterr()
    assert main(["digest", "--since", "2000-01-01", "--format", "atom", "--store", store]) == 0
    ET.fromstring(capsys.readouterr().out.encode("utf-8"))  # well-formed


# 17: bad values on the command line and in files: exit 2, one line
@pytest.mark.parametrize("argv, expect", [
    (["search", "x", "--store", "http://"], "no host"),
    (["search", "x", "--store", "http://h:99999"], "not a valid Elasticsearch URL"),
    (["search", "x", "--store", "http://127.0.0.1:9/UPPER"], "index prefix"),
    (["search", "x", "--store", "http://127.0.0.1:9/*"], "index prefix"),
])
def test_bad_store_urls(capsys, argv, expect):
    one_line_error(capsys, main(argv), expect)


@pytest.mark.parametrize("argv", [["search", "x", "--limit", "99999999999999999999"],
                                  ["digest", "--days", "999999999"], ["dashboard", "--port", "99999"]])
def test_numbers_out_of_range_are_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and "expected a whole number from" in capsys.readouterr().err


def test_impossible_start_date(tmp_path, capsys):
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump({**VALID, "sources": [{"type": "urls", "urls": ["http://example.org/a"]}]})
                    .replace("start: '2022-11-23'", "start: 2022-13-45"), encoding="utf-8")
    one_line_error(capsys, main(["update", "--incident", str(path), "--store", f"sqlite:///{tmp_path}/s.db"]),
                   str(path))


def test_foreign_and_damaged_stores(crawled, tmp_path, capsys):
    store, _ = crawled
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', 'banana')")
    one_line_error(capsys, main(["search", "x", "--store", f"sqlite:///{foreign}"]), "not a Prahari store")
    damaged = tmp_path / "damaged.db"
    shutil.copy(store[len("sqlite:///"):], damaged)
    size = damaged.stat().st_size
    with open(damaged, "r+b") as handle:  # garbage over the second half of the file
        handle.seek(size // 2)
        handle.write(os.urandom(size - size // 2))
    code = main(["export", "--store", f"sqlite:///{damaged}", "--include-irrelevant"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("prahari: error:") and len(err.splitlines()) == 1, err


def test_stdout_on_a_full_disk(crawled, tmp_path):
    store, _ = crawled
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "prahari.app.cli", "timeline", "--store", store], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["prahari: error: cannot write the output: No space left on device"]


# 18: one update per store, however the store is named
def test_update_lock_follows_the_real_file_through_a_symlink(crawled, tmp_path, capsys):
    store, incident = crawled
    link = tmp_path / "alias.db"
    link.symlink_to(store[len("sqlite:///"):])
    held = open_store(f"sqlite:///{link}")
    identity = held.identity()
    held.close()
    with update_lock(identity, f"sqlite:///{link}"):
        one_line_error(capsys, main(["update", "--incident", str(incident), "--store", store]),
                       "another update is already running")


def test_one_elasticsearch_store_has_one_identity():
    from tests.test_store_contract import es_node

    node = es_node()
    port = node.rsplit(":", 1)[1]
    prefix = f"id{uuid.uuid4().hex[:8]}"
    spellings = [f"http://127.0.0.1:{port}/{prefix}", f"http://localhost:{port}/{prefix}/"]
    identities = set()
    for url in spellings:
        store = open_store(url)
        identities.add(store.identity())
        store.close()
    assert len(identities) == 1


# 19: read commands never create or change a store that is not ours
def test_read_commands_leave_foreign_files_and_typos_alone(tmp_path, capsys):
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    before = foreign.read_bytes()
    one_line_error(capsys, main(["search", "x", "--store", f"sqlite:///{foreign}"]), "not a Prahari store")
    assert foreign.read_bytes() == before and not Path(f"{foreign}-wal").exists()
    typo = tmp_path / "no" / "such" / "folder" / "store.db"
    one_line_error(capsys, main(["timeline", "--store", f"sqlite:///{typo}"]), "no store at")
    assert not (tmp_path / "no").exists()


# 20: redirect loops, robots.txt refusals and failed feeds are counted once, with their reason
def test_every_page_not_stored_is_counted_once_with_why(tmp_path, capsys):
    with SampleSite() as site:
        site.extra_routes["/loop"] = lambda s, p: (302, {"Location": "/loop"}, b"")
        site.extra_routes["/down.xml"] = lambda s, p: (500, {"Content-Type": "text/plain"}, b"down")
        base = site.base_url("chronicle")
        incident = incident_file(tmp_path, [{"type": "urls", "urls": [f"{base}/loop", f"{base}/private/x"]},
                                            {"type": "feed", "url": f"{base}/down.xml"}])
        summary = run_json_update(incident, f"sqlite:///{tmp_path}/s.db", capsys)
    assert summary["failed"] == {"max redirections reached": 1, "Forbidden by robots.txt": 1, "HTTP 500": 1}
    assert summary["failed_pages"] == 2 and summary["failed_listings"] == 1


# 21: keyword groups and dates that make no sense
@pytest.mark.parametrize("relevance, extra, key", [
    ({"all": [["AIIMS", ["nested"]]]}, {}, "relevance.all[0]"),
    ({"all": [["AIIMS", {"a": 1}]]}, {}, "relevance.all[0]"),
    ({"all": [["AIIMS", None]]}, {}, "relevance.all[0]"),
    ({"all": [["AIIMS", ""]]}, {}, "relevance.all[0]"),
    ({"all": [["AIIMS"]]}, {"end": "2022-11-01"}, "end"),
])
def test_nonsense_keyword_groups_and_dates(tmp_path, capsys, relevance, extra, key):
    path = incident_file(tmp_path, [{"type": "urls", "urls": ["http://example.org/a"]}], relevance=relevance, **extra)
    one_line_error(capsys, main(["update", "--incident", str(path), "--store", f"sqlite:///{tmp_path}/s.db"]),
                   str(path), key)


# 22: a node that never answers is reported in seconds
def test_an_elasticsearch_node_that_never_answers(capsys):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    port = silent.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot reach Elasticsearch"):
            open_store(f"http://127.0.0.1:{port}")
        assert time.monotonic() - started < 20
    finally:
        silent.close()
