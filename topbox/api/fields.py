"""Serializer fields for MongoDB values, read and written in the seed's Extended JSON.

Representations stay BSON values (ObjectId, datetime, dict): the renderer
(:mod:`topbox.api.renderers`) is the one place that turns them into Extended JSON.
Input accepts the same Extended JSON (already decoded by the parser into ObjectId and
datetime) and also plain hex strings for ids and ISO-8601 strings for dates.
"""

import datetime
import re

from bson import ObjectId
from bson.errors import InvalidId
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from topbox.dates import to_utc
from topbox.documents import existing_ids, reference_id
from topbox.fields import storage_problems

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
OBJECT_ID_SCHEMA = {
    "type": "object",
    "properties": {"$oid": {"type": "string", "pattern": "^[0-9a-f]{24}$"}},
    "required": ["$oid"],
    "example": {"$oid": "5f18d12f42262eec0d43567d"},
    "description": "An ObjectId as Extended JSON; writes also accept the plain 24-hex string.",
}
DATE_SCHEMA = {
    "type": "object",
    "properties": {"$date": {"type": "integer", "description": "milliseconds since the epoch, UTC"}},
    "required": ["$date"],
    "example": {"$date": 1589630400000},
    "description": "A UTC date as Extended JSON; writes also accept an ISO-8601 string (UTC when it has no zone).",
}


def to_object_id(value):
    """An ObjectId from an ObjectId, a 24-hex string or ``{"$oid": "<24 hex>"}``; else ``None``."""
    if isinstance(value, dict) and list(value) == ["$oid"]:
        value = value["$oid"]
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24:
        try:
            return ObjectId(value)
        except InvalidId:
            return None
    return None


def from_extended_date(value):
    """The value inside ``{"$date": ...}`` (milliseconds, ``{"$numberLong": "..."}`` or an
    ISO string) as a datetime or string; other values as they are."""
    if not (isinstance(value, dict) and list(value) == ["$date"]):
        return value
    inner = value["$date"]
    if isinstance(inner, dict) and list(inner) == ["$numberLong"] and isinstance(inner["$numberLong"], str):
        inner = int(inner["$numberLong"]) if re.fullmatch(r"-?[0-9]{1,19}", inner["$numberLong"]) else None
    if isinstance(inner, int) and not isinstance(inner, bool):
        try:
            return EPOCH + datetime.timedelta(milliseconds=inner)
        except OverflowError:
            return None
    return inner if isinstance(inner, str) else None


@extend_schema_field(OBJECT_ID_SCHEMA)
class ObjectIdField(serializers.Field):
    default_error_messages = {"invalid": 'Not a valid id: give a 24-hex string or {{"$oid": "<24 hex>"}}.'}

    def to_internal_value(self, data):
        value = to_object_id(data)
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value


@extend_schema_field(OBJECT_ID_SCHEMA)
class ReferenceField(ObjectIdField):
    """The id of a document of ``document_type``, which must exist when written."""

    default_error_messages = {"does_not_exist": "{document} {id} does not exist."}

    def __init__(self, document_type, **kwargs):
        self.document_type = document_type
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        # Raw documents (dicts) hold the id; MongoEngine documents must not dereference it.
        if isinstance(instance, dict):
            return instance.get(self.source)
        return reference_id(instance, self.source)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not existing_ids(self.document_type, [value]):
            self.fail("does_not_exist", document=self.document_type.__name__, id=value)
        return value


@extend_schema_field(DATE_SCHEMA)
class UTCDateTimeField(serializers.Field):
    default_error_messages = {
        "invalid": 'Not a valid date: give {{"$date": <ms since the epoch>}} or an ISO-8601 date or datetime.'
    }

    def to_internal_value(self, data):
        value = to_utc(from_extended_date(data))
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return value


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, booleans and objects instead of converting them."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": True, "description": "Any JSON object."})
class JSONObjectField(serializers.Field):
    """Any JSON object, nested values included, with keys MongoDB can store safely.

    Errors name the path inside the object: ``{"custom": {"a.b": ["keys must not contain '.'"]}}``.
    """

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_an_object")
        problems = {}
        for path, reason in storage_problems(data):
            problems.setdefault(path, []).append(reason)
        if problems:
            raise serializers.ValidationError(problems)
        return data

    def to_representation(self, value):
        return value
