"""OpenAPI 3 for Topbox's viewsets: their query filters, orderings, fields and expansions."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter

from topbox.api import idempotency
from topbox.api.filters import OBJECT_ID_PATTERN, choices_pattern

# Ids in the URL: 24 hex digits. The examples are documents of the sample data (fixtures/).
PATH_IDS = {
    "client_pk": "5f18d12f42262eec0d435570",
    "engagement_pk": "5f18d12f42262eec0d435580",
}
DETAIL_EXAMPLES = {
    "/clients/{id}": "5f18d12f42262eec0d435570",
    "/engagements/{id}": "5f18d12f42262eec0d435580",
    "/interactions/{id}": "5f18d12f42262eec0d435600",
}

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": 'A JSON body naming what was wrong: {"detail": "..."} or {"<field or parameter>": ["..."]}.',
}


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_LENGTH, "pattern": "^[\\x20-\\x7e]+$"},
    location=OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID, say): makes this POST safe to retry. A request with a key "
        "already used answers as the first did (201, with `Idempotent-Replayed: true`) and "
        "creates nothing; the same key with another body is a 422. Keys are kept "
        "`IDEMPOTENCY_KEY_HOURS` (24 by default)."
    ),
)
OUTCOME_UNKNOWN = (
    "The database did not confirm the commit in time: the write may or may not have been applied "
    '(`{"outcome": "unknown"}`); send it again (a POST with its `Idempotency-Key`).'
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        view = self.view
        parameters = list(super().get_override_parameters())
        if getattr(view, "action", None) == "create":
            parameters.append(IDEMPOTENCY_KEY)
        if not hasattr(view, "filter_class") or getattr(view, "action", None) not in ("list", "retrieve"):
            return parameters
        serializer = view.serializer_class
        names = list(serializer().fields)
        parameters.append(
            OpenApiParameter(
                "fields",
                {"type": "string", "pattern": choices_pattern(names, multiple=True)},
                description=f"Return only these keys (and _id): {', '.join(names)}.",
            )
        )
        if serializer.expandable:
            from topbox.api.viewsets import expansion_paths

            paths = expansion_paths(serializer)
            parameters.append(
                OpenApiParameter(
                    "expand",
                    {"type": "string", "pattern": choices_pattern(paths, multiple=True)},
                    description=f"Embed referenced documents: {', '.join(paths)}.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        errors = {"400": "Bad input", "401": "Not logged in", "404": "Not found or not visible"}
        if self.method in ("PUT", "PATCH", "DELETE"):
            errors.update({"409": "Still referenced", "412": "If-Match does not match the ETag"})
        if self.method in ("POST", "PUT", "PATCH"):
            errors["413"] = "Body too large"
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors["503"] = "The database is unavailable (nothing was written), or " + OUTCOME_UNKNOWN
            errors["504"] = "The request's deadline passed: nothing was written"
        if getattr(self.view, "action", None) == "create":
            errors["422"] = "This Idempotency-Key was sent with another request"
        for code, description in errors.items():
            bodies.setdefault(
                code, {"content": {"application/json": {"schema": ERROR_SCHEMA}}, "description": description}
            )
        return bodies


def describe_path_ids(result, generator, request, public):
    """Every id in a URL is 24 hex digits; each has an example from the sample data."""
    for path, item in result["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", ()):
                if parameter["in"] != "path":
                    continue
                example = PATH_IDS.get(parameter["name"]) or DETAIL_EXAMPLES.get(path.rstrip("/"))
                parameter["schema"] = {"type": "string", "pattern": OBJECT_ID_PATTERN}
                if example:
                    parameter["example"] = example
    return result


def optional_response_fields(result, generator, request, public):
    """A response holds only the keys ``?fields=`` names (and ``_id``): none other is required.

    Request bodies keep their required fields and refuse unknown ones
    (``COMPONENT_SPLIT_REQUEST`` gives them components of their own, ``<Name>Request``).
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if "_id" not in component.get("properties", {}):
            continue
        if name.endswith("Request"):
            component["additionalProperties"] = False  # an unknown field is a 400
        else:
            component["required"] = ["_id"]
    return result


def strip_trailing_slashes(result, generator, request, public):
    """Document routes as the seed wrote them (``/clients``); both forms are served."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
