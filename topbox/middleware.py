"""Every web request gets a MongoDB deadline, and a database that fails it a clear answer.

Inside :class:`DatabaseDeadlineMiddleware` all of a request's MongoDB operations share one
deadline (``MONGO_QUERY_TIMEOUT_MS``, or the setting a view class names in
``mongo_timeout_setting``: CSV imports), through :func:`pymongo.timeout`: pymongo sends the
time left as ``maxTimeMS``, so the server stops a slow query itself, and gives up on a
server that does not answer. The API's exception handler turns these into JSON (503
unavailable, 504 too slow); here, the other pages (the admin) get a readable HTML page.
"""

import contextlib
import logging

import pymongo
from django.conf import settings
from django.shortcuts import render
from django.urls import Resolver404, resolve

from topbox import mongo

logger = logging.getLogger(__name__)


class DatabaseDeadlineMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            deadline = request.__dict__.pop("_mongo_deadline", None)
            if deadline is not None:
                # Under ASGI the hook ran in another context, which ends with the request.
                with contextlib.suppress(ValueError):
                    deadline.__exit__(None, None, None)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The deadline starts once the view is known (the URL is resolved once, by Django)
        and ends when :meth:`__call__` returns the response; nothing before the view reads
        MongoDB."""
        request._mongo_deadline = pymongo.timeout(self.view_deadline_ms(view_func) / 1000)
        request._mongo_deadline.__enter__()

    @staticmethod
    def view_deadline_ms(view):
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        return getattr(settings, getattr(view_class, "mongo_timeout_setting", "MONGO_QUERY_TIMEOUT_MS"))

    @classmethod
    def deadline_ms(cls, request):
        match = getattr(request, "resolver_match", None)
        if match is None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
        return cls.view_deadline_ms(match.func if match else None)

    def process_exception(self, request, exception):
        if mongo.is_too_slow(exception):
            logger.warning("MongoDB query over %s ms on %s", settings.MONGO_QUERY_TIMEOUT_MS, request.path)
            return render(
                request,
                "topbox/database_error.html",
                {"slow": True, "limit": settings.MONGO_QUERY_TIMEOUT_MS},
                status=504,
            )
        if mongo.is_unavailable(exception):
            logger.error("MongoDB unavailable on %s: %s", request.path, exception)
            return render(request, "topbox/database_error.html", {"slow": False}, status=503)
        return None
