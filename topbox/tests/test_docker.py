"""No Docker engine runs on our machines: check what can be checked without one."""

from pathlib import Path

import yaml
from django.conf import settings

from topbox import mongo

ROOT = Path(settings.BASE_DIR)


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_mongo_with_the_seeds_credentials():
    mongo_service = compose()["services"]["mongo"]
    image, _, tag = mongo_service["image"].partition(":")
    assert image == "mongo"
    assert tag.split(".")[0].isdigit()  # a pinned major version
    assert mongo_service["environment"] == {
        "MONGO_INITDB_ROOT_USERNAME": "admin",
        "MONGO_INITDB_ROOT_PASSWORD": "adminpass",
    }
    assert any(volume.endswith(":/data/db") for volume in mongo_service["volumes"])
    assert "healthcheck" in mongo_service


def test_compose_web_waits_for_mongo_and_publishes_port_5000():
    web = compose()["services"]["web"]
    assert web["depends_on"] == {"mongo": {"condition": "service_healthy"}}
    assert "5000:5000" in web["ports"]
    uri = web["environment"]["MONGO_URI"]
    assert mongo.parse(uri) == ("mongo:27017", "production")
    assert "authSource=admin" in uri
    assert web["environment"]["DJANGO_ENV"] == "production"
    assert web["environment"]["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


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
