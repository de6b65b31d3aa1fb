"""No Docker engine runs on our machines: check what can be checked without one."""

import re
from pathlib import Path

import dj_database_url
import pytest
import yaml
from django.conf import settings
from pymongo import uri_parser

from topbox import env, mongo
from topbox.tests.test_configuration import django_setup

ROOT = Path(settings.BASE_DIR)
# What `docker compose` would take from the environment or .env.
COMPOSE_VARIABLES = {
    "MONGO_APP_PASSWORD": "app-secret",
    "POSTGRES_PASSWORD": "pg-secret",
    "DJANGO_SECRET_KEY": "k" * 50,
}
LONG_RUNNING = {"mongo", "postgres", "redis", "web", "proxy"}
ONE_OFF = {"mongo-init", "migrate"}


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value):
    """Resolve ``${NAME...}`` as compose would, with :data:`COMPOSE_VARIABLES`."""
    return re.sub(r"\$\{(\w+)[^}]*\}", lambda match: COMPOSE_VARIABLES.get(match[1], "localhost"), value)


def service(name):
    return compose()["services"][name]


def web_environment():
    return {key: interpolate(value) for key, value in service("web")["environment"].items()}


def test_compose_has_the_services_of_a_scalable_deployment():
    assert set(compose()["services"]) == LONG_RUNNING | ONE_OFF


@pytest.mark.parametrize(
    ("name", "image"), [("mongo", "mongo"), ("postgres", "postgres"), ("redis", "redis"), ("proxy", "nginx")]
)
def test_official_images_with_a_pinned_major_version(name, image):
    repository, _, tag = service(name)["image"].partition(":")
    assert repository == image
    assert tag.split(".")[0].split("-")[0].isdigit()


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_every_long_running_service_has_a_healthcheck(name):
    assert service(name)["healthcheck"]["test"][0] == "CMD"


@pytest.mark.parametrize("name", sorted(ONE_OFF))
def test_one_off_services_run_once(name):
    assert service(name)["restart"] == "no"


def test_mongo_keeps_the_seeds_root_user_for_administration():
    mongo_service = service("mongo")
    assert mongo_service["environment"]["MONGO_INITDB_ROOT_USERNAME"] == "admin"
    assert mongo_service["environment"]["MONGO_INITDB_ROOT_PASSWORD"] == "adminpass"
    assert "mongo-data:/data/db" in mongo_service["volumes"]


def test_mongo_runs_as_a_replica_set_with_a_key_file():
    mongo_service = service("mongo")
    command = mongo_service["command"]
    assert command[0] == "mongod"
    assert command[command.index("--replSet") + 1] == "rs0"
    key_file = command[command.index("--keyFile") + 1]
    assert mongo_service["entrypoint"] == ["bash", "/topbox-mongo/entrypoint.sh"]
    assert "./docker/mongo:/topbox-mongo:ro" in mongo_service["volumes"]
    script = (ROOT / "docker/mongo/entrypoint.sh").read_text()
    assert f"key={key_file}" in script
    assert 'chmod 400 "$key"' in script
    assert script.rstrip().endswith('exec docker-entrypoint.sh "$@"')  # the image's own init still runs


def test_the_replica_set_is_initiated_once_by_an_init_script():
    init = service("mongo-init")
    assert init["depends_on"] == {"mongo": {"condition": "service_healthy"}}
    command = init["command"]
    assert command[0] == "mongosh"
    assert "directConnection=true" in command[2]  # as root, before there is a replica set to discover
    assert "./docker/mongo/init-replica-set.js:/init-replica-set.js:ro" in init["volumes"]
    script = (ROOT / "docker/mongo/init-replica-set.js").read_text()
    assert '"NotYetInitialized"' in script  # a second `up` leaves it as it is
    assert 'rs.initiate({ _id: "rs0"' in script
    assert 'host: "mongo:27017"' in script
    assert "isWritablePrimary" in script


