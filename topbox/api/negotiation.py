"""Content negotiation: DRF's, answering the usual API request without parsing it."""

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """An ``Accept`` header that is exactly one renderer's media type (``application/json``,
    as API clients send it), without a format override, selects that renderer at once:
    what DRF's negotiation would select, after parsing the header and every renderer's
    media type on each request. Anything else is negotiated by DRF."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if accept and not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
            for renderer in renderers:
                if renderer.media_type == accept:
                    return renderer, accept
        return super().select_renderer(request, renderers, format_suffix)
