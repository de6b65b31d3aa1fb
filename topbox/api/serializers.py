"""The base serializer for Topbox documents.

Reads work on raw MongoDB documents (dicts straight from pymongo): a stored value is
already its representation, and the renderer writes it as Extended JSON, so reading
costs no MongoEngine object per row. Writes are validated field by field here, then by
the MongoEngine document before anything is stored.
"""

from rest_framework import serializers

from topbox.api.fields import ObjectIdField
from topbox.api.filters import check_query_params, plain_value
from topbox.dates import to_utc


class DocumentSerializer(serializers.Serializer):
    """Subclasses declare the stored fields, in the order responses list them, and set
    ``document`` (the MongoEngine class) and ``expandable`` (``{name: (reference field,
    serializer class)}`` for ``?expand=``)."""

    _id = ObjectIdField(required=False)

    document = None
    expandable = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                accepted = ", ".join(self.fields)
                raise serializers.ValidationError({name: [f"Unknown field. Accepted: {accepted}."] for name in unknown})
        return super().to_internal_value(data)

    def to_representation(self, instance):
        return {name: instance.get(name) for name in self.fields}

    @classmethod
    def represent(cls, rows, only=None):
        """What ``cls(rows, many=True, only=only).data`` gives, without building serializers
        for every request: the read path of every list and detail."""
        names = [name for name in cls._declared_fields if only is None or name == "_id" or name in only]
        return [{name: row.get(name) for name in names} for row in rows]

    def build_document(self, values):
        """A validated, unsaved MongoEngine document from stored-field ``values`` (``None`` = unset)."""
        document = self.document(**{("id" if k == "_id" else k): v for k, v in values.items() if v is not None})
        document.validate(check_references=False)  # the reference fields checked existence already
        return document


class QueryParamsSerializer(serializers.Serializer):
    """A view's query parameters declared as serializer fields, for views that are not
    lists (statistics, imports): the OpenAPI parameters come from the same declaration
    (``extend_schema(parameters=[TheSerializer])``).

    :meth:`from_query` refuses what a list's filters refuse: unknown or repeated
    parameters and values that look like MongoDB operators or documents. A field named
    with a trailing underscore (``from_``) is the parameter without it (``from``).
    """

    def get_fields(self):
        return {name.removesuffix("_"): field for name, field in super().get_fields().items()}

    @classmethod
    def from_query(cls, query_params):
        """The validated parameters of ``query_params`` (a 400 naming the parameter otherwise)."""
        check_query_params(query_params, None, *cls().fields)
        serializer = cls(data={name: plain_value(name, query_params[name]) for name in query_params})
        serializer.is_valid(raise_exception=True)
        return serializer


class UTCDateParamField(serializers.Field):
    """An ISO-8601 date or datetime, UTC unless it has a zone."""

    default_error_messages = {
        "invalid": "Not a valid date: give an ISO-8601 date (2020-05-16) or datetime (2020-05-16T12:00:00Z)."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = to_utc(data)
        if value is None:
            self.fail("invalid")
        return value


class ChoiceParamField(serializers.ChoiceField):
    """One of ``choices``, case-insensitively."""

    def to_internal_value(self, data):
        return super().to_internal_value(data.lower() if isinstance(data, str) else data)


class BooleanParamField(ChoiceParamField):
    """``true`` or ``false`` (default false), as a bool."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default", False)
        super().__init__(("true", "false"), **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data) == "true"
