import pytest
from bson import ObjectId
from mongoengine import ValidationError

from engagements.documents import Engagement
from interactions.documents import Interaction
from sampledata.factories import make_client, make_engagement, make_interaction
from topbox.documents import HasDependents


def test_client_and_name_are_required():
    with pytest.raises(ValidationError) as caught:
        Engagement().save()
    assert set(caught.value.errors) == {"clientId", "name"}
    assert Engagement.objects.count() == 0


def test_reference_to_a_missing_client_is_refused():
    missing = ObjectId()
    with pytest.raises(ValidationError) as caught:
        Engagement(clientId=missing, name="Chat").save()
    assert set(caught.value.errors) == {"clientId"}
    assert str(missing) in str(caught.value.errors["clientId"])
    assert Engagement.objects.count() == 0


def test_stores_the_client_reference_as_an_object_id():
    client = make_client()
    engagement = make_engagement(client, "SMS")
    raw = Engagement._get_collection().find_one({"_id": engagement.pk})
    assert raw == {"_id": engagement.pk, "clientId": client.pk, "name": "SMS"}
    assert Engagement.objects.get(pk=engagement.pk).clientId.name == client.name


def test_delete_with_interactions_is_refused_with_the_count():
    engagement = make_engagement()
    for _ in range(3):
        make_interaction(engagement)
    with pytest.raises(HasDependents) as caught:
        engagement.delete()
    assert caught.value.counts == {"interaction": 3}
    assert "3 interactions" in str(caught.value)
    assert Engagement.objects.count() == 1
    assert Interaction.objects.count() == 3


def test_indexes_exist():
    keys = {tuple(spec["key"]) for spec in Engagement._get_collection().index_information().values()}
    assert (("clientId", 1), ("name", 1)) in keys
