.PHONY: help install lint test bench example

PY ?= .venv/bin/python

help:  ## show the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

install:  ## create .venv and install prodml with the dev tools
	python3 -m venv .venv && $(PY) -m pip install -q -e ".[dev]"

lint:  ## ruff, ruff format, mypy --strict, import-linter
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy
	.venv/bin/lint-imports

test:  ## the test suite (PostgreSQL tests run when PRODML_TEST_POSTGRES_URL is set)
	$(PY) -m pytest -n 2

bench:  ## every benchmark (peers install into benchmarks/.venvs on first use)
	$(PY) benchmarks/cli_start.py
	$(PY) benchmarks/pipeline_overhead.py
	$(PY) benchmarks/incremental.py
	$(PY) benchmarks/batch_scoring.py
	$(PY) benchmarks/serving.py
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/drift.py
	$(PY) benchmarks/pit_join.py
	$(PY) benchmarks/online_lookup.py

example:  ## create ./demo from the retail example and run churn
	rm -rf demo && .venv/bin/prodml init demo --example retail && cd demo && ../.venv/bin/prodml run churn
