# Khoshnud — the commands in the README. Everything installs from this file.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export PYTHONHASHSEED := 0

.PHONY: install demo test test-sqlite test-postgres lint bench browser messages clean

$(BIN)/khoshnud: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/khoshnud

install: $(BIN)/khoshnud

demo: install
	$(BIN)/khoshnud demo --port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; nothing downloads a browser).
browser:
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
	  (apt-get install -y -q chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji >/dev/null))) || \
	  echo "!!! /usr/bin/chromium is missing: browser tests will be SKIPPED !!!"

lint: install
	mkdir -p var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src
	$(BIN)/khoshnud manage makemigrations --check --dry-run

test-sqlite: install browser
	@echo "=== tests on SQLite ==="
	env -u DATABASE_URL $(BIN)/pytest -q

test-postgres: install browser
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)').close()" 2>/dev/null; then \
	  echo "=== tests on PostgreSQL ($(PG_URL)) ==="; \
	  DATABASE_URL=$(PG_URL) $(BIN)/pytest -q; \
	else \
	  echo ""; echo "!!!!!!!! PostgreSQL is not reachable at $(PG_URL): the PostgreSQL pass was SKIPPED !!!!!!!!"; echo ""; \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	fi

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/khoshnud bench ingest --scale 20000
	$(BIN)/khoshnud bench timeline --scale 50000
	$(BIN)/khoshnud bench language --scale 2000
	$(BIN)/khoshnud bench cases --scale 10000
	$(BIN)/khoshnud bench dashboard --scale 2000
	$(BIN)/khoshnud bench channels --scale 1000
	$(BIN)/khoshnud bench engagement --scale 10000

messages: install
	cd src/khoshnud && ../../$(BIN)/django-admin makemessages -l fa -l zh_Hans --settings=khoshnud.settings && ../../$(BIN)/django-admin compilemessages --settings=khoshnud.settings

clean:
	rm -rf $(VENV) var build *.egg-info src/*.egg-info
