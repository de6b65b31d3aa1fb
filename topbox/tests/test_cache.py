"""The shared cache's database backend (topbox.cache) reads what Django's reads."""

import pytest
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connection

from topbox import env
from topbox.cache import DatabaseCache


@pytest.fixture
def backends(db):
    """Ours and Django's, on the same table."""
    params = {"KEY_PREFIX": "test"}
    return DatabaseCache(env.DEFAULT_CACHE_TABLE, params), DjangoDatabaseCache(env.DEFAULT_CACHE_TABLE, params)


def stored(key):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {env.DEFAULT_CACHE_TABLE} WHERE cache_key = %s", [key])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_it_reads_what_djangos_backend_reads(backends):
    ours, django = backends
    values = {"stamp": "0f3a", "failures": [1.5, 2.5], "nested": {"a": None}}
    django.set_many(values, 30)
    keys = ["stamp", "failures", "nested", "missing"]
    assert ours.get_many(keys) == django.get_many(keys) == values
    assert ours.get_many(["missing"]) == {}
    assert ours.get_many([]) == {}
    assert ours.get("stamp") == "0f3a"  # (get reads through get_many)
    assert ours.get("failures", version=2) is None  # another version is another key


@pytest.mark.postgres
def test_expired_entries_are_not_read_and_are_deleted(backends):
    ours, django = backends
    django.set("old", "stamp", timeout=0)  # expired as it is stored
    django.set("new", "stamp", 30)
    assert stored(django.make_key("old")) == 1
    assert ours.get_many(["old", "new"]) == {"new": "stamp"}
    assert stored(django.make_key("old")) == 0  # deleted on reading, as Django's backend does
