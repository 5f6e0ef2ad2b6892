# One command runs the export, one runs the tests; both build the environment when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo ui test test-fast report bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pipelines.demo

# The Dagster UI on the instance `make demo` records its runs in (./.dagster_home), so the
# demo's observation is there; the schedule starts stopped until you turn it on.
ui: $(STAMP)
	mkdir -p .dagster_home
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev

LINTED := pipelines assets mixpeek_tasks mixpeek_emulator tests benchmarks

# Everything: unit, integration (emulator, faults, crashes), dagster, e2e (demo, report in Chromium).
test: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest

# The unit layer alone: pure functions and the client against a mocked transport, in seconds.
test-fast: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest tests/unit

# The HTML report of the warehouse at $MIXPEEK_EXPORT_DIR (default ./data) -> report/index.html
report: $(STAMP)
	$(BIN)/python -m mixpeek_tasks.reporting.html

# The export against the fetch-only floor and the naive pipeline (benchmarks/RESULTS.md);
# `make bench BENCH_ARGS=--million` runs the 1,000,000-task memory check instead.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .dagster_home
