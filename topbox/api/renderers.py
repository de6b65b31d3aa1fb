"""Responses in MongoDB legacy Extended JSON (see :mod:`topbox.extjson`)."""

import re

from rest_framework import renderers

from topbox import extjson


class ExtendedJSONRenderer(renderers.BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = (renderer_context or {}).get("indent")
        if accepted_media_type:  # `Accept: application/json; indent=2` pretty-prints, as DRF's does
            _, params = renderers.parse_header_parameters(accepted_media_type)
            if re.fullmatch(r"[0-8]", params.get("indent", "")):
                indent = int(params["indent"])
        try:
            return extjson.dumps(data, ensure_ascii=False, indent=indent).encode()
        except UnicodeEncodeError:  # a lone surrogate (say, echoed from bad input): escape it
            return extjson.dumps(data, indent=indent).encode()


class CSVRenderer(renderers.BaseRenderer):
    """``text/csv`` (``Accept`` or ``?format=csv``) for lists: the viewset streams the rows
    itself (``topbox.csvexport``); errors stay JSON (``DocumentViewSet.finalize_response``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("CSV lists are streamed by the viewset.")


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, with the raw JSON form for writes.

    The HTML field-by-field form cannot express ids, dates and ``custom`` in the seed's
    Extended JSON, so writes go through the raw form, pre-filled with the record.
    """

    def get_rendered_html_form(self, data, view, method, request):
        return None

    def get_raw_data_form(self, data, view, method, request):
        """Pre-fill PUT and PATCH with the record as shown (DRF would need a model instance)."""
        form = super().get_raw_data_form(data, view, method, request)
        if form is not None and method in ("PUT", "PATCH") and isinstance(data, dict) and "_id" in data:
            editable = {key: value for key, value in data.items() if key != "_id"}
            form.fields["_content"].initial = extjson.dumps(editable, ensure_ascii=False, indent=4)
        return form

    def get_filter_form(self, data, view, request):
        return None  # filters are query parameters, documented in /docs
