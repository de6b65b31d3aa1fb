"""The admin's search-as-you-type picker, served by the API with the API's access rules.

Select2 (which ships with Django's admin, and which its ``autocomplete_fields`` use) asks
``GET <collection>/choices?term=acm&page=2`` and reads
``{"results": [{"id": "<24 hex>", "text": "<label>"}], "pagination": {"more": true}}``.
Each page is one bounded query of the collection's selector, scoped to what the user may
see: a client user's token lists only its own client's documents.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from topbox.api.serializers import QueryParamsSerializer

PAGE_SIZE = 20
MAX_PAGE = 500


class ChoicesParams(QueryParamsSerializer):
    term = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Words the label must hold, in any case."
    )
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_PAGE)
    # Sent by Django's admin/js/autocomplete.js; not needed here.
    app_label = serializers.CharField(required=False, help_text="Ignored (sent by Django's admin).")
    model_name = serializers.CharField(required=False, help_text="Ignored (sent by Django's admin).")
    field_name = serializers.CharField(required=False, help_text="Ignored (sent by Django's admin).")


CHOICES_SCHEMA = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {"type": "object", "properties": {"id": {"type": "string"}, "text": {"type": "string"}}},
        },
        "pagination": {"type": "object", "properties": {"more": {"type": "boolean"}}},
    },
}


class ChoicesView(APIView):
    """Documents by label for a picker: every word of `term` in the label, 20 per page."""

    choices = None  # (user, words, offset, limit) -> documents, in order; given to as_view()

    @extend_schema(parameters=[ChoicesParams], responses={200: CHOICES_SCHEMA})
    def get(self, request, *args, **kwargs):
        params = ChoicesParams.from_query(request.query_params).validated_data
        words = params.get("term", "").split()[:10]
        offset = (params["page"] - 1) * PAGE_SIZE
        documents = self.choices(request.user, words, offset, PAGE_SIZE + 1)
        results = [{"id": str(document.pk), "text": str(document)} for document in documents[:PAGE_SIZE]]
        return Response({"results": results, "pagination": {"more": len(documents) > PAGE_SIZE}})
