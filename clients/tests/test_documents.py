import pytest
from mongoengine import OperationError, ValidationError

from clients.documents import Client
from engagements.documents import Engagement
from sampledata.factories import make_client, make_engagement
from topbox.documents import HasDependents


def test_name_is_required_and_nickname_optional():
    with pytest.raises(ValidationError) as caught:
        Client(nickName="Acme").save()
    assert "name" in caught.value.errors
    assert Client(name="Acme Footwear Inc.").save().nickName is None
    assert Client.objects.count() == 1


def test_stored_in_the_seed_collection_with_its_field_names():
    client = make_client()
    raw = Client._get_collection().database["client"].find_one({"_id": client.pk})
    assert raw == {"_id": client.pk, "name": "Acme Footwear Inc.", "nickName": "Acme"}


def test_delete_with_engagements_is_refused_with_the_count():
    client = make_client()
    make_engagement(client, "Phone")
    make_engagement(client, "Chat")
    with pytest.raises(HasDependents) as caught:
        client.delete()
    assert caught.value.counts == {"engagement": 2}
    assert "2 engagements" in str(caught.value)
    assert Client.objects.count() == 1


def test_queryset_delete_is_refused_too():
    make_engagement()
    with pytest.raises(OperationError):
        Client.objects.delete()
    assert Client.objects.count() == 1


def test_delete_without_engagements_succeeds():
    client = make_client()
    engagement = make_engagement(client)
    engagement.delete()
    client.delete()
    assert Client.objects.count() == 0
    assert Engagement.objects.count() == 0


def test_indexes_exist():
    indexes = Client._get_collection().index_information()
    assert {tuple(spec["key"]) for spec in indexes.values()} >= {(("name", 1),), (("nickName", 1),)}
