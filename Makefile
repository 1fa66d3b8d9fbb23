# CoopMarket: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo run migrate seed test test-fast lint fmt messages schema clean

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

demo: seed
	@echo "CoopMarket is at http://127.0.0.1:8000 (API docs: /api/docs/, admin: /admin/)"
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

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
	DEBUG=true $(PY) manage.py makemessages --locale fr --ignore '.venv/*' --ignore 'tests/*'
	DEBUG=true $(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) .data staticfiles
