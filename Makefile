# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres lint system-deps migrate demo-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

instance/config.py:
	mkdir -p instance
	$(BIN)/python scripts/make_instance_config.py $@

## run: install, migrate, load the demo data into an empty database, serve on 127.0.0.1:5000
run: $(VENV)/.installed-run instance/config.py
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	SECURE_TRANSPORT=0 $(FLASK) run --host $(HOST) --port $(PORT)

## test: lint, then the whole suite on SQLite and again on a throwaway PostgreSQL
test: $(VENV)/.installed-test system-deps lint test-sqlite test-postgres

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: $(VENV)/.installed-test
	$(BIN)/pytest

test-postgres: $(VENV)/.installed-test
	@if command -v pg_virtualenv >/dev/null 2>&1; then \
		pg_virtualenv -t -- env TEST_DATABASE_URL=postgresql+psycopg:// $(BIN)/pytest; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "pg_virtualenv (postgresql-common) is missing: PostgreSQL tests cannot run in CI." >&2; exit 1; \
	else \
		echo "pg_virtualenv not found: PostgreSQL run skipped (install postgresql and postgresql-common)."; \
	fi

system-deps:
	@sh scripts/install-system-deps.sh

migrate: $(VENV)/.installed-run instance/config.py
	$(FLASK) db upgrade

demo-data: migrate
	$(FLASK) demo-data

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results
