# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make demo   build the sample area, plan sample shuttle lines, serve the web map
#   make test   lint, type-check and run the test suite
# Installs take the tested versions from requirements.lock (see docs/development.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
LOCK   := requirements.lock
MIN_LOCK := requirements-min.lock
MIN_VENV ?= .venv-min

.PHONY: demo test test-min lint bench setup browser postgres clean wrk fonts lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $@

setup: $(STAMP)

# Debian's Chromium for the browser tests (Playwright's own browser download is not used),
# with a CJK font so zh/ja/ko screenshots show text rather than boxes.
BROWSER_DEBS := chromium chromium-driver fonts-wqy-zenhei
browser:
	@dpkg -s $(BROWSER_DEBS) >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_DEBS) >/dev/null; }

# PostgreSQL + PostGIS (Debian) for the PostGIS store tests: the tests start a throwaway
# cluster of their own (initdb in a temp folder, as the postgres user when run as root).
POSTGRES_DEBS := postgresql postgresql-15-postgis-3
postgres:
	@dpkg -s $(POSTGRES_DEBS) >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(POSTGRES_DEBS) >/dev/null; }

# A CJK font for the map tiles' Chinese, Japanese and Korean names (else they show as boxes).
fonts:
	@dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; } \
	  || echo "warning: could not install fonts-wqy-zenhei; CJK names on map tiles will show as boxes"

demo: $(STAMP) fonts
	$(BIN)/warmheart demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) browser postgres lint
	$(BIN)/pytest -n 2 --dist loadgroup

# The lowest versions pyproject.toml allows (requirements-min.lock), in their own venv, with
# the fast tests: proves the lower bounds are true.
test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -c $(MIN_LOCK) -e '.[dev]'
	$(MIN_VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow and not browser" -q

# Rewrite both locks from pyproject.toml (newest allowed / lowest allowed), with uv.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 \
	  --upgrade -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev --resolution lowest-direct \
	  --only-binary :all: --no-binary json2html --python-version 3.11 -o $(MIN_LOCK)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	touch $@

# wrk (Debian) drives the API load benchmark; without it a Python load generator is used.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true

# Runs every benchmark and writes docs/benchmarks.md (one section each; `make bench
# BENCH=api` re-runs one and keeps the others).
bench: $(BENCH_STAMP) wrk browser postgres
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) $(MIN_VENV) .mypy_cache .pytest_cache .ruff_cache
