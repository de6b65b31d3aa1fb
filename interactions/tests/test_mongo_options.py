"""Replica-set options in MONGO_URI, and where statistics read; the same app on a standalone server."""

import pytest
from pymongo import ReadPreference, WriteConcern

from interactions.documents import Interaction
from interactions.stats import interaction_stats
from sampledata.factories import make_engagement, make_interaction
from topbox import mongo

REPLICA_SET_OPTIONS = "w=majority&retryWrites=true&readPreference=primaryPreferred"


@pytest.fixture
def replica_set_options(mongo_uri):
    """The options the compose file's URI carries (less ``replicaSet``: this server is standalone)."""
    mongo.connect(mongo_uri + ("&" if "?" in mongo_uri else "?") + REPLICA_SET_OPTIONS)
    yield
    mongo.connect(mongo_uri)


def test_uri_options_reach_the_driver(replica_set_options):
    client = mongo.database().client
    assert client.write_concern == WriteConcern(w="majority")
    assert client.options.retry_writes is True
    assert client.read_preference == ReadPreference.PRIMARY_PREFERRED


def test_writes_and_reads_behave_the_same_with_them(replica_set_options):
    interaction = make_interaction(make_engagement(), agentName="Ada")
    assert Interaction.objects.get(pk=interaction.pk).agentName == "Ada"
    interaction.delete()
    assert Interaction.objects(pk=interaction.pk).count() == 0


def test_statistics_read_as_configured(settings):
    collection = Interaction._get_collection()
    assert mongo.for_statistics(collection) is collection  # unset: as the URI says
    settings.MONGO_STATS_READ_PREFERENCE = "secondaryPreferred"
    assert mongo.for_statistics(collection).read_preference == ReadPreference.SECONDARY_PREFERRED


def test_statistics_are_the_same_on_a_standalone_server_with_secondary_preferred(settings):
    engagement = make_engagement()
    for sentiment in ("Positive", "Negative", "Negative"):
        make_interaction(engagement, sentiment=sentiment)
    expected = interaction_stats(engagement=engagement)
    settings.MONGO_STATS_READ_PREFERENCE = "secondaryPreferred"
    assert interaction_stats(engagement=engagement) == expected
    assert expected["sentiments"]["Negative"] == 2


def test_an_unknown_read_preference_names_the_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from topbox import env

    monkeypatch.setenv("MONGO_STATS_READ_PREFERENCE", "secondaryish")
    with pytest.raises(ImproperlyConfigured, match="MONGO_STATS_READ_PREFERENCE must be one of primary, "):
        env.get_choice("MONGO_STATS_READ_PREFERENCE", "", ("", *mongo.READ_PREFERENCES))
