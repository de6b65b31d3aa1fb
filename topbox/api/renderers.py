"""Responses in MongoDB legacy Extended JSON (see :mod:`topbox.extjson`)."""

import re

from django.template import loader
from rest_framework import renderers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import override_method

from topbox import extjson
from topbox.api.browsable import json_html, query_form
from topbox.api.metadata import query_params_of


class ExtendedJSONRenderer(renderers.BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = (renderer_context or {}).get("indent")
        # `Accept: application/json; indent=2` pretty-prints, as DRF's does (no ";": no parameters)
        if accepted_media_type and ";" in accepted_media_type:
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
    """DRF's browsable API, made for people: the JSON with links and ISO dates, a form for
    the query parameters, DELETE and OPTIONS buttons where allowed, a file picker for
    uploads, and the raw JSON form for writes.

    The HTML field-by-field form cannot express ids, dates and ``custom`` in the seed's
    Extended JSON, so writes go through the raw form, pre-filled with the record.
    """

    def get_rendered_html_form(self, data, view, method, request):
        if method in ("DELETE", "OPTIONS"):
            return super().get_rendered_html_form(data, view, method, request)  # a button, if allowed
        params = query_params_of(view)
        if method == "POST" and params is not None and MultiPartParser in view.parser_classes:
            with override_method(view, request, method) as overridden:
                if not self.show_form_for_method(view, method, overridden, None):
                    return None
            return query_form(
                params,
                request,
                "rest_framework/topbox/upload_form.html",
                max_mb=getattr(view, "max_body_bytes", 0) // (1024 * 1024),
            )
        return None

    def get_raw_data_form(self, data, view, method, request):
        """Pre-fill PUT and PATCH with the record as shown (DRF would need a model instance)."""
        form = super().get_raw_data_form(data, view, method, request)
        if form is not None and method in ("PUT", "PATCH") and isinstance(data, dict) and "_id" in data:
            editable = {key: value for key, value in data.items() if key != "_id"}
            form.fields["_content"].initial = extjson.dumps(editable, ensure_ascii=False, indent=4)
        return form

    def get_filter_form(self, data, view, request):
        """The query parameters of a list (or of a GET such as the statistics) as a form."""
        params = query_params_of(view)
        if params is None or "GET" not in view.allowed_methods:
            return None
        extra = []
        if getattr(view, "orderings", None):
            extra.append({
                "name": "ordering",
                "choices": list(view.orderings),
                "value": request.query_params.get("ordering", ""),
                "description": f"Default: {view.default_ordering}.",
            })  # fmt: skip
        form = query_form(params, request, "rest_framework/topbox/query_form.html", extra)
        return loader.render_to_string(self.filter_template, {"elements": [form]})

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        view = renderer_context["view"]
        document = getattr(getattr(view, "serializer_class", None), "document", None)
        context["content"] = json_html(context["content"], document.__name__.lower() if document else None)
        return context
