# Every target sets itself up: .venv is (re)built when missing or when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: browser test test-fast test-torch experiment report docs lint format ui ui-check server server-stop clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray,server]'
	touch $(STAMP)

# Tests marked `backend` (the training instruments, the loss-path probe, the audit) run once more
# on JAX: Keras picks its backend when it is imported, so that is a second process.
# tests/test_backends.py mixes both in a grid.

# Two pytest workers (one per core here): tests/conftest.py keeps a shared fixture's users on one.
PARALLEL ?= -n 2 --dist loadgroup

# The comparison page's test (tests/analyze/test_page.py) and ui-check drive Debian's Chromium through
# Playwright (Playwright's own browser download is never used). Without root or a reachable
# registry it stays missing and that test skips, saying why.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "warning: chromium could not be installed; the browser test of the comparison page will skip"

test: $(STAMP) browser  ## the whole suite, slow tests included, then the backend tests on JAX (what CI runs)
	$(BIN)/python -m pytest -q $(PARALLEL)
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q $(PARALLEL) -m backend

test-fast: $(STAMP)  ## the suite without tests marked slow
	$(BIN)/python -m pytest -q $(PARALLEL) -m "not slow"

test-torch: $(STAMP)  ## the backend tests on PyTorch (installs the optional torch extra; CI does not)
	$(BIN)/python -m pip install --quiet -e '.[torch]'
	KERAS_BACKEND=torch $(BIN)/python -m pytest -q $(PARALLEL) -m backend

experiment: $(STAMP)  ## the default experiment on embedded data, into mlruns/
	$(BIN)/python -m kerasce.experiment

CLAIMS := binary_heads imbalance_pr naive_overflow mixed_precision_head backends

report: $(STAMP)  ## the claim experiments, then docs/FINDINGS.md from their runs
	for claim in $(CLAIMS); do $(BIN)/python -m kerasce.experiment --quiet --config experiments/$$claim.toml || exit 1; done
	$(BIN)/python -m kerasce.report

docs: $(STAMP)  ## docs/records.md's tables from kerasce/tracking/schema.py (tests/tracking/test_schema_doc.py checks them)
	$(BIN)/python -m kerasce.tracking.schema_doc

lint: $(STAMP)  ## ruff, and the import contracts of pyproject.toml
	$(BIN)/ruff check kerasce tests
	$(BIN)/lint-imports
	$(BIN)/ruff format --check kerasce tests

format: $(STAMP)
	$(BIN)/ruff check --fix kerasce tests
	$(BIN)/ruff format kerasce tests

ui: $(STAMP)  ## browse runs at http://127.0.0.1:5000 (prints a link per experiment)
	$(BIN)/python -m kerasce.ui

UI_CHECK_ARGS ?=

ui-check: $(STAMP) browser  ## screenshots of the newest experiment in a real browser, PASS/FAIL per check
	$(BIN)/python tools/ui_check.py $(UI_CHECK_ARGS)

# A team tracking server: PostgreSQL (pgserver) + mlflow server with proxied artifacts, data in
# .kerasce-server/. SERVER_ARGS passes options, e.g. SERVER_ARGS='--host 0.0.0.0' (needs
# KERASCE_SERVER_PASSWORD) or SERVER_ARGS='--backend-store-uri postgresql://user@db/mlflow'.
server: $(STAMP)  ## start it at http://127.0.0.1:5000 (python -m kerasce.server --help)
	$(BIN)/python -m kerasce.server start $(SERVER_ARGS)

server-stop: $(STAMP)  ## stop the server and its PostgreSQL; the data stays
	$(BIN)/python -m kerasce.server stop

clean:
	rm -rf $(VENV) .pytest_cache
