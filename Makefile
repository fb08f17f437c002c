# Every target sets itself up: .venv is (re)built when missing or when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-fast experiment report lint format ui clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)  ## the whole suite, slow tests included (what CI runs)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)  ## the suite without tests marked slow
	$(BIN)/python -m pytest -q -m 'not slow'

experiment: $(STAMP)  ## the default experiment on embedded data, into mlruns/
	$(BIN)/python -m kerasce.experiment

CLAIMS := binary_heads imbalance_pr naive_overflow mixed_precision_head

report: $(STAMP)  ## the four claim experiments, then docs/FINDINGS.md from their runs
	for claim in $(CLAIMS); do $(BIN)/python -m kerasce.experiment --quiet --config experiments/$$claim.toml || exit 1; done
	$(BIN)/python -m kerasce.report

lint: $(STAMP)
	$(BIN)/ruff check kerasce tests
	$(BIN)/ruff format --check kerasce tests

format: $(STAMP)
	$(BIN)/ruff check --fix kerasce tests
	$(BIN)/ruff format kerasce tests

ui: $(STAMP)  ## browse runs at http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root mlruns/artifacts

clean:
	rm -rf $(VENV) .pytest_cache
