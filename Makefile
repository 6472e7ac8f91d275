# Prahari: make install · make demo · make test · make bench · make lint
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench lint clean

install: $(STAMP)

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/prahari demo $(DEMO_ARGS)

test: install
	$(BIN)/python -m pytest -q tests

bench: install
	$(BIN)/python -m tests.benchmarks.run_all

lint: install
	$(BIN)/ruff check prahari crawlers nlp index tests

clean:
	rm -rf $(VENV) data tests/artifacts .pytest_cache
