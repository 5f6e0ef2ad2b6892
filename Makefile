# One command runs the export, one runs the tests; both build the environment when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test report bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pipelines.demo

test: $(STAMP)
	$(BIN)/ruff check pipelines assets tests benchmarks
	$(BIN)/python -m pytest

# The HTML report of the warehouse at $MIXPEEK_EXPORT_DIR (default ./data) -> report/index.html
report: $(STAMP)
	$(BIN)/python -m pipelines.html_report

# The export against the fetch-only floor and the naive pipeline (benchmarks/RESULTS.md);
# `make bench BENCH_ARGS=--million` runs the 1,000,000-task memory check instead.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .dagster_home
