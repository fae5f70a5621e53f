# The README's two commands are `make dev` and `make test`; everything else is a step of them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.keerpunt-installed

.PHONY: setup setup-browser dev test lint unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

# Python packages (and npm packages when the project has a lockfile).
setup: $(STAMP)
	@if [ -f package-lock.json ]; then $(MAKE) --no-print-directory node_modules/.package-lock.json; fi
	@if [ -f widget/package-lock.json ]; then $(MAKE) --no-print-directory -C widget build; fi

# Debian's Chromium for the browser tests (never a downloaded browser).
setup-browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
		else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

# Set-up + run: Synapse (SQLite), the bots and the portal on loopback.
dev: setup
	$(BIN)/keerpunt dev

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Set-up + every test (unit, integration against a real Synapse, browser) + lint.
test: setup setup-browser lint
	$(BIN)/pytest

# Every test that needs neither Synapse nor a browser (tests/unit and tests/core; the markers come from the
# layer a test lives in, see tests/support/plugin.py).
unit: setup
	$(BIN)/pytest -m "not integration and not browser"

bench: setup
	$(BIN)/python -m bench.dev_startup

clean:
	rm -rf $(VENV) node_modules .keerpunt
