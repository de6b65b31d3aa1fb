"""What a token request costs Topbox on the way to the view: one shared-cache read, one
URL resolution, no message storage, content negotiation without parsing; and that
revoking still takes effect at once."""

import contextvars

import pytest
from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils.functional import empty
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

from sampledata.factories import make_interaction
from topbox import middleware
from topbox.api.authentication import CachedTokenAuthentication, cache_key
from topbox.api.negotiation import ContentNegotiation
from topbox.api.renderers import BrowsableAPIRenderer, CSVRenderer, ExtendedJSONRenderer
from topbox.messages import MessageMiddleware


@pytest.fixture
def unthrottled(settings):
    """The user throttle off: its own reads and writes are not what is counted here."""
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": None}


def test_a_token_request_reads_the_shared_cache_once(staff_api, unthrottled):
    url = f"/interactions/{make_interaction().pk}"
    assert staff_api.get(url).status_code == 200  # the token's user is loaded and remembered
    with CaptureQueriesContext(connection) as queries:  # the cache is a table of the SQL database
        assert staff_api.get(url).status_code == 200
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert "topbox_cache" in queries[0]["sql"]
    # The shared cache holds a stamp; the user itself stays in the process that loaded it.
    key = Token.objects.get(user=staff_api.user).key
    stamp = cache.get(cache_key(key))
    assert isinstance(stamp, str)
    assert CachedTokenAuthentication.users[cache_key(key)][0] == stamp


def test_processes_share_the_stamp_rather_than_replace_it(staff_api, unthrottled):
    assert staff_api.get("/clients").status_code == 200
    key = cache_key(Token.objects.get(user=staff_api.user).key)
    stamp = cache.get(key)
    CachedTokenAuthentication.users.clear()  # as another process would: no user of its own yet
    assert staff_api.get("/clients").status_code == 200
    assert cache.get(key) == stamp  # adopted: the first process's user stays good
    assert CachedTokenAuthentication.users[key][0] == stamp


def test_a_user_changed_elsewhere_is_loaded_again(staff_api, unthrottled):
    assert staff_api.get("/clients").status_code == 200
    staff_api.user.is_staff = False  # saving the user deletes the shared entry (topbox.api.signals)
    staff_api.user.save()
    body = {"name": "Initech", "nickName": "Ini"}
    assert staff_api.post("/clients", body, format="json").status_code == 403  # the new user was read
    staff_api.user.is_active = False
    staff_api.user.save()
    assert staff_api.get("/clients").status_code == 401


def test_failed_tokens_are_still_counted(anonymous_api, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "failed_token": "2/minute"}
    codes = [anonymous_api.get("/clients", HTTP_AUTHORIZATION=f"Token guess{n}").status_code for n in range(3)]
    assert codes == [401, 401, 429]


def test_the_url_is_resolved_once(staff_api, monkeypatch):
    def resolve_again(path):
        raise AssertionError(f"{path} resolved a second time")

    monkeypatch.setattr(middleware, "resolve", resolve_again)
    assert staff_api.get(f"/interactions/{make_interaction().pk}").status_code == 200
    assert staff_api.get("/engagements/choices?term=x").status_code == 200  # before the router's /<id>


def test_a_request_through_asgi_has_its_deadline_too(staff_api, settings):
    """Under ASGI the view's hooks run in a context of their own: the deadline still
    applies to the view's queries, and the request ends cleanly."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    key = Token.objects.get(user=staff_api.user).key
    url = f"/interactions/{make_interaction().pk}"

    def get():  # in a context of its own, as a server's task is (async_to_sync hands changes back)
        client_get = async_to_sync(AsyncClient().get)
        return contextvars.copy_context().run(client_get, url, headers={"authorization": f"Token {key}"})

    assert get().status_code == 200
    settings.MONGO_QUERY_TIMEOUT_MS = 0.0001  # no time at all: the view's query is over it
    assert get().status_code == 504
    settings.MONGO_QUERY_TIMEOUT_MS = 1000
    assert get().status_code == 200
    assert staff_api.get(url).status_code == 200  # nothing of that deadline is left here


def test_an_api_request_makes_no_message_storage(staff_api):
    """The admin's messages still work (see its tests); a request that never uses them
    does not make their storage (topbox.messages)."""
    response = staff_api.get(f"/interactions/{make_interaction().pk}")
    assert response.status_code == 200
    assert response.wsgi_request._messages._wrapped is empty


def test_a_message_added_is_stored_and_read_by_the_next_request(rf):
    """Made on first use, the storage is Django's: what a view adds reaches the next page."""

    def add(request):
        messages.info(request, "Saved.")
        return HttpResponse()

    def read(request):
        return HttpResponse(" ".join(str(message) for message in messages.get_messages(request)))

    def through_middleware(view, request):
        SessionMiddleware(view).process_request(request)
        return MessageMiddleware(view)(request)

    stored = through_middleware(add, rf.get("/"))
    next_request = rf.get("/")
    next_request.COOKIES.update({name: morsel.value for name, morsel in stored.cookies.items()})
    assert through_middleware(read, next_request).content == b"Saved."
    assert through_middleware(read, rf.get("/")).content == b""


RENDERERS = [ExtendedJSONRenderer, BrowsableAPIRenderer, CSVRenderer]
ACCEPT = ["application/json", "text/html", "text/csv", "*/*", "text/html;q=0.5, application/json",
          "application/json; indent=2", "application/xml", ""]  # fmt: skip


@pytest.mark.parametrize("accept", ACCEPT)
@pytest.mark.parametrize(("query", "suffix"), [("", None), ("?format=json", None), ("?format=api", None), ("", "csv")])
def test_content_negotiation_selects_what_drfs_selects(rf, accept, query, suffix):
    def selected(negotiation):
        request = Request(rf.get(f"/interactions{query}", HTTP_ACCEPT=accept))
        try:
            renderer, media_type = negotiation.select_renderer(request, [r() for r in RENDERERS], suffix)
        except NotAcceptable:
            return NotAcceptable
        return type(renderer), media_type

    assert selected(ContentNegotiation()) == selected(DefaultContentNegotiation())
