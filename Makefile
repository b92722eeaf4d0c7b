# Every target creates or refreshes the virtualenv it needs; nothing else must be installed first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PEERS   := tests/peers
NODEMOD := $(PEERS)/node_modules/.installed
SCHEMA  := dashboards/schema-tools
SCHEMOD := $(SCHEMA)/node_modules/.installed

.PHONY: venv peers test lint typecheck unit demo snapshot bench dashboards clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(NODEMOD): $(PEERS)/package.json $(PEERS)/package-lock.json
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODEMOD)

peers: $(NODEMOD)

# Grafana's dashboard JSON schema, generated offline from @grafana/schema's types (tests/dashboards).
$(SCHEMOD): $(SCHEMA)/package.json $(SCHEMA)/package-lock.json
	cd $(SCHEMA) && npm ci --no-audit --no-fund --loglevel=error
	touch $(SCHEMOD)

lint: venv
	$(BIN)/ruff check monitor tests bench dashboards
	$(BIN)/ruff format --check monitor tests bench dashboards

typecheck: venv
	$(BIN)/mypy

unit: venv peers $(SCHEMOD)
	$(BIN)/pytest -q $(PYTEST_ARGS)

## The test command the README gives: lint, strict types, every test (unit, loopback integration, interop).
test: lint typecheck unit

## Offline demo: a simulated loopback network with a hosting overlay (everything marked "simulated").
demo: venv
	$(BIN)/python -m monitor.sim.demo

## A real snapshot of Ethereum mainnet (needs the internet).
snapshot: venv
	$(BIN)/monitor snapshot --out snapshots

bench: venv
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/exporter.py
	$(BIN)/python bench/store.py  # ~29 M rows per backend: minutes and ~8 GB of temporary disk

## Regenerate the Grafana dashboard JSON from dashboards/generate.py
dashboards: venv
	$(BIN)/python dashboards/generate.py

clean:
	rm -rf $(VENV) $(PEERS)/node_modules $(SCHEMA)/node_modules .mypy_cache .pytest_cache .ruff_cache
