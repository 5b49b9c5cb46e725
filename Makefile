# clusterwatch — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint typecheck unit bench regen-expected clean

# Two stamps: `make run` needs only the runtime dependencies; `make test` adds the test and
# development tools (pytest, playwright, ruff, mypy, hadolint) to the same virtualenv.
$(BIN)/.runtime: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed: pyproject.toml $(BIN)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## run: the service on embedded SQLite (feeds at http://127.0.0.1:8080/feeds/all.xml)
run: $(BIN)/.runtime
	$(BIN)/clusterwatch db upgrade
	$(BIN)/clusterwatch run

## demo: the service against the bundled replayed sites, fully offline
demo: $(BIN)/.runtime
	$(BIN)/clusterwatch demo

## test: lint, type check and the whole test suite (offline)
test: $(BIN)/.installed lint typecheck
	$(BIN)/pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(BIN)/.installed
	$(BIN)/mypy

## bench: every bench/bench_*.py in quick mode (≤ 10 min), writes docs/BENCHMARKS.md;
## `make bench ARGS=--full` adds the 1 M sizes
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py $(ARGS)

## regen-expected: refresh machine fields of tests/expected after a deliberate extractor change
regen-expected: $(BIN)/.installed
	$(BIN)/python scripts/regen_expected.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
