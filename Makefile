# The README's two commands are `make dev` and `make test`; everything else is a step of them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.keerpunt-installed

.PHONY: setup setup-browser dev test lint unit bench faults clean lock compose-up compose-down compose-test

# Every Python package from the lock file, each checked against its hash (`make lock` updates
# it, see docs/operations.md); then the project itself, without dependencies.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Resolve pyproject.toml's dependencies again into the two lock files (runtime for the image,
# runtime + dev for `make setup`), with the hashes of every file PyPI has for each version.
lock: $(STAMP)
	$(BIN)/pip install --quiet "uv>=0.13,<0.14"
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --upgrade \
		--custom-compile-command "make lock" -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --extra dev \
		-c requirements.lock --custom-compile-command "make lock" -q -o requirements-dev.lock

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

# Set-up + run: Synapse (SQLite), the bots and the portal on loopback. Without a ./keerpunt.yaml,
# dev.yaml (the example with the return code and "write now, answered later" on).
dev: setup
	$(BIN)/keerpunt $(if $(wildcard keerpunt.yaml),,--config dev.yaml) dev

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/keerpunt texts check --summary  # fails only on a missing text; unreviewed ones are listed

# Set-up + every test (unit, integration against a real Synapse, browser) + lint. Test files run
# in TEST_PROCS processes at once (pytest-xdist), each with its own Synapse; a file stays in one
# process, so a file's tests share their bots and keep their order.
TEST_PROCS ?= 2
test: setup setup-browser lint
	$(BIN)/pytest -n $(TEST_PROCS) --dist loadfile

# Every test that needs neither Synapse nor a browser (tests/unit and tests/core; the markers come from the
# layer a test lives in, see tests/support/plugin.py).
unit: setup
	$(BIN)/pytest -m "not integration and not browser"

# compose.yaml on this machine (podman; compose.local.yaml swaps the images that cannot be
# pulled here): builds, starts, waits until healthy, writes .keerpunt-compose.json. As root.
# SCALE=1 adds the scale profile (Synapse workers and Redis).
compose-up: setup
	$(BIN)/python -m keerpunt.compose up $(if $(SCALE),--scale)

# Removes every container, network and volume of the local stack, and .keerpunt-compose*.
compose-down:
	$(BIN)/python -m keerpunt.compose down

# The acceptance run (tests/compose): a conversation through the proxy, restarts, a backup and a
# restore, the logs searched; without the scale profile, or with it as SCALE=1 (as compose-up).
# Minutes; not in CI.
compose-test: setup
	$(BIN)/pytest -m compose tests/compose -p no:cacheprovider -k $(if $(SCALE),scale,single)

bench: setup
	$(BIN)/python -m bench.dev_startup

# Faults under load (issue 27): 50 visitors talking with counsellors on `keerpunt dev --workers`
# while every process is killed in turn (about 20 minutes); the table goes to .keerpunt-faults/.
faults: setup
	$(BIN)/python -m bench.faults --out .keerpunt-faults

clean:
	rm -rf $(VENV) node_modules .keerpunt .keerpunt-compose .keerpunt-compose.json
