"""Incident files: bundled ones load; broken ones give exit 2 and one line naming file, key and problem."""

import pytest

from prahari.app.cli import main
from prahari.incident import all_incidents, find_incident

VALID = """id: t
title: T
start: 2022-11-23
relevance:
  all: [[AIIMS], [server]]
sources:
  - {type: feed, url: "https://example.org/rss.xml"}
"""


def test_bundled_incidents_load():
    ids = {i.id for i in all_incidents()}
    assert {"aiims-2022", "aiims-2022-sample"} <= ids
    real = find_incident("aiims-2022")
    assert {s.type for s in real.sources} >= {"feed", "sitemap"}
    assert real.relevance_groups[0][0] == "AIIMS"


@pytest.mark.parametrize("broken, key, problem", [
    (VALID.replace("title: T\n", ""), "title", "missing"),
    (VALID.replace("https://example.org/rss.xml", "ftp://example.org/x"), "sources[0].url", "not an http(s) URL"),
    (VALID.replace("type: feed", "type: telegram"), "sources[0].type", "unknown source type"),
    (VALID.replace("start: 2022-11-23", "start: yesterday"), "start", "not a YYYY-MM-DD date"),
    (VALID.replace("all: [[AIIMS], [server]]", "all: []"), "relevance.all", "keyword groups"),
    ("id: [unclosed\n", "line", "not valid YAML"),
])
def test_broken_incident_file_exits_2_with_one_line(tmp_path, capsys, broken, key, problem):
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    code = main(["update", "--incident", str(path), "--store", f"sqlite:///{tmp_path}/s.db"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert str(path) in err and key in err and problem in err


def test_unknown_incident_id(capsys):
    assert main(["update", "--incident", "no-such-incident"]) == 2
    assert "no such incident" in capsys.readouterr().err
