# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# pip >= 25.3 reads --build-constraint, which building django-mongoengine needs.
PIP_VERSION := 26.3

.PHONY: install run db test test-postgres postgresql redis-server chromium lint format clean

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
test: install chromium
	$(PY) -m pytest --durations=15

## The auth, token, history and throttling tests again, with Django's SQL side on a
## PostgreSQL server the suite starts (Debian's binaries, installed when missing).
## The two-gunicorn test then runs on PostgreSQL and Redis, as the compose stack does.
test-postgres: install postgresql redis-server
	TEST_POSTGRES=1 $(PY) -m pytest -m postgres

postgresql:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { $(call apt-install,postgresql,TEST_POSTGRES=1 needs PostgreSQL's server); }

redis-server:
	@command -v redis-server >/dev/null || { $(call apt-install,redis-server,TEST_POSTGRES=1 needs Redis's server); }

## The browser tests drive Debian's Chromium (Playwright's own download is not used).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { $(call apt-install,chromium,The browser tests need Chromium at $(CHROMIUM) (or set CHROMIUM)); }

# $(call apt-install,PACKAGE,WHAT NEEDS IT): apt-get install PACKAGE when run as root, else say why and how.
apt-install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's $(1)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	else echo "$(2): sudo apt-get install $(1)"; exit 1; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
