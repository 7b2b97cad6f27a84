# Fleet: the README's two commands, `make run` and `make test`, and a few helpers.
# Each target creates the virtualenv and installs what it needs on a fresh machine.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test db seed services browser bench seed-build clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

## make run: install, migrate to head, seed if empty, warm the frame cache, then serve the app on $(PORT)
run: $(VENV)/.installed
	$(PY) -m fleet db upgrade
	$(PY) -m fleet seed
	$(PY) -m fleet warm
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-1} $(PY) -m streamlit run app.py --server.port $(PORT)

## make test: dev install, start what the tests need (Postgres, Chromium), run pytest
test: $(VENV)/.installed-dev services browser
	$(PY) -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

db: $(VENV)/.installed
	$(PY) -m fleet db upgrade

seed: db
	$(PY) -m fleet seed

## services: start the local PostgreSQL cluster if it is installed and down
services:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if command -v pg_ctlcluster >/dev/null; then \
	    for v in $$(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect $$v main start || true; done; \
	    for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	  fi; \
	fi
	@command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 || echo "note: no PostgreSQL at 127.0.0.1:5432; Postgres tests will skip (or fail under CI=true)"

## browser: Debian's chromium for the Playwright tests (playwright install cannot download here)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium missing; browser tests will skip (or fail under CI=true)"; fi; \
	fi

bench: $(VENV)/.installed-dev
	$(PY) -m bench $(BENCH_ARGS)

## seed-build: rebuild data/seed/*.csv from Epoch AI's datasets and ../shared/reference
seed-build: $(VENV)/.installed
	$(PY) data/seed/build.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
