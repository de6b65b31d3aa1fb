"""Development error pages that render in well under a second, whatever the failing code held.

Django's technical 500 page pretty-prints every local variable of every frame before
trimming it to 4 KB: a frame holding a page of documents or a CSV row of megabytes took
minutes. Here each value is summarised with :mod:`reprlib` first (bounded in items, depth
and characters), so the page costs what it shows. Production never renders these pages
(``DEBUG`` is refused there).
"""

import reprlib

from django.views.debug import SafeExceptionReporterFilter

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = 200
_REPR.maxlong = 100
for _name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_REPR, _name, 20)


class Summary(str):
    """A value already summarised: shown as it is, not quoted again."""

    def __repr__(self):
        return str(self)


def summarise(value):
    return Summary(_REPR.repr(value))


class BoundedExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter (secrets hidden), with every variable and POST value summarised."""

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, summarise(value)) for name, value in super().get_traceback_frame_variables(request, tb_frame)]

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        summarised = parameters.copy() if hasattr(parameters, "copy") else dict(parameters)
        if hasattr(summarised, "_mutable"):
            summarised._mutable = True
        for key in list(summarised):
            summarised[key] = summarise(summarised[key])
        return summarised
