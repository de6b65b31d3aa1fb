"""``format_html`` for what a changelist writes per row, without Django's per-argument cost.

Django's ``format_html`` escapes each argument through ``conditional_escape`` and
``escape``, both wrapped by ``keep_lazy``, which inspects every argument for a lazy string
on each call: about a third of a page's rows. :func:`format_html` here escapes the same
way (lazy strings are made strings first, ``__html__`` is trusted, anything else goes
through ``html.escape``), once.
"""

import html

from django.utils.functional import Promise
from django.utils.safestring import SafeString


def escape(value):
    """Django's ``conditional_escape``."""
    if isinstance(value, Promise):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def format_html(format_string, *args):
    """Django's ``format_html`` (positional arguments)."""
    return SafeString(format_string.format(*map(escape, args)))