def test_the_app_connects_as_a_least_privileged_user_of_its_database():
    mongo_service = service("mongo")
    assert "./docker/mongo/initdb:/docker-entrypoint-initdb.d:ro" in mongo_service["volumes"]
    script = (ROOT / "docker/mongo/initdb/create-app-user.js").read_text()
    assert 'roles: [{ role: "readWrite", db: database }]' in script
    parsed = uri_parser.parse_uri(web_environment()["MONGO_URI"])
    assert parsed["username"] == mongo_service["environment"]["MONGO_APP_USERNAME"] == "topbox"
    assert parsed["database"] == mongo_service["environment"]["MONGO_APP_DATABASE"] == "production"
    assert parsed["username"] != mongo_service["environment"]["MONGO_INITDB_ROOT_USERNAME"]


def test_the_app_uses_the_replica_set_with_majority_writes():
    uri = web_environment()["MONGO_URI"]
    assert mongo.parse(uri) == ("mongo:27017", "production")
    options = dict(uri_parser.parse_uri(uri)["options"])
    assert options == {"authSource": "admin", "replicaSet": "rs0", "w": "majority", "retryWrites": True}
    assert web_environment()["MONGO_STATS_READ_PREFERENCE"] == "secondaryPreferred"


def test_django_uses_postgresql_and_redis():
    database = dj_database_url.parse(web_environment()["DATABASE_URL"])
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "postgres",
        service("postgres")["environment"]["POSTGRES_DB"],
    )
    assert "postgres-data:/var/lib/postgresql/data" in service("postgres")["volumes"]
    assert "pg_isready" in service("postgres")["healthcheck"]["test"]
    cache = web_environment()["CACHE_URL"]
    assert cache.startswith("redis://redis:6379")
    assert env._CACHE_BACKENDS["redis"] == "django.core.cache.backends.redis.RedisCache"


def test_migrations_and_indexes_run_once_before_any_web_replica():
    migrate = service("migrate")
    assert "python manage.py migrate --noinput && python manage.py ensure_indexes" in migrate["command"][-1]
    assert migrate["depends_on"]["mongo-init"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    web = service("web")
    assert web["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert web["command"][0] == "gunicorn"  # not the image's CMD, which migrates too
    assert migrate["environment"] == {
        key: value for key, value in web["environment"].items() if key != "WEB_CONCURRENCY"
    }


def test_web_can_be_scaled():
    web = service("web")
    # Replicas cannot share a published port, a container name or a state volume.
    assert "ports" not in web
    assert "container_name" not in web
    assert "volumes" not in web
    assert web["expose"] == ["5000"]
    assert web["environment"]["DJANGO_ENV"] == "production"
    assert web["environment"]["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


def test_the_proxy_publishes_port_5000_and_spreads_requests_over_the_replicas():
    proxy = service("proxy")
    assert proxy["ports"] == ["5000:80"]
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert "./docker/nginx/default.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    conf = (ROOT / "docker/nginx/default.conf").read_text()
    assert "resolver 127.0.0.11 valid=10s" in conf  # Docker's DNS, re-asked: replicas come and go
    assert "set $web http://web:5000;" in conf
    assert "proxy_pass $web;" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
    assert web_environment()["TRUSTED_PROXY_COUNT"] == "1"


def test_production_settings_start_with_the_compose_environment():
    code, stderr = django_setup(**web_environment())
    assert code == 0, stderr


def test_dockerfile_installs_the_pinned_set_and_runs_gunicorn_as_non_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "--no-deps --build-constraint build-constraints.txt -r requirements-nodeps.txt" in dockerfile
    assert "USER topbox" in dockerfile
    assert "gunicorn topbox.wsgi" in dockerfile
    assert "requirements-dev.txt" not in dockerfile  # no SecantusDB (GPL) in the image


def test_makefile_installs_the_same_set():
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements-dev.txt" in makefile
    assert "--no-deps --build-constraint build-constraints.txt -r requirements-nodeps.txt" in makefile
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
