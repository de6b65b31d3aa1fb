import datetime
import os
import re
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper

from clients.documents import Client
from engagements.documents import Engagement
from interactions.counts import keys, rebuilding, recording
from interactions.documents import SENTIMENTS, Interaction
from sampledata import synthetic
from topbox.documents import missing_references
from topbox.management.progress import progress

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


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"clients": 0}, "at least one client, not 0"),
        ({"clients": 3, "engagements": 2}, "one engagement per client: 2 engagements for 3 clients"),
        ({"interactions": -1}, "cannot be negative"),
    ],
    ids=str,
)
def test_impossible_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        synthetic.generate(**arguments)
    assert Client.objects.count() == 0


def test_seed_command_synthetic():
    out, err = StringIO(), StringIO()
    arguments = ["--synthetic", "--interactions", "120", "--clients", "2", "--engagements", "4", "--random-seed", "9"]
    call_command("seed", *arguments, stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "client: 2 added, 0 already present",
        "engagement: 4 added, 0 already present",
        "interaction: 120 added, 0 already present",
    ]
    assert re.fullmatch(r"120 interactions in [\d.,]+ s \([\d,]+ interactions/s\)\.", lines[3])
    # Not a terminal: a line of progress with the rate, no bar.
    assert re.fullmatch(r"120 of 120 interactions \(100%\), [\d,]+ interactions/s, \d+ s so far\n", err.getvalue())
    assert Interaction.objects.count() == 120


def test_seed_command_counts_every_batch():
    arguments = ["--synthetic", "--interactions", "900", "--engagements", "4", "--batch-size", "70"]
    call_command("seed", *arguments, stdout=StringIO(), stderr=(err := StringIO()))
    assert len(err.getvalue().splitlines()) == 10  # a line every tenth of the way
    assert keys.collection().count_documents({}) > 0
    call_command("rebuild_rollups", "--check", stdout=(out := StringIO()))
    assert out.getvalue() == "The daily counts match the interactions.\n"
    assert rebuilding.differences() == []


def test_the_daily_counts_are_inserted_when_new_and_counted_up_when_stored(monkeypatch):
    monkeypatch.setattr(recording, "INSERT_FROM", 1)  # insert the new ones, whatever their number
    monkeypatch.setattr(recording, "FLUSH_ROWS", 7)  # in many bulk writes
    synthetic.generate(clients=2, engagements=3, interactions=400, random_seed=5)
    stored = keys.collection().count_documents({})
    assert rebuilding.differences() == []
    synthetic.generate(clients=2, engagements=3, interactions=1200, random_seed=5)  # new days and stored ones
    assert keys.collection().count_documents({}) > stored
    assert rebuilding.differences() == []


def test_an_interrupted_load_counts_what_it_wrote_and_a_rerun_completes_it():
    def interrupt(done):
        if done >= 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthetic.generate(clients=2, engagements=3, interactions=1000, batch_size=100, on_progress=interrupt)
    written = Interaction.objects.count()
    assert 300 <= written < 1000
    assert rebuilding.differences() == []
    again = synthetic.generate(clients=2, engagements=3, interactions=1000, batch_size=100)
    assert (again["interaction"].added, again["interaction"].present) == (1000 - written, written)
    assert rebuilding.differences() == []


def test_progress_lines_every_tenth_with_the_rate():
    stream = StringIO()
    with progress(OutputWrapper(stream), 1000, "interactions") as bar:
        for _ in range(40):
            bar.update(25)
    lines = stream.getvalue().splitlines()
    assert [line.split(" interactions")[0] for line in lines] == [f"{n:,} of 1,000" for n in range(100, 1001, 100)]
    assert all(re.search(r"\(\d+%\), [\d,]+ interactions/s, \d+ s so far$", line) for line in lines)


def test_progress_bar_on_a_terminal_and_silence_at_verbosity_0():
    class Terminal(StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    with progress(OutputWrapper(terminal), 1000, "interactions") as bar:
        bar.update(1000)
    assert "1.00k/1.00k" in terminal.getvalue()
    assert "interactions/s" in terminal.getvalue()
    quiet = StringIO()
    with progress(OutputWrapper(quiet), 1000, "interactions", verbosity=0) as bar:
        bar.update(1000)
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--flush", "--noinput"], "run `seed --flush` on its own first"),
        (["--clients", "5", "--engagements", "2"], "one engagement per client"),
        (["--interactions", "-5"], "argument --interactions: must be at least 0, not -5"),
        (["--interactions", "1e6"], "argument --interactions: '1e6' is not a whole number"),
        (["--clients", "0"], "argument --clients: must be at least 1, not 0"),
        (["--batch-size", "0"], "argument --batch-size: must be at least 1, not 0"),
    ],
)
def test_seed_command_synthetic_refuses(arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("seed", "--synthetic", *arguments, stdout=StringIO())
    assert Interaction.objects.count() == 0


def test_bad_arguments_exit_non_zero_with_the_reason(mongo_uri):
    command = [sys.executable, "manage.py", "seed", "--synthetic", "--interactions", "-5"]
    done = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "MONGO_URI": mongo_uri})  # fmt: skip
    assert done.returncode != 0
    assert "argument --interactions: must be at least 0, not -5" in done.stderr
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
