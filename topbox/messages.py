"""Django's message middleware, with each request's message storage made on first use."""

from django.contrib.messages import middleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty


class MessageMiddleware(middleware.MessageMiddleware):
    """The admin's pages read and add messages; API requests never do, and making the
    storage (a cookie and a session backend) for each of them cost more than most
    middleware. Made when first used, it is the same storage: it reads the request only
    then, and one never used has nothing to store on the response."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
