# Two commands: `make run` serves the platform, `make test` runs every test.
# Both set everything up first: .venv (Python 3.12+), pinned dependencies,
# the embedded PostgreSQL 18 + pgvector under var/ (unless DATABASE_URL is set),
# migrations and the demo data.

PYTHON_BIN ?= $(shell for p in python3.12 python3.13 python3.14 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup deps migrate demo bench lint messages worker clean-db

run: setup
	$(PY) manage.py load_demo --if-empty
	$(PY) manage.py serve

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

setup: deps var/secret_key migrate

deps: $(STAMP)

$(STAMP): requirements.txt
	@test -n "$(PYTHON_BIN)" || (echo "Python 3.12 or newer is needed (python3.12 or python3 on PATH)"; exit 1)
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

var/secret_key:
	mkdir -p var
	$(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
	chmod 600 var/secret_key

migrate: deps
	$(PY) manage.py migrate --no-input -v 0

demo: setup
	$(PY) manage.py load_demo

worker: setup
	$(PY) manage.py procrastinate worker --concurrency 24

bench: setup
	$(PY) tests/bench/run_all.py

lint: deps
	$(VENV)/bin/ruff check .

messages: deps
	$(PY) manage.py makemessages -l zh_Hans --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "docs/*"
	$(PY) manage.py compilemessages -l zh_Hans
