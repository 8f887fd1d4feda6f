# Tabour. The README's quick start is `make run` and `make test`.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test test-unit bench bench-national i18n-extract i18n-update services clean topology topology-stop

setup:            ## system packages, .venv/, node_modules/
	@scripts/setup.sh

run: setup        ## the embedded default: SQLite in var/, one process, printer agent to files
	$(PY) run.py --host $(HOST) --port $(PORT)

services:         ## local PostgreSQL and Redis for tests and bench
	@scripts/services.sh

test: setup services   ## every test: unit, integration (SQLite, PostgreSQL, Redis), e2e (Chromium)
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=15 tests

test-unit: setup
	$(PY) -m pytest -q tests/unit

bench: setup services  ## figures as JSON, also written to var/bench/latest.json
	$(PY) tests/bench/__main__.py $(if $(ONLY),--only $(ONLY),)

bench-national: setup services  ## 150 branches, ~1,200 sockets through nginx + 3 processes: national_speedup_x (tests/bench/national.py; ~10 min; ARGS="--seconds 30")
	$(PY) tests/bench/national.py $(ARGS)

topology: setup services  ## nginx + 3 server processes + PostgreSQL + Redis on this machine (TOPOLOGY_PORT=8080 to choose nginx's port)
	@scripts/topology.sh start $(if $(TOPOLOGY_PORT),--port $(TOPOLOGY_PORT))

topology-stop:    ## stop what `make topology` started
	@scripts/topology.sh stop

i18n-extract:     ## collect msgids from code and templates into the catalogs
	.venv/bin/pybabel extract -F babel.cfg -k N_ -o var/messages.pot --no-location --ignore-dirs=".venv node_modules var tests" .
	.venv/bin/pybabel update -i var/messages.pot -d queue_server/translations --no-fuzzy-matching

clean:
	rm -rf var/bench var/artifacts var/receipts
