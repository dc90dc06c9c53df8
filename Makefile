# SMS Bridge developer and operator tasks. `make` alone lists them.
#
# Everything runs from the venv in .venv, created on first use from requirements/dev.txt
# (and refreshed when a requirements file changes).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# make run / make web: the port the web process listens on.
PORT ?= 8000
export PORT
# make test / make bench: PostgreSQL unless DATABASE_URL says otherwise.
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/smsbridge
# Extra arguments: make test PYTEST_ARGS="-k onboarding -x"
PYTEST_ARGS ?=

.PHONY: help venv run test test-fast test-sqlite lint schema format bench migrate shell web worker callbacks housekeeping beat flower clean

# Development targets run with debug on (DJANGO_DEBUG defaults to off everywhere else) and
# let callbacks reach local test servers; set DJANGO_DEBUG=0 to try production behaviour.
DEV_TARGETS := run migrate shell schema web worker callbacks housekeeping beat flower
$(DEV_TARGETS): export DJANGO_DEBUG ?= 1
$(DEV_TARGETS): export CALLBACK_ALLOW_PRIVATE_NETWORKS ?= 1
# Flower's port: deploy/Procfile.dev reads it, and make run's banner shows the same value.
$(DEV_TARGETS): export FLOWER_PORT ?= 5555
# The processes make run starts, one each: `make worker` runs Procfile.dev's worker line.
PROCFILE_DEV := deploy/Procfile.dev

help: ## list the targets
	@echo "usage: make <target>"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install requirements/dev.txt (again when requirements change)

$(STAMP): $(wildcard requirements/*.txt)
	$(PYTHON) -m venv $(VENV) && $(BIN)/pip install -r requirements/dev.txt
	touch $@

run: $(STAMP) ## start web, worker, callbacks, housekeeping, beat and flower for development (Ctrl-C stops them all)
	scripts/ensure_services.sh
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py warm_redis --if-needed
	$(PY) manage.py bootstrap_demo
	@echo
	@echo "  web      http://127.0.0.1:$(PORT)/"
	@echo "  admin    http://127.0.0.1:$(PORT)/admin/"
	@echo "  API docs http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Flower   http://127.0.0.1:$(FLOWER_PORT)/  (basic auth \$$FLOWER_BASIC_AUTH, default admin:admin in debug)"
	@echo
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start -p $(PORT)

test: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test: export DJANGO_SETTINGS_MODULE = smsbridge.settings_test
# nginx unpacked by scripts/ensure_nginx.sh where it is not installed (for nginx -t).
test: export PATH := $(PATH):$(CURDIR)/var/tools/nginx/usr/sbin
test: $(STAMP) ## the whole suite on PostgreSQL, then the SQLite tier (PYTEST_ARGS=... runs only the first, with those options)
	scripts/ensure_services.sh --postgres
	scripts/ensure_nginx.sh
	$(BIN)/pytest $(PYTEST_ARGS)
	@if [ -z "$(PYTEST_ARGS)" ]; then $(MAKE) test-sqlite; fi

# No test that starts a Celery worker, beat, Flower, gunicorn, a private redis-server or
# manage.py in its own process (those are marked slow: tests/conftest.py refuses one that is
# not); `make test` still runs them.
test-fast: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test-fast: export DJANGO_SETTINGS_MODULE = smsbridge.settings_test
test-fast: $(STAMP) ## the PostgreSQL run without the slow (real-process) tests: under a minute
	scripts/ensure_services.sh --postgres
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

# The admin, the audit trail and the reverse-SMS flow again on SQLite, the database
# `make run` uses when DATABASE_URL is unset: what an operator tries first must work there.
SQLITE_TIER := tests/admin tests/audit tests/onboarding
test-sqlite: export DATABASE_URL = sqlite:///$(CURDIR)/var/test.sqlite3
test-sqlite: export DJANGO_SETTINGS_MODULE = smsbridge.settings_test
test-sqlite: $(STAMP) ## the SQLite tier alone: admin, audit and onboarding tests on SQLite
	scripts/ensure_services.sh
	$(BIN)/pytest -q -p no:cacheprovider $(SQLITE_TIER)

# Runs every check, then fails if any of them failed. mypy's Django plugin loads the
# settings, which need debug (or real secrets) to load.
lint: $(STAMP) ## ruff check, ruff format --check, mypy, import-linter's floors and the missing-migrations check
	@status=0; \
	for check in "$(BIN)/ruff check ." "$(BIN)/ruff format --check ." "env DJANGO_DEBUG=1 $(BIN)/mypy ." \
		"$(BIN)/lint-imports" \
		"env DJANGO_SETTINGS_MODULE=smsbridge.settings_test $(PY) manage.py makemigrations --check --dry-run"; do \
		echo "+ $$check"; \
		$$check || { status=1; echo "FAILED: $$check"; }; \
	done; \
	exit $$status

schema: $(STAMP) ## regenerate the committed OpenAPI contract docs/integration_openapi.yaml
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/integration_openapi.yaml

format: $(STAMP) ## apply ruff's fixes and format the code
	$(BIN)/ruff check --fix --exit-zero .
	$(BIN)/ruff format .

bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smsbridge_bench
bench: $(STAMP) ## run the benchmark (scripts/bench.py; BENCH_ARGS=--quick for a check in under a minute, "--only flush,sweep" for parts, "--only instructions" for the noise-free count per request)
	scripts/ensure_services.sh --postgres
	scripts/ensure_wrk.sh
	$(PY) scripts/bench.py $(BENCH_ARGS)

migrate: $(STAMP) ## apply database migrations
	scripts/ensure_services.sh
	$(PY) manage.py migrate --noinput

shell: $(STAMP) ## open a Django shell
	$(PY) manage.py shell

web: $(STAMP) ## run only the web process (gunicorn on 127.0.0.1:$PORT)
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start -p $(PORT) web

worker: $(STAMP) ## run only the Celery worker (queue "celery": SMS validation, drains)
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start worker

callbacks: $(STAMP) ## run only the callbacks worker (queue "callbacks": webhooks to client apps)
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start callbacks

housekeeping: $(STAMP) ## run only the housekeeping worker (queue "housekeeping": beat's ticks)
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start housekeeping

beat: $(STAMP) ## run only Celery beat
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start beat

flower: $(STAMP) ## run only Flower on http://127.0.0.1:$FLOWER_PORT/ (basic auth $FLOWER_BASIC_AUTH)
	scripts/ensure_services.sh
	exec $(BIN)/honcho -f $(PROCFILE_DEV) start flower

clean: ## remove the SQLite database, beat schedule, collected static files and caches (keeps .venv)
	rm -f var/*.sqlite3 var/*.sqlite3-journal var/celerybeat-schedule*
	rm -rf var/static .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
	find . \( -path ./.venv -o -path ./.git \) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
