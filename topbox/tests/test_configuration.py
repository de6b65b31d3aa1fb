import os
import subprocess
import sys

import mongoengine
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from topbox import mongo

SEED_URI = "mongodb://admin:adminpass@localhost:27017/production?authSource=admin"
STRONG_KEY = "q3Zr9yX1-kV0bT6uJ8mW2pL5sN4dF7hG_aC9eR1tY3iO6zB0xM2nQ8wE5vU7jK4l"
PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": STRONG_KEY,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "MONGO_URI": SEED_URI,
    "TOPBOX_DATA_DIR": "/srv/topbox",
}


def test_parse_takes_the_database_from_the_uri_path():
    assert mongo.parse(SEED_URI) == ("localhost:27017", "production")
    assert mongo.parse("mongodb://a:1,b:2/?replicaSet=rs") == ("a:1,b:2", "topbox")


@pytest.mark.parametrize("uri", ["http://localhost/x", "mongodb://", "mongodb://host:notaport/db"])
def test_parse_refuses_a_malformed_uri(uri):
    with pytest.raises(ImproperlyConfigured, match="MONGO_URI is not a valid MongoDB URI"):
        mongo.parse(uri)


def test_connect_uses_the_seed_uri_database_and_credentials(mongo_uri):
    try:
        mongo.connect(SEED_URI)  # lazy: nothing is sent to localhost:27017
        assert mongo.database().name == "production"
        options = mongoengine.get_connection().options
        credentials = options.pool_options._credentials  # pymongo has no public accessor
        assert (credentials.username, credentials.source) == ("admin", "admin")
        assert options.server_selection_timeout == settings.MONGO_TIMEOUT_MS / 1000
        assert options.codec_options.tz_aware
    finally:
        mongo.connect(mongo_uri)


def test_with_database_keeps_the_authentication_database():
    assert mongo.with_database(SEED_URI, "t") == "mongodb://admin:adminpass@localhost:27017/t?authSource=admin"
    assert mongo.with_database("mongodb://u:p@h/prod", "t") == "mongodb://u:p@h/t?authSource=prod"
    assert mongo.with_database("mongodb://h:1", "t") == "mongodb://h:1/t"


def test_without_mongo_uri_the_embedded_server_is_the_default(settings):
    settings.MONGO_URI = ""
    assert mongo.configured_uri() == f"mongodb://127.0.0.1:{settings.EMBEDDED_MONGO_PORT}/topbox"
    settings.MONGO_URI = SEED_URI
    assert mongo.configured_uri() == SEED_URI


def test_a_dead_server_fails_fast_with_a_helpful_message(mongo_down):
    with pytest.raises(mongo.MongoUnavailable, match=r"did not answer within 300 ms"):
        mongo.ping()


def django_setup(*command, **environ):
    """Import the settings in a fresh interpreter with ``environ`` (and run ``manage.py
    command`` if given); return (exit code, stderr), or (exit code, stdout + stderr)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "MONGO_URI", "TOPBOX_"))}
    env.update(environ, DJANGO_SETTINGS_MODULE="topbox.settings")
    arguments = ["manage.py", *command] if command else ["-c", "import django; django.setup()"]
    done = subprocess.run(
        [sys.executable, *arguments], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, (done.stdout + done.stderr) if command else done.stderr


def test_production_refuses_development_defaults():
    code, stderr = django_setup(DJANGO_ENV="production")
    assert code != 0
    assert "DJANGO_ALLOWED_HOSTS, DJANGO_SECRET_KEY, MONGO_URI, TOPBOX_DATA_DIR" in stderr


def test_production_refuses_debug():
    code, stderr = django_setup(
        DJANGO_ENV="production", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="api.example.com",
        MONGO_URI=SEED_URI, TOPBOX_DATA_DIR="/srv/topbox", DJANGO_DEBUG="true",
    )  # fmt: skip
    assert code != 0
    assert "set DJANGO_DEBUG" in stderr


def test_production_starts_when_configured():
    code, stderr = django_setup(
        DJANGO_ENV="production", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="api.example.com",
        MONGO_URI=SEED_URI, TOPBOX_DATA_DIR="/srv/topbox",
    )  # fmt: skip
    assert code == 0, stderr


def test_production_refuses_the_embedded_database_and_the_checkouts_data():
    code, stderr = django_setup(
        DJANGO_ENV="production", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="api.example.com",
        MONGO_URI="mongodb://127.0.0.1:27018/topbox",
    )  # fmt: skip
    assert code != 0
    assert "set MONGO_URI, TOPBOX_DATA_DIR" in stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_ENV", "staging", "DJANGO_ENV must be"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("EMBEDDED_MONGO_PORT", "x", "EMBEDDED_MONGO_PORT must be an integer"),
    ],
)
def test_bad_settings_name_the_variable(name, value, message):
    code, stderr = django_setup(**{name: value})
    assert code != 0
    assert message in stderr


@pytest.mark.parametrize(
    "key",
    ["a" * 32, "x" * 50, "ab" * 40, "django-insecure-" + STRONG_KEY, STRONG_KEY[:40]],
)
def test_production_refuses_a_weak_secret_key(key):
    code, stderr = django_setup(**{**PRODUCTION, "DJANGO_SECRET_KEY": key})
    assert code != 0
    assert "set DJANGO_SECRET_KEY" in stderr


@pytest.mark.parametrize("hosts", ["*", "api.example.com,*", "*.example.com"])
def test_production_refuses_wildcard_hosts(hosts):
    code, stderr = django_setup(**{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": hosts})
    assert code != 0
    assert "set DJANGO_ALLOWED_HOSTS" in stderr


def test_the_deploy_check_passes_without_a_warning_in_production():
    code, output = django_setup("check", "--deploy", **PRODUCTION)
    assert code == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_the_deploy_check_names_what_an_opt_out_gives_up():
    _, output = django_setup("check", "--deploy", **PRODUCTION, DJANGO_SSL_REDIRECT="false", DJANGO_HSTS_SECONDS="0")
    assert "security.W008" in output  # SECURE_SSL_REDIRECT
    assert "security.W004" in output  # SECURE_HSTS_SECONDS


def test_secret_key_bits():
    from topbox.env import secret_key_bits

    assert secret_key_bits("a" * 32) == 0
    assert secret_key_bits(STRONG_KEY) > 256
