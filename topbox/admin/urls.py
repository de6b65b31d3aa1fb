"""URLs naming one document, reversed once per pattern rather than once per link.

A changelist links every row to its change page and to its relatives' (about 150 links
a page): Django's ``reverse()`` matches the pattern again for each. The URL of a pattern
taking one id is the same text on either side of the id, so that text is reversed once
(per URLconf, script prefix and namespace) and each id put in between. Only ids shaped
like the placeholder (ObjectIds: 24 hex digits, which no URL quoting changes) take
that path; any other argument is reversed by Django as usual.
"""

import re

from django.urls import NoReverseMatch, get_resolver, get_script_prefix, get_urlconf, reverse

_PLACEHOLDERS = ("0" * 24, "f" * 24)  # two, to check that the text around them is the same
_SAME_SHAPE = re.compile(r"[0-9a-f]{24}\Z")
_UNSPLIT = object()  # the placeholder's URL could not be split around it: reverse each time
# {(resolver, script prefix, view name, current app, with an id): the URL, or the text around the id}
_reversed = {}


def reverse_id(viewname, pk, current_app=None):
    """``reverse(viewname, args=[pk], current_app=current_app)``, the pattern matched once."""
    text = str(pk)
    if not _SAME_SHAPE.match(text):
        return reverse(viewname, args=[text], current_app=current_app)
    around = _once(viewname, current_app, True, _around)
    if around is _UNSPLIT:
        return reverse(viewname, args=[text], current_app=current_app)
    return f"{around[0]}{text}{around[1]}"


def _around(viewname, current_app):
    """``(before, after)``: the URL of ``viewname`` around its id, or ``_UNSPLIT``."""
    try:
        first, second = (reverse(viewname, args=[p], current_app=current_app) for p in _PLACEHOLDERS)
    except NoReverseMatch:
        return _UNSPLIT  # say, a pattern taking numbers only: Django decides for each id
    parts = first.split(_PLACEHOLDERS[0])
    if len(parts) != 2 or second != _PLACEHOLDERS[1].join(parts):
        return _UNSPLIT
    return tuple(parts)


def reverse_plain(viewname, current_app=None):
    """``reverse(viewname, current_app=current_app)`` of a pattern without arguments, matched once."""
    return _once(viewname, current_app, False, lambda name, app: reverse(name, current_app=app))


def _once(viewname, current_app, with_id, compute):
    """``compute(viewname, current_app)``, once per URLconf and script prefix."""
    key = (get_resolver(get_urlconf()), get_script_prefix(), viewname, current_app, with_id)
    value = _reversed.get(key)
    if value is None:
        if len(_reversed) > 1000:  # URLconfs replaced (tests): forget the old ones
            _reversed.clear()
        value = _reversed[key] = compute(viewname, current_app)
    return value
