import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clients.documents import Client
from engagements.documents import Engagement
from interactions.documents import SENTIMENTS, Interaction
from sampledata import synthetic
from topbox.documents import missing_references

# The commands record what they write in the admin's history (SQL).
pytestmark = pytest.mark.django_db

CUSTOM_KEYS = {
    "Phone": {"csvName", "agentFirstName", "agentLastName", "callDurationSeconds", "callerRegion", "resolved"},
    "Chat": {"chatId", "agentFirstName", "agentLastName", "transcript", "rating"},
    "SMS": {"smsId", "from", "body", "agentFirstName", "agentLastName", "segments"},
    "Twitter": {"tweetId", "handle", "text", "retweets", "likes", "agentHandle"},
    "Facebook": {"postId", "message", "reactions", "agentFirstName", "agentLastName"},
}


def everything():
    return {
        document_cls._meta["collection"]: list(document_cls._get_collection().find().sort("_id", 1))
        for document_cls in (Client, Engagement, Interaction)
    }


def added(results):
    return {name: result.added for name, result in results.items()}


def test_realistic_and_valid_data():
    results = synthetic.generate(clients=2, engagements=6, interactions=3000, random_seed=7, batch_size=700)
    assert added(results) == {"client": 2, "engagement": 6, "interaction": 3000}
    assert Client.objects.count() == 2
    assert Interaction.objects.count() == 3000

    engagements = list(Engagement.objects)
    assert {engagement.name for engagement in engagements} == set(synthetic.CHANNELS)
    assert not missing_references(engagements)
    interactions = list(Interaction.objects)
    assert not missing_references(interactions)
    for interaction in interactions[:200]:
        interaction.validate(check_references=False)

    assert {interaction.sentiment for interaction in interactions} == {*SENTIMENTS, None}
    assert len({interaction.agentName for interaction in interactions}) >= 40
    dates = [interaction.interactionDate for interaction in interactions]
    assert min(dates) >= datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    assert max(dates) < datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    assert len({date.month for date in dates}) == 12
    channel = {engagement.pk: engagement.name for engagement in engagements}
    for interaction in interactions:
        assert set(interaction.custom) == CUSTOM_KEYS[channel[interaction.engagementId.pk]]


def test_the_same_seed_gives_the_same_data():
    synthetic.generate(clients=2, engagements=3, interactions=300, random_seed=3)
    first = everything()
    for document_cls in (Interaction, Engagement, Client):
        document_cls._get_collection().delete_many({})
    synthetic.generate(clients=2, engagements=3, interactions=300, random_seed=3)
    assert everything() == first
    for document_cls in (Interaction, Engagement, Client):
        document_cls._get_collection().delete_many({})
    synthetic.generate(clients=2, engagements=3, interactions=300, random_seed=4)
    assert everything()["interaction"] != first["interaction"]


def test_running_again_adds_nothing_and_more_adds_only_the_rest():
    synthetic.generate(clients=2, engagements=3, interactions=300, random_seed=3)
    again = synthetic.generate(clients=2, engagements=3, interactions=300, random_seed=3)
    assert added(again) == {"client": 0, "engagement": 0, "interaction": 0}
    assert again["interaction"].present == 300
    more = synthetic.generate(clients=2, engagements=3, interactions=450, random_seed=3)
    assert (more["interaction"].added, more["interaction"].present) == (150, 300)
    assert Interaction.objects.count() == 450


def test_progress_is_reported_per_batch():
    seen = []
    synthetic.generate(clients=1, engagements=1, interactions=25, batch_size=10, on_progress=seen.append)
    assert seen == [10, 20, 25]


@pytest.mark.parametrize("arguments", [{"clients": 0}, {"clients": 3, "engagements": 2}, {"interactions": -1}], ids=str)
def test_impossible_arguments_are_refused(arguments):
    with pytest.raises(ValueError, match="at least one client"):
        synthetic.generate(**arguments)


def test_seed_command_synthetic():
    out = StringIO()
    arguments = ["--synthetic", "--interactions", "120", "--clients", "2", "--engagements", "4", "--random-seed", "9"]
    call_command("seed", *arguments, stdout=out)
    assert out.getvalue().splitlines() == [
        "client: 2 added, 0 already present",
        "engagement: 4 added, 0 already present",
        "interaction: 120 added, 0 already present",
    ]
    assert Interaction.objects.count() == 120


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--flush", "--noinput"], "run `seed --flush` on its own first"),
        (["--clients", "5", "--engagements", "2"], "at least as many engagements as clients"),
    ],
)
def test_seed_command_synthetic_refuses(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed", "--synthetic", *arguments, stdout=StringIO())
    assert Interaction.objects.count() == 0


@pytest.mark.parametrize(("clients", "engagements"), [(3, 40), (5, 25), (30, 30)])
def test_clients_and_engagements_are_told_apart(clients, engagements, seeded):
    synthetic.generate(clients=clients, engagements=engagements, interactions=0)
    names = [client.name for client in Client.objects]
    assert len(set(names)) == len(names) == clients + 3  # the fixtures' three too
    assert len({client.nickName for client in Client.objects}) == clients + 3
    labels = [str(engagement) for engagement in Engagement.objects]
    assert len(set(labels)) == len(labels) == engagements + 10
    if clients == 3:  # the first client's 6th engagement is its second Phone
        assert "Phone 2 · Initech Footwear Inc." in labels
