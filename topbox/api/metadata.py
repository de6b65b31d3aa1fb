"""What ``OPTIONS`` answers: DRF's description of the fields a write takes, with human
labels and types for ids, references, dates and JSON objects, and the query parameters a
list accepts.

DRF's ``SimpleMetadata`` labels ``agentName`` "Agentname" and ``_id`` " id", and on a
detail route fetches the object through ``get_object()``, which document viewsets have no
queryset for; the fields a write takes do not depend on the document, so none is fetched.
"""

from dataclasses import dataclass

from django.http import Http404
from django.utils.text import camel_case_to_spaces, capfirst
from rest_framework import exceptions, serializers
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import clone_request

from topbox.api.fields import JSONObjectField, ObjectIdField, ReferenceField, UTCDateTimeField
from topbox.api.filters import ChoicesParam, DateParam
from topbox.api.serializers import UTCDateParamField

FIELD_TYPES = {
    ReferenceField: "reference",
    ObjectIdField: "id",
    UTCDateTimeField: "datetime",
    JSONObjectField: "object",
}


def human_label(name):
    """``agentName`` → "Agent name", ``engagementId`` → "Engagement", ``_id`` → "Id"."""
    name = name.strip("_")
    if name.endswith("Id") and len(name) > 2:
        name = name[:-2]
    return capfirst(camel_case_to_spaces(name).replace("_", " "))


def query_params_of(view):
    """What declares the query parameters ``view``'s GET or POST accepts: a list's
    ``filter_class`` (a QueryFilter), or another view's ``params_class`` (a
    QueryParamsSerializer)."""
    if getattr(view, "action_map", {}).get("get") == "list":
        return view.filter_class
    return getattr(view, "params_class", None)


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    choices: tuple = ()  # one of these (a single choice)
    is_date: bool = False


def describe_params(params):
    """The :class:`QueryParam` list of a QueryFilter or a QueryParamsSerializer class."""
    if isinstance(params, type) and issubclass(params, serializers.Serializer):
        return [
            QueryParam(
                name,
                str(field.help_text or ""),
                tuple(field.choices) if isinstance(field, serializers.ChoiceField) else (),
                isinstance(field, UTCDateParamField),
            )
            for name, field in params().fields.items()
        ]
    return [
        QueryParam(
            name,
            param.description,
            tuple(param.choices.values()) if isinstance(param, ChoicesParam) and not param.multiple else (),
            isinstance(param, DateParam),
        )
        for name, param in params.params.items()
    ]


class DocumentMetadata(SimpleMetadata):
    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        params = query_params_of(view)
        if params is not None:
            metadata["query_parameters"] = {
                param.name: {"label": human_label(param.name), "description": param.description}
                for param in describe_params(params)
            }
        return metadata

    def determine_actions(self, request, view):
        actions = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
            except (exceptions.APIException, Http404):  # as DRF: no permission, no description
                continue
            finally:
                view.request = request
            serializer_class = getattr(view, "serializer_class", None)
            if serializer_class is not None:
                actions[method] = self.get_serializer_info(serializer_class(context={"request": request}))
        return actions

    def get_field_info(self, field):
        info = super().get_field_info(field)
        for field_class, name in FIELD_TYPES.items():
            if isinstance(field, field_class):
                info["type"] = name
                break
        if (
            field.field_name
            and (field.label or "").replace(" ", "").lower() == field.field_name.replace("_", "").lower()
        ):
            info["label"] = human_label(field.field_name)  # DRF's default, from the name
        if isinstance(field, ReferenceField):
            info["references"] = field.document_type.__name__.lower()
        return info
