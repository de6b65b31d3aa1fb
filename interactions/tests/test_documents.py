import datetime

import pytest
from bson import ObjectId
from mongoengine import ValidationError

from interactions.documents import Interaction
from sampledata.factories import make_engagement, make_interaction

NESTED = {
    "csvName": "2020_16_05_report.csv",
    "row": {"columns": ["a", "b"], "score": 4.5, "flags": {"vip": True, "note": None}},
    "count": 3,
    "text": "naïve café ✓",
}


def test_engagement_and_date_are_required():
    with pytest.raises(ValidationError) as caught:
        Interaction(agentName="John Ford").save()
    assert set(caught.value.errors) == {"engagementId", "interactionDate"}
    assert Interaction.objects.count() == 0


def test_agent_sentiment_and_custom_are_optional():
    engagement = make_engagement()
    interaction = Interaction(
        engagementId=engagement, interactionDate=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    interaction.save()
    raw = Interaction._get_collection().find_one({"_id": interaction.pk})
    assert set(raw) <= {"_id", "engagementId", "interactionDate", "custom"}


def test_reference_to_a_missing_engagement_is_refused():
    with pytest.raises(ValidationError) as caught:
        Interaction(engagementId=ObjectId(), interactionDate=datetime.datetime.now(datetime.UTC)).save()
    assert set(caught.value.errors) == {"engagementId"}
    assert Interaction.objects.count() == 0


@pytest.mark.parametrize("sentiment", ["Positive", "Negative", "Neutral", "Mixed"])
def test_allowed_sentiments(sentiment):
    assert make_interaction(sentiment=sentiment).reload().sentiment == sentiment


@pytest.mark.parametrize("sentiment", ["positive", "Angry", ""])
def test_other_sentiments_are_refused(sentiment):
    with pytest.raises(ValidationError) as caught:
        make_interaction(sentiment=sentiment)
    assert "sentiment" in caught.value.errors


def test_custom_round_trips_nested_values():
    interaction = make_interaction(custom=NESTED)
    raw = Interaction._get_collection().find_one({"_id": interaction.pk})
    assert raw["custom"] == NESTED
    assert list(raw["custom"]) == list(NESTED)
    assert Interaction.objects.get(pk=interaction.pk).custom == NESTED


@pytest.mark.parametrize(
    ("custom", "path"),
    [
        ({"$where": "1"}, "$where"),
        ({"a.b": 1}, "a.b"),
        ({"ok": {"deep": {"$gt": 1}}}, "ok.deep.$gt"),
        ({"list": [{"fine": 1}, {"bad\x00key": 2}]}, "list[1].bad\x00key"),
    ],
)
def test_custom_keys_mongodb_cannot_store_safely_are_refused(custom, path):
    with pytest.raises(ValidationError) as caught:
        make_interaction(custom=custom)
    assert path in str(caught.value.errors["custom"])
    assert Interaction.objects.count() == 0


def test_dates_are_stored_and_returned_in_utc():
    eastern = datetime.timezone(datetime.timedelta(hours=-4))
    interaction = make_interaction(when=datetime.datetime(2020, 5, 16, 8, tzinfo=eastern))
    stored = Interaction.objects.get(pk=interaction.pk).interactionDate
    assert stored == datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC)
    assert stored.utcoffset() == datetime.timedelta(0)


def test_indexes_match_the_queries():
    keys = {tuple(spec["key"]) for spec in Interaction._get_collection().index_information().values()}
    assert (("engagementId", 1), ("interactionDate", -1), ("_id", -1)) in keys
    assert (("interactionDate", -1), ("_id", -1)) in keys
    assert (("agentName", 1), ("interactionDate", -1), ("_id", -1)) in keys
    assert (("engagementId", 1), ("agentName", 1), ("interactionDate", -1), ("_id", -1)) in keys
    assert (("agentName", 1), ("sentiment", 1), ("interactionDate", -1), ("_id", -1)) in keys
    assert (("engagementId", 1), ("agentName", 1), ("_id", 1)) not in keys  # (retired)
