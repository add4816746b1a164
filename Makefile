# The two commands of the README: `make demo` and `make test`. Everything else is their set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup redis-server generate check lint bench clean

demo: setup
	$(PY) -m redis_toolkit demo

# Two pytest-xdist workers, each starting its own private servers (ports from its own slice);
# --dist loadfile keeps a file's tests (and its module fixtures) on one worker.
# TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: setup redis-server check lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

setup: $(STAMP)

# Re-install when the packaging changes; `pip install -e` keeps the source tree live.
$(STAMP): setup.py pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

redis-server:
	@sh tools/ensure_redis.sh

# Writes redis_toolkit/_sync and tests/_sync from their _async sources.
generate: setup
	$(PY) tools/run_unasync.py

check: setup
	$(PY) tools/run_unasync.py --check

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy redis_toolkit

# Each benchmark starts a private redis-server unless BENCH_ARGS has --url; BENCH_ARGS=--quick
# makes a smoke run. The figures are ratios measured in the same run.
BENCH_ARGS ?=
bench: setup redis-server
	$(PY) benchmarks/bench_core.py $(BENCH_ARGS)
	$(PY) benchmarks/bench_pubsub.py $(BENCH_ARGS)
	$(PY) benchmarks/bench_serialization.py $(filter --quick,$(BENCH_ARGS))
	$(PY) benchmarks/bench_cluster_failover.py $(filter --quick,$(BENCH_ARGS))

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
