"""The installed `prahari` command behaves the same from any folder, by cron, beside a stray scrapy.cfg."""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawlers.runner import CrawlMisconfigured, crawl_settings, run_crawl
from prahari.app.launch import port_in_use
from prahari.app.sample.site import SampleSite, load_articles
from prahari.incident import default_incidents, find_incident, load_incident
from tests.browser import wait_for_dashboard
from tests.conftest import write_incident

REPO = Path(__file__).resolve().parent.parent
PRAHARI = str(Path(sys.executable).with_name("prahari"))  # the console script `make install` put in the venv


def run_prahari(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The installed command, as a user or cron runs it: another folder, a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PRAHARI_", "SCRAPY_"))}
    return subprocess.run([PRAHARI, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 65536:
            continue
        sockets = []
        try:
            for offset in range(count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no run of free ports")


def test_installed_command_exists():
    assert shutil.which(PRAHARI), "make install puts the prahari console script beside the venv's python"


def test_demo_from_another_folder_stores_everything_and_export_reads_it(tmp_path):
    work = tmp_path / "analyst"
    work.mkdir()
    demo = run_prahari("demo", "--no-dashboard", "--store", "sqlite:///demo.db",
                       "--site-port", str(free_port_run(3)), cwd=work)
    assert demo.returncode == 0, demo.stderr
    total = len(load_articles())
    assert f"{total} pages fetched, {total} stored" in demo.stdout
    assert (work / "demo.db").exists(), "a relative sqlite path is relative to the folder the command runs in"
    exported = run_prahari("export", "--store", "sqlite:///demo.db", "--include-irrelevant", cwd=work)
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sorted(r["canonical_url"].rsplit("/news/", 1)[1] for r in records) == sorted(
        a["slug"] for a in load_articles())
    assert "Scrapy" not in demo.stderr and "INFO" not in demo.stderr, "the Scrapy log is off without -v"


def test_update_ignores_a_stray_scrapy_cfg_and_settings_module(tmp_path):
    """A parent folder's scrapy.cfg (and $SCRAPY_SETTINGS_MODULE) naming another project changes nothing."""
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = no_such_project.settings\n", encoding="utf-8")
    work = tmp_path / "cron" / "job"
    work.mkdir(parents=True)
    with SampleSite() as site:
        incident = write_incident(site, tmp_path)
        update = run_prahari("update", "--incident", "../../aiims-2022-sample.yaml", "--store", "sqlite:///s.db",
                             cwd=work, env={"SCRAPY_SETTINGS_MODULE": "no_such_project.settings"})
    assert incident.exists()
    assert update.returncode == 0, update.stderr
    total = len(load_articles())
    assert f"{total} pages fetched, {total} stored" in update.stdout


def test_default_store_is_per_user_not_per_folder(tmp_path):
    home = tmp_path / "home"
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (home, first, second):
        folder.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}
    one, two = run_prahari("info", cwd=first, env=env), run_prahari("info", cwd=second, env=env)
    assert one.returncode == 0, one.stderr
    store_line = next(line for line in one.stdout.splitlines() if line.startswith("store: "))
    assert store_line == next(line for line in two.stdout.splitlines() if line.startswith("store: "))
    assert str(home) in store_line and "not created yet" in one.stdout  # a read command creates nothing
    assert not (home / ".local" / "share" / "prahari" / "prahari.db").exists()


def test_update_refuses_success_when_the_store_pipeline_never_ran(tmp_path):
    with SampleSite() as site:
        incident = load_incident(write_incident(site, tmp_path))
        with pytest.raises(CrawlMisconfigured, match="store pipeline never ran"):
            # As when Scrapy falls back to its defaults: none of our pipelines.
            off = {name: None for name in crawl_settings().getdict("ITEM_PIPELINES")}
            run_crawl(f"sqlite:///{tmp_path}/s.db", incident, overrides={"ITEM_PIPELINES": off, "PRAHARI_WORKERS": 0})


def test_plain_update_never_crawls_the_loopback_sample():
    assert "aiims-2022-sample" not in {i.id for i in default_incidents()}
    assert "aiims-2022" in {i.id for i in default_incidents()}


def test_incident_reference_is_a_file_only_with_yaml_suffix_or_slash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aiims-2022").write_text("not an incident", encoding="utf-8")
    assert find_incident("aiims-2022").id == "aiims-2022"  # a bundled id, whatever lies in this folder


def test_extract_url_fetches_one_page_from_the_sample_site(tmp_path):
    with SampleSite() as site:
        first = site.articles[0]
        result = run_prahari("extract", site.article_url(first), "--format", "json", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"] == first["title"] and record["text"]


def test_sigterm_to_dashboard_frees_its_port_and_a_taken_port_is_one_line(tmp_path, crawled):
    store, _ = crawled
    port = free_port_run(1)
    log = open(tmp_path / "dashboard.log", "w+", encoding="utf-8")
    process = subprocess.Popen([PRAHARI, "dashboard", "--port", str(port), "--store", store], cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_dashboard(f"http://127.0.0.1:{port}", process)
        taken = run_prahari("dashboard", "--port", str(port), "--store", store, cwd=tmp_path, timeout=60)
        assert taken.returncode == 2
        assert taken.stderr.strip().splitlines() == [f"prahari: error: port {port} on 127.0.0.1 is already in use; "
                                                     "pick another with --port"]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while port_in_use(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not port_in_use(port), "no orphan may keep the dashboard port"
        log.seek(0)
        assert "No runtime found" not in log.read(), "Streamlit's start-up warnings stay off without -v"
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


# Imports run one way: the core, then nlp and index, then the services and crawlers, then the CLI and dashboard.
LAYERS = {"prahari.model": 0, "prahari.errors": 0, "prahari.config": 0, "prahari.incident": 0,
          "prahari.highlight": 0, "prahari": 0, "nlp": 1, "index": 2, "prahari.app.ingest": 3, "crawlers": 4,
          "prahari.app": 5, "dashboard": 6}


def _layer(module: str) -> int | None:
    best = None
    for prefix, level in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level)
    return best[1] if best else None


def test_imports_run_one_way():
    wrong = []
    for path in REPO.glob("*/**/*.py"):
        relative = path.relative_to(REPO)
        if relative.parts[0] not in ("prahari", "nlp", "index", "crawlers", "dashboard"):
            continue
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        mine = _layer(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                theirs = _layer(name)
                if theirs is not None and mine is not None and theirs > mine:
                    wrong.append(f"{module} imports {name}")
    assert not wrong, wrong
