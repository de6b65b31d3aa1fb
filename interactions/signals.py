"""Daily counts follow every ``Interaction.save()`` and ``delete()`` (the admin's writes,
and any code that uses the document), through MongoEngine's signals."""

from mongoengine import signals

from interactions import rollups
from interactions.documents import Interaction


def remember_stored(sender, document, created=False, **kwargs):
    """Before an update: the version being replaced, to uncount it."""
    stored = None if created else Interaction._get_collection().find_one({"_id": document.pk})
    document._rollup_replaced = stored


def count_saved(sender, document, **kwargs):
    rollups.record(added=[document.to_mongo().to_dict()], removed=[document.__dict__.pop("_rollup_replaced", None)])


def uncount_deleted(sender, document, **kwargs):
    rollups.record(removed=[document.to_mongo().to_dict()])


signals.pre_save_post_validation.connect(remember_stored, sender=Interaction)
signals.post_save.connect(count_saved, sender=Interaction)
signals.post_delete.connect(uncount_deleted, sender=Interaction)
