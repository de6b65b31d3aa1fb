"""Configuration of the state web processes share: DATABASE_URL, CACHE_URL, throttle rates."""

import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from topbox import env


@pytest.mark.postgres
def test_the_sql_side_runs_on_the_database_the_session_asked_for(db):
    expected = "postgresql" if os.environ.get("TEST_POSTGRES") == "1" else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:  # the database cache's table is there, wherever migrate ran
        cursor.execute(f"SELECT COUNT(*) FROM {env.DEFAULT_CACHE_TABLE}")
        assert cursor.fetchone()[0] >= 0


def test_database_url_selects_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://topbox:secret@db.internal:5432/topbox")
    database = env.get_database("DATABASE_URL", None)
    assert (database["ENGINE"], database["HOST"], database["NAME"], database["USER"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "topbox",
        "topbox",
    )
    assert database["CONN_HEALTH_CHECKS"] is True


def test_without_database_url_the_default_is_used(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert env.get_database("DATABASE_URL", {"NAME": "default"}) == {"NAME": "default"}


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("redis://redis:6379/0", "django.core.cache.backends.redis.RedisCache", "redis://redis:6379/0"),
        ("db://", "topbox.cache.DatabaseCache", "topbox_cache"),
        ("db://other_table", "topbox.cache.DatabaseCache", "other_table"),
        ("locmem://", "django.core.cache.backends.locmem.LocMemCache", ""),
    ],
)
def test_cache_url_selects_the_backend(monkeypatch, url, backend, location):
    monkeypatch.setenv("CACHE_URL", url)
    assert env.get_cache("CACHE_URL", "db://") == {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": "topbox"}


def test_the_default_cache_is_shared_by_every_process():
    assert settings.CACHES["default"]["BACKEND"] == "topbox.cache.DatabaseCache"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CACHE_URL", "memcached://x", "CACHE_URL must start with one of db://, redis://"),
        ("DATABASE_URL", "nosuch://x/y", "DATABASE_URL is not a database URL Django can use"),
        ("API_THROTTLE_USER", "lots", "API_THROTTLE_USER must be a rate like 60/minute"),
        ("API_THROTTLE_ANON", "5/fortnight", "API_THROTTLE_ANON must be a rate"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    reader = {"CACHE_URL": env.get_cache, "DATABASE_URL": env.get_database}.get(name, env.get_rate)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader(name, "db://" if name == "CACHE_URL" else "1/minute")


def test_production_refuses_a_per_process_cache():
    from topbox.tests.test_configuration import SEED_URI, STRONG_KEY, django_setup

    configured = {"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": STRONG_KEY,
                  "DJANGO_ALLOWED_HOSTS": "api.example.com", "MONGO_URI": SEED_URI,
                  "DATABASE_URL": "postgres://topbox:secret@db:5432/topbox"}  # fmt: skip
    code, stderr = django_setup(**configured, CACHE_URL="redis://redis:6379/0")
    assert code == 0, stderr
    code, stderr = django_setup(**configured, CACHE_URL="locmem://")
    assert code != 0
    assert "set CACHE_URL" in stderr


def test_a_rate_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("API_THROTTLE_ANON", "off")
    assert env.get_rate("API_THROTTLE_ANON", "60/minute") is None


def test_manage_py_works_on_a_fresh_checkout(tmp_path, mongo_uri):
    """No `make run` first: the data directory does not exist yet."""
    data = tmp_path / "not" / "yet"
    environ = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SQLITE_PATH")}
    environ.update(TOPBOX_DATA_DIR=str(data), MONGO_URI=mongo_uri)
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=settings.BASE_DIR, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(data / "django.sqlite3") as connection:
        # Shared by several gunicorn workers: write-ahead logging, so readers never wait.
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute(f"SELECT COUNT(*) FROM {env.DEFAULT_CACHE_TABLE}").fetchone() == (0,)
