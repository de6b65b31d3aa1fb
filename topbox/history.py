"""Every change to a document, in one history: Django's admin log (``LogEntry``).

The admin records its own edits (Django's ``ModelAdmin.log_*``); every other write path
calls this module: the API's ``perform_create/update/destroy``, the CSV ingest and the
seed. Each entry says who (the request's user: a token's user for API writes; for
``manage.py`` commands the operating-system user running them, as an inactive Django
user ``cli:<name>``), when, and what: the fields changed, or for a bulk operation one
entry with its counts (an ingest of 200,000 rows is one entry on its engagement). The
admin's History button of each record lists its entries.
"""

import getpass

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

# LogEntry.object_repr is at most 200 characters.
REPR_LENGTH = 200


def command_user():
    """The Django user standing for whoever runs a ``manage.py`` command on this machine."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        name = "unknown"
    user, created = get_user_model().objects.get_or_create(username=f"cli:{name}"[:150], defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _log(user, document_cls, object_id, label, flag, message):
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(document_cls, for_concrete_model=False),
        object_id=None if object_id is None else str(object_id),
        object_repr=label[:REPR_LENGTH],
        action_flag=flag,
        change_message=message,
    )


def _label(document_cls, raw):
    return str(document_cls._from_son(raw))


def changed_fields(document_cls, before, after):
    """The verbose names of the fields whose stored values differ, in the document's order."""
    return [
        field.verbose_name[:1].upper() + field.verbose_name[1:]
        for field in document_cls._fields.values()
        if field.db_field != "_id" and before.get(field.db_field) != after.get(field.db_field)
    ]


def added(user, document_cls, raw, via):
    """``raw`` (a stored document) was created through ``via`` ("the API")."""
    _log(user, document_cls, raw["_id"], _label(document_cls, raw), ADDITION, f"Added through {via}.")


def changed(user, document_cls, before, after, via):
    """A document was changed from ``before`` to ``after`` (stored documents); nothing is
    recorded if no field changed."""
    names = changed_fields(document_cls, before, after)
    if names:
        message = f"Changed {', '.join(names)} through {via}."
        _log(user, document_cls, after["_id"], _label(document_cls, after), CHANGE, message)


def deleted(user, document_cls, raw, via):
    _log(user, document_cls, raw["_id"], _label(document_cls, raw), DELETION, f"Deleted through {via}.")


def bulk(user, document, message):
    """One entry on ``document`` for a bulk operation on what it holds (an ingest)."""
    _log(user, type(document), document.pk, str(document), CHANGE, message)


def collection(user, document_cls, message):
    """One entry for a bulk operation on a whole collection (a seed): on no single record."""
    _log(user, document_cls, None, document_cls._meta.get("collection", document_cls.__name__), CHANGE, message)
