"""OpenAPI 3 for Topbox's viewsets: their query filters, orderings, fields and expansions."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": 'A JSON body naming what was wrong: {"detail": "..."} or {"<field or parameter>": ["..."]}.',
}


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        view = self.view
        parameters = list(super().get_override_parameters())
        if not hasattr(view, "filter_class") or getattr(view, "action", None) not in ("list", "retrieve"):
            return parameters
        serializer = view.serializer_class
        parameters.append(
            OpenApiParameter(
                "fields", str, description=f"Return only these keys (and _id): {', '.join(serializer().fields)}."
            )
        )
        if serializer.expandable:
            from topbox.api.viewsets import expansion_paths

            parameters.append(
                OpenApiParameter(
                    "expand", str, description=f"Embed referenced documents: {', '.join(expansion_paths(serializer))}."
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
        for code, description in errors.items():
            bodies.setdefault(
                code, {"content": {"application/json": {"schema": ERROR_SCHEMA}}, "description": description}
            )
        return bodies


def strip_trailing_slashes(result, generator, request, public):
    """Document routes as the seed wrote them (``/clients``); both forms are served."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
