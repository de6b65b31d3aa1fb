"""The base serializer for Topbox documents.

Reads work on raw MongoDB documents (dicts straight from pymongo): a stored value is
already its representation, and the renderer writes it as Extended JSON, so reading
costs no MongoEngine object per row. Writes are validated field by field here, then by
the MongoEngine document before anything is stored.
"""

from rest_framework import serializers

from topbox.api.fields import ObjectIdField


class DocumentSerializer(serializers.Serializer):
    """Subclasses declare the stored fields, in the order responses list them, and set
    ``document`` (the MongoEngine class) and ``expandable`` (``{name: (reference field,
    serializer class)}`` for ``?expand=``)."""

    _id = ObjectIdField(required=False)

    document = None
    expandable = {}

    def __init__(self, *args, only=None, **kwargs):
        super().__init__(*args, **kwargs)
        if only is not None:
            for name in list(self.fields):
                if name != "_id" and name not in only:
                    self.fields.pop(name)

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
