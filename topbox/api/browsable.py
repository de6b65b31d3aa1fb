"""HTML for the browsable API: the response's JSON with links and readable dates, and the
forms for a list's filters and a file upload. JSON responses are not touched.
"""

import datetime
import functools
import json
import re

from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from topbox.api.metadata import describe_params

HEX_ID = re.compile(r"[0-9a-f]{24}")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def text(value):
    """Escape for an HTML text node, quotes kept (Django's ``urlize`` then finds the URLs)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@functools.lru_cache
def is_kind(name):
    """Whether ``name`` is a kind of document with a detail route (``<name>-detail``)."""
    try:
        reverse(f"{name}-detail", kwargs={"pk": "0" * 24})
    except NoReverseMatch:
        return False
    return True


def detail_url(kind, pk):
    return reverse(f"{kind}-detail", kwargs={"pk": pk}) if kind and is_kind(kind) else None


def json_html(content, kind=None, indent=4):
    """``content`` (JSON as the API renders it with ``indent``) as HTML showing the same text,
    with ``{"$oid"}`` ids and references linked to their documents and each ``{"$date"}``
    followed by its ISO 8601 UTC form.

    ``kind`` names the documents at the top (``"interaction"``: ``interaction-detail``);
    ``_id`` links to a document of its object's kind, ``<kind>Id`` to a ``<kind>``, and an
    object under the key ``<kind>`` (an expanded reference) is of that kind. Content that is
    not JSON is only escaped.
    """
    try:
        data = json.loads(content)
    except ValueError:
        return mark_safe(text(content))
    return mark_safe(_html(data, kind, None, 0, indent))


def _html(value, kind, key, level, indent):
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict):
        if not value:
            return "{}"
        if list(value) == ["$oid"] and isinstance(value["$oid"], str) and HEX_ID.fullmatch(value["$oid"]):
            target = kind if key == "_id" else key[:-2] if key and key.endswith("Id") else None
            url = detail_url(target, value["$oid"])
            shown = format_html('"<a href="{}">{}</a>"', url, value["$oid"]) if url else f'"{value["$oid"]}"'
            return f'{{\n{inner}"$oid": {shown}\n{pad}}}'
        if list(value) == ["$date"] and isinstance(value["$date"], int):
            return f'{{\n{inner}"$date": {value["$date"]}\n{pad}}}{iso_note(value["$date"])}'
        items = []
        for name, item in value.items():
            child_kind = name if isinstance(item, dict) and is_kind(name) else kind
            rendered = _html(item, child_kind, name, level + 1, indent)
            items.append(f"{inner}{text(json.dumps(name, ensure_ascii=False))}: {rendered}")
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [inner + _html(item, kind, None, level + 1, indent) for item in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return text(json.dumps(value, ensure_ascii=False))


def iso_note(milliseconds):
    try:
        when = EPOCH + datetime.timedelta(milliseconds=milliseconds)
    except OverflowError:
        return ""
    iso = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return format_html('<span class="iso-date" title="ISO 8601, UTC"> {}</span>', iso)


def query_form(params, request, template, extra=(), **context):
    """A form for the query parameters ``params`` declares (and the ``extra`` field dicts),
    filled in from ``request``."""
    fields = list(extra)
    for param in describe_params(params):
        fields.append({
            "name": param.name,
            "description": param.description,
            "value": request.query_params.get(param.name, ""),
            "choices": list(param.choices),
            "placeholder": "2020-05-16 or 2020-05-16T12:00:00Z" if param.is_date else "",
        })  # fmt: skip
    return loader.render_to_string(template, {"fields": fields, **context}, request=request._request)
