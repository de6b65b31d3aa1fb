import re

import pytest
import yaml


@pytest.fixture
def schema(anonymous_api):
    response = anonymous_api.get("/schema")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def parameter_names(operation):
    return {parameter["name"] for parameter in operation.get("parameters", [])}


def test_every_route_is_described(schema):
    paths = set(schema["paths"])
    for path in [
        "/clients",
        "/clients/{id}",
        "/engagements",
        "/engagements/{id}",
        "/interactions",
        "/interactions/{id}",
        "/clients/{client_pk}/engagements",
        "/clients/{client_pk}/interactions",
        "/engagements/{engagement_pk}/interactions",
        "/stats",
        "/clients/{client_pk}/stats",
        "/engagements/{engagement_pk}/stats",
        "/engagements/{engagement_pk}/imports",
    ]:
        assert path in paths, sorted(paths)
    detail = schema["paths"]["/interactions/{id}"]
    assert {"get", "put", "patch", "delete"} <= set(detail)
    assert {"get", "post"} <= set(schema["paths"]["/interactions"])


def test_list_parameters_are_described(schema):
    listed = parameter_names(schema["paths"]["/interactions"]["get"])
    assert {"client", "engagement", "agentName", "search", "sentiment", "from", "to", "custom.<path>"} <= listed
    assert {"ordering", "fields", "expand", "cursor", "page_size", "count"} <= listed
    assert {"client", "name"} <= parameter_names(schema["paths"]["/engagements"]["get"])
    assert {"name", "nickName", "search"} <= parameter_names(schema["paths"]["/clients"]["get"])


def test_extended_json_shapes_are_described(schema):
    interaction = schema["components"]["schemas"]["Interaction"]["properties"]
    assert interaction["_id"]["properties"]["$oid"]["type"] == "string"
    assert interaction["engagementId"]["properties"]["$oid"]["pattern"] == "^[0-9a-f]{24}$"
    assert interaction["interactionDate"]["properties"]["$date"]["type"] == "integer"
    paginated = schema["paths"]["/interactions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    ref = paginated["$ref"].rsplit("/", 1)[-1]
    assert {"next", "previous", "results"} <= set(schema["components"]["schemas"][ref]["properties"])


def test_docs_are_served_from_local_assets(anonymous_api):
    response = anonymous_api.get("/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = [url for url in re.findall(r'(?:src|href)="([^"]+)"', html) if url.startswith(("http:", "https:", "//"))]
    assert external == []


def test_stats_and_imports_are_described(schema):
    stats = schema["paths"]["/clients/{client_pk}/stats"]["get"]
    assert {"from", "to", "interval"} <= parameter_names(stats)
    response = stats["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"total", "sentiments", "topAgents", "series"} <= set(response["properties"])
    imports = schema["paths"]["/engagements/{engagement_pk}/imports"]["post"]
    assert {"text/csv", "multipart/form-data"} <= set(imports["requestBody"]["content"])
    assert {"name", "strict", "dry_run", "tz", "date_column"} <= parameter_names(imports)


def test_writes_describe_idempotency_keys_and_their_failures(schema):
    for path in ("/clients", "/engagements", "/interactions"):
        create = schema["paths"][path]["post"]
        key = next(parameter for parameter in create["parameters"] if parameter["name"] == "Idempotency-Key")
        assert key["in"] == "header"
        assert "safe to retry" in key["description"]
        assert {"422", "503", "504"} <= set(create["responses"])
        assert "outcome" in create["responses"]["503"]["description"]
    for method in ("put", "patch", "delete"):
        operation = schema["paths"]["/interactions/{id}"][method]
        assert "Idempotency-Key" not in parameter_names(operation)
        assert "nothing was written" in operation["responses"]["504"]["description"]
