# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# pip >= 25.3 reads --build-constraint, which building django-mongoengine needs.
PIP_VERSION := 26.3

.PHONY: install run db test lint format bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet "pip==$(PIP_VERSION)"
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps --build-constraint build-constraints.txt -r requirements-nodeps.txt
	touch $@

## Serve the API with sample data on the embedded database (PORT=8000 by default).
run: install
	$(PY) manage.py devserver

## Only the embedded database, prepared and seeded, for manage.py commands.
db: install
	$(PY) manage.py devserver --db-only

## The whole test suite (against MONGO_URI's server if it is set, else an embedded one).
test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
