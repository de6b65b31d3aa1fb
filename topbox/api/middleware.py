from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before anything reads them.

    The limit is ``settings.API_MAX_BODY_BYTES``; a view class may set its own
    ``max_body_bytes`` (uploads).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        limit = getattr(view_class, "max_body_bytes", settings.API_MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"The body is {length} bytes; the limit here is {limit} bytes.", "limit": limit}, status=413
            )
        return None
