# Prahari: make install · make demo · make test (lint first) · make bench · make lint
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test bench bench-scale lint clean

install: $(STAMP)

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@# An editable install leaves our modules uncompiled, and every crawl starts two more Pythons.
	$(BIN)/python -m compileall -q prahari crawlers nlp index dashboard >/dev/null
	touch $(STAMP)

# The demo keeps its own store under the repository; every other command uses the per-user store.
demo: install
	$(BIN)/prahari demo --store sqlite:///data/demo.db $(DEMO_ARGS)

# The browser tests use Debian's chromium with Noto fonts (Devanagari). As root (CI) they are installed
# here; otherwise the one command to run is printed, and the browser tests fail under CI=true without them.
browser:
	@if dpkg -s chromium fonts-noto-core >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core; \
	else echo "browser tests need: sudo apt-get install -y chromium fonts-noto-core"; fi

# The Elasticsearch tests use $$PRAHARI_TEST_ES_URL, or a node this target starts (scripts/elasticsearch.sh,
# from Maven Central, cached) on 127.0.0.1:$(TEST_ES_PORT) with an empty data directory, and stops afterwards,
# pass or fail.
TEST_ES_PORT ?= 9277
test: install browser lint
	@if [ -n "$$PRAHARI_TEST_ES_URL" ]; then $(BIN)/python -m pytest -q tests; else \
	  ES_PORT=$(TEST_ES_PORT) ES_FRESH=1 scripts/elasticsearch.sh start || exit 1; \
	  PRAHARI_TEST_ES_URL=http://127.0.0.1:$(TEST_ES_PORT) $(BIN)/python -m pytest -q tests; rc=$$?; \
	  ES_PORT=$(TEST_ES_PORT) scripts/elasticsearch.sh stop; exit $$rc; fi

# The scale lines need an Elasticsearch node: $$PRAHARI_BENCH_ES_URL, or one started here like make test's
# (1 GB heap, its own port and data directory, so a million-article index is kept between runs).
BENCH_ES_PORT ?= 9278
bench: install browser
	@if [ -n "$$PRAHARI_BENCH_ES_URL" ]; then $(BIN)/python -m tests.benchmarks.run_all $(BENCH_ARGS); else \
	  ES_PORT=$(BENCH_ES_PORT) ES_HEAP=1g scripts/elasticsearch.sh start || exit 1; \
	  PRAHARI_BENCH_ES_URL=http://127.0.0.1:$(BENCH_ES_PORT) $(BIN)/python -m tests.benchmarks.run_all $(BENCH_ARGS); \
	  rc=$$?; ES_PORT=$(BENCH_ES_PORT) scripts/elasticsearch.sh stop; exit $$rc; fi

# The million-article run: stores are built once under tests/artifacts/bench and reused.
bench-scale:
	BENCH_ARTICLES=1000000 $(MAKE) bench BENCH_ARGS=--scale-only

lint: install
	$(BIN)/ruff check prahari crawlers nlp index dashboard tests

clean:
	rm -rf $(VENV) data tests/artifacts .pytest_cache
