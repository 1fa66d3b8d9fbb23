# CoopMarket: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
# `make demo HOST=0.0.0.0 PORT=8080`: links, QR codes, e-mails and SMS point at the address served.
HOST ?= 127.0.0.1
PORT ?= 8000
SITE_BASE_URL ?= http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
export SITE_BASE_URL

.PHONY: install demo run stop migrate seed test test-fast lint fmt messages schema clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --no-input

seed: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo

# When the development server stops (Ctrl-C), the embedded PostgreSQL stops too (nothing to stop with DATABASE_URL).
demo: seed
	@echo "CoopMarket is at $(SITE_BASE_URL) (API docs: /api/docs/, admin: /admin/)"
	trap '$(PY) -m marketplace.embedded_postgres stop' EXIT; trap 'exit 130' INT TERM; \
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver $(HOST):$(PORT)

# Stop the embedded PostgreSQL if it was left running (after `make seed`, `make test` or `make run`).
stop:
	$(PY) -m marketplace.embedded_postgres stop

test: install
	$(BIN)/pytest -n $${PYTEST_WORKERS:-auto} --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	DEBUG=true $(PY) manage.py makemessages --locale fr --locale sw --ignore '.venv/*' --ignore 'tests/*'
	DEBUG=true $(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .data staticfiles
