import io

from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before anything reads them.

    The limit is the setting ``API_MAX_BODY_BYTES``; a view class may name another setting
    in ``max_body_setting`` (uploads). A chunked body (no Content-Length) is read here, up
    to the limit, when the server has de-chunked it (gunicorn says so with
    ``wsgi.input_terminated``); otherwise it is refused with 411, never read as empty.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        limit = getattr(settings, getattr(view_class, "max_body_setting", "API_MAX_BODY_BYTES"))
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not request.META.get(
            "CONTENT_LENGTH"
        ):
            return self.read_chunked(request, limit)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if length > limit:
            return too_large(length, limit)
        return None

    def read_chunked(self, request, limit):
        if not request.META.get("wsgi.input_terminated"):
            return JsonResponse(
                {"detail": "Send a Content-Length header (chunked bodies are not read here)."}, status=411
            )
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return too_large(f"over {limit}", limit)
        request._stream = io.BytesIO(body)
        request.META["CONTENT_LENGTH"] = str(len(body))
        return None


def too_large(length, limit):
    return JsonResponse(
        {"detail": f"The body is {length} bytes; the limit here is {limit} bytes.", "limit": limit}, status=413
    )
