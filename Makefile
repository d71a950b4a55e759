# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi:app

.PHONY: run install lint test test-sqlite test-postgres test-e2e bench translations schema clean worker

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/python -c "from app.web.i18n import compile_catalogs; print(len(compile_catalogs()), 'catalogs compiled')"

# Set up (venv, packages, migrations, demo data into an empty database) and serve.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo-data --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port $${PORT:-5000}

# The linter (ruff, configured in pyproject.toml), then the whole suite: unit + integration on SQLite, again on PostgreSQL when
# TEST_DATABASE_URL is set, and the browser tests in Chromium.
test: install lint
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -p no:cacheprovider tests
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  $(BIN)/python -m pytest -p no:cacheprovider tests/integration tests/test_migrations.py; \
	fi

lint: install
	$(BIN)/ruff check app audits segmentation tabular tests bench migrations config.py wsgi.py

bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

worker: install
	$(BIN)/rq worker --url "$${REDIS_URL:?set REDIS_URL}" reports

# Regenerate the initial migration from the models (only while nothing is released).
schema: install
	rm -f migrations/versions/*_initial_schema.py
	rm -rf /tmp/schema-instance && INSTANCE_PATH=/tmp/schema-instance DATABASE_URL= $(BIN)/flask db migrate -m "initial schema"

clean:
	rm -rf $(VENV) .pytest_cache
