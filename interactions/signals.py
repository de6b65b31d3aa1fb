"""The counts follow every write of interactions, in the transaction that makes it: the
API's, the admin's, ``Document.save()``/``delete()``, ingest and the sample data's bulk
loads all send :data:`topbox.documents.written` from inside it."""

from interactions.counts import recording
from interactions.documents import Interaction
from topbox.documents import written


def count_written(sender, removed=(), added=(), session=None, **kwargs):
    recording.record(added=added, removed=removed, session=session)


written.connect(count_written, sender=Interaction)
