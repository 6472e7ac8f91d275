"""The SQLite store's search index (index/textindex.py): a folder beside the store file that a search brings up to
date from the store's change log, whichever process wrote the changes."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from index.query import Filters, build_search
from index.store import open_store
from prahari.errors import StoreError
from prahari.model import Article


def _article(n: int, text: str, title: str = "Server report") -> Article:
    article_id = hashlib.sha1(f"index-{n}".encode()).hexdigest()[:16]
    return Article(id=article_id, url=f"https://index.example/{n}", canonical_url=f"https://index.example/{n}",
                   source="index.example", title=f"{title} {n}", language="en", text=text, relevant=True,
                   incident="index", story_id=article_id, content_hash=article_id)


def _found(store, *words: str) -> dict[str, list[str]]:
    return {word: [a.id for a in store.search(build_search(word), Filters(incident="index"))] for word in words}


def test_a_search_sees_what_another_process_wrote_since_and_nothing_it_replaced(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    reader, writer = open_store(url), open_store(url)  # two connections, as the dashboard and a crawl hold
    try:
        writer.save([], [_article(1, "The ransom note reached the hospital."), _article(2, "Backups were restored.")])
        before = _found(reader, "ransom", "restored", "note")
        # The crawl rewrites article 1 and adds article 3 while the dashboard stays open.
        writer.save([], [_article(1, "Backups restored the e-hospital data."),
                         _article(3, "The ransom demand was restored to the record.")])
        after = _found(reader, "ransom", "restored", "note")
        assert (tmp_path / "store.db.search" / "state.json").exists()
        logged = writer.db.execute("SELECT COUNT(*) FROM text_changes").fetchone()[0]
        writer.save([], [_article(4, "A later report.")])  # the next write drops what the index holds already
        left = [row[0] for row in writer.db.execute("SELECT key FROM text_changes")]
    finally:
        reader.close()
        writer.close()
    ids = {n: _article(n, "").id for n in (1, 2, 3)}
    assert before == {"ransom": [ids[1]], "restored": [ids[2]], "note": [ids[1]]}
    assert after["note"] == [] and after["ransom"] == [ids[3]]
    assert sorted(after["restored"]) == sorted([ids[1], ids[2], ids[3]])
    assert logged == 2 and len(left) == 1  # the rewrite and article 3; then article 4 alone


def test_a_lost_or_damaged_index_is_built_again_with_the_same_answers(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    store = open_store(url)
    try:
        store.save([], [_article(n, f"ransom {'demand ' * n}and servers", title="Ransom" if n % 3 == 0 else "Report")
                        for n in range(1, 13)])
        first = _found(store, "ransom", '"ransom demand"', "serv*", "ransom NOT report")
        folder = tmp_path / "store.db.search"
        (folder / "state.json").write_text("{not json", encoding="utf-8")
        damaged = _found(open_store(url), "ransom", '"ransom demand"', "serv*", "ransom NOT report")
        shutil.rmtree(folder)
        lost = _found(open_store(url), "ransom", '"ransom demand"', "serv*", "ransom NOT report")
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    finally:
        store.close()
    assert first == damaged == lost
    assert len(first["ransom"]) == 12 and first["serv*"] and len(first["ransom NOT report"]) == 4
    assert state["seq"] >= 12


def test_something_in_the_index_folders_place_is_one_clear_error(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    store = open_store(url)
    try:
        store.save([], [_article(1, "The ransom note.")])
        (tmp_path / "store.db.search").write_text("not a folder", encoding="utf-8")
        with pytest.raises(StoreError, match=r"store\.db\.search"):
            store.search(build_search("ransom"), Filters())
        # Filtering and counting never touch the search index.
        assert store.count_articles(Filters(incident="index")) == 1
    finally:
        store.close()


def test_bulk_mode_searches_without_the_index_and_it_catches_up_after(tmp_path):
    # Bulk mode holds writes that may still be undone: the index must never take them in before they are committed.
    url = f"sqlite:///{tmp_path}/store.db"
    store = open_store(url)
    try:
        with store.bulk():
            store.save([], [_article(1, "The ransom note.")])
            during = _found(store, "ransom")
            indexed_during = (tmp_path / "store.db.search" / "state.json").exists()
        after = _found(store, "ransom")
        state = json.loads((tmp_path / "store.db.search" / "state.json").read_text(encoding="utf-8"))
    finally:
        store.close()
    assert during == after == {"ransom": [_article(1, "").id]}
    assert not indexed_during and state["seq"] == 1


def test_reindex_leaves_its_copy_searchable_without_a_build_at_the_first_search(tmp_path, capsys):
    from prahari.app.cli import main

    source, target = f"sqlite:///{tmp_path}/source.db", f"sqlite:///{tmp_path}/target.db"
    store = open_store(source)
    try:
        store.save([], [_article(n, f"ransom note {n}") for n in range(1, 6)])
        expected = _found(store, "ransom")
    finally:
        store.close()
    assert main(["reindex", "--from", source, "--to", target]) == 0
    assert "making the copy searchable" in capsys.readouterr().err
    state = json.loads((tmp_path / "target.db.search" / "state.json").read_text(encoding="utf-8"))
    copy = open_store(target, create=False)
    try:
        head = copy.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'text_changes'").fetchone()[0]
        assert state["seq"] == head == 5 and _found(copy, "ransom") == expected
    finally:
        copy.close()
