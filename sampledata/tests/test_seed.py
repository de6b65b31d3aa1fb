import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from clients.documents import Client
from engagements.documents import Engagement
from interactions.documents import Interaction
from sampledata import seeding
from topbox import extjson, mongo

# The commands record what they write in the admin's history (SQL).
pytestmark = pytest.mark.django_db

SEED_EXAMPLE = {
    "_id": {"$oid": "5f18d12f42262eec0d43567d"},
    "engagementId": {"$oid": "5f18d12f42262eec0d435583"},
    "interactionDate": {"$date": 1589630400000},
    "agentName": "John Ford",
    "sentiment": "Negative",
    "custom": {"csvName": "2020_16_05_report.csv", "agentFirstName": "John", "agentLastName": "Ford"},
}


def counts():
    return {cls._meta["collection"]: cls.objects.count() for cls in (Client, Engagement, Interaction)}


def fixture_counts():
    return {
        document_cls._meta["collection"]: len(json.loads((seeding.FIXTURES_DIR / name).read_text()))
        for name, document_cls in seeding.FIXTURE_FILES
    }


@pytest.fixture
def fixtures_copy(tmp_path):
    for name, _ in seeding.FIXTURE_FILES:
        shutil.copy(seeding.FIXTURES_DIR / name, tmp_path / name)
    return tmp_path


def edit(path, change):
    records = json.loads(path.read_text())
    change(records)
    path.write_text(json.dumps(records))


def run_seed(*args):
    from io import StringIO

    out = StringIO()
    call_command("seed", *args, "--noinput", stdout=out)
    return out.getvalue()


def test_sample_data_is_large_and_varied_enough():
    expected = fixture_counts()
    assert expected["client"] >= 3
    assert expected["interaction"] >= 200
    output = run_seed()
    assert counts() == expected
    assert f"interaction: {expected['interaction']} added, 0 already present" in output
    sources = {engagement.name for engagement in Engagement.objects}
    assert len(sources) >= 4
    assert set(Interaction.objects.distinct("sentiment")) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert Interaction.objects(custom__csvName__exists=True).count() > 10


def test_the_seed_readmes_example_is_stored_exactly():
    run_seed()
    raw = mongo.database()["interaction"].find_one(
        {"agentName": "John Ford", "sentiment": "Negative", "custom.csvName": "2020_16_05_report.csv"}
    )
    assert json.loads(extjson.dumps(raw)) == SEED_EXAMPLE
    assert list(raw) == list(SEED_EXAMPLE)
    engagement = Engagement.objects.get(pk="5f18d12f42262eec0d435583")
    assert engagement.clientId.name


def test_running_twice_adds_nothing_and_keeps_corrections():
    run_seed()
    Client.objects(nickName="Acme").update(set__name="Acme (corrected)")
    before = counts()
    output = run_seed()
    assert counts() == before
    assert "Nothing new to add." in output
    assert Client.objects(nickName="Acme").get().name == "Acme (corrected)"


def test_running_again_restores_what_is_missing():
    run_seed()
    Interaction.objects(pk="5f18d12f42262eec0d43567d").delete()
    output = run_seed()
    assert "interaction: 1 added" in output
    assert counts() == fixture_counts()


def test_flush_starts_over():
    run_seed()
    client = Client(name="Not in the fixtures").save()
    Interaction.objects(pk="5f18d12f42262eec0d43567d").update(set__agentName="Changed")
    output = run_seed("--flush")
    assert counts() == fixture_counts()
    assert not Client.objects(pk=client.pk).count()
    assert Interaction.objects.get(pk="5f18d12f42262eec0d43567d").agentName == "John Ford"
    assert "client: 3 added, 0 already present (4 removed first)" in output


def test_if_empty_does_nothing_when_clients_exist():
    Client(name="Existing").save()
    output = run_seed("--if-empty")
    assert "nothing to seed" in output
    assert counts() == {"client": 1, "engagement": 0, "interaction": 0}


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("interactions.json", lambda r: r[5].update(sentiment="Furious"), "interactions.json: record 6 (_id "),
        ("interactions.json", lambda r: r[7].pop("interactionDate"), "interactionDate: Field is required"),
        (
            "interactions.json",
            lambda r: r[2].update(colour="red"),
            "record 3 (_id 5f18d12f42262eec0d435602): The fields \"{'colour'}\" do not exist",
        ),
        (
            "interactions.json",
            lambda r: r[9].update(engagementId={"$oid": "0" * 24}),
            "engagementId: Engagement 000000000000000000000000 does not exist",
        ),
        (
            "interactions.json",
            lambda r: r[1]["custom"].update({"$where": 1}),
            "custom.$where: keys must not start with '$'",
        ),
        ("engagements.json", lambda r: r[0].pop("_id"), "engagements.json: record 1: has no _id"),
        ("engagements.json", lambda r: r.append(dict(r[0])), "duplicate _id"),
        ("clients.json", lambda r: r[0].update(name=None), "clients.json: record 1"),
        ("clients.json", lambda r: r[0].update(_id={"$oid": "zz"}), "clients.json: invalid Extended JSON"),
        ("clients.json", lambda r: r[0].update(_id={"a": 1}), 'record 1: _id must be an ObjectId, {"$oid"'),
        ("clients.json", lambda r: r[0].update(_id=[1]), "record 1: _id must be an ObjectId"),
        ("interactions.json", lambda r: r[0].update(interactionDate={"$date": float("nan")}), "interactions.json:"),
        ("interactions.json", lambda r: r[0].update(interactionDate={"$date": float("inf")}), "interactions.json:"),
        ("interactions.json", lambda r: r[0].update(interactionDate={"$date": 10**20}), "interactions.json:"),
        ("interactions.json", lambda r: r[0].update(custom=deep(150)), "custom.a.a.a"),
        (
            "interactions.json",
            lambda r: r[4].update(agentName="Ann\x00Lee"),
            "record 5 (_id 5f18d12f42262eec0d435604): agentName: must not contain control characters (U+0000",
        ),
        ("clients.json", lambda r: r[1].update(nickName="A\ncme"), "clients.json: record 2"),
        (
            "engagements.json",
            lambda r: r[0].update(name="Phone\x1b[31m"),
            "name: must not contain control characters (U+001B",
        ),
        ("interactions.json", lambda r: r[0]["custom"].update(n=2**70), "integers must fit in 64 bits"),
        (
            "interactions.json",
            lambda r: [x["custom"].update(csvName="a.csv", csvLine=7) for x in r[3:5]],
            "record 5 (_id 5f18d12f42262eec0d435604): engagementId, custom.csvName, custom.csvLine: the unique index "
            "csv_row_unique already holds this key",
        ),
    ],
)
def test_malformed_fixture_names_file_and_record_and_writes_nothing(fixtures_copy, file, change, message):
    edit(fixtures_copy / file, change)
    with pytest.raises(CommandError) as caught:
        run_seed("--fixtures", str(fixtures_copy))
    assert message in str(caught.value)
    assert "Nothing was written" in str(caught.value)
    assert counts() == {"client": 0, "engagement": 0, "interaction": 0}


def deep(levels):
    value = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def test_a_fixture_nested_beyond_the_parser_is_named(fixtures_copy):
    (fixtures_copy / "clients.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match=r"clients\.json: invalid JSON: nested too deeply"):
        run_seed("--fixtures", str(fixtures_copy))


def test_a_fixture_that_is_a_directory_is_named(fixtures_copy):
    (fixtures_copy / "clients.json").unlink()
    (fixtures_copy / "clients.json").mkdir()
    with pytest.raises(CommandError, match=r"clients\.json: not a file\. Nothing was written"):
        run_seed("--fixtures", str(fixtures_copy))
    assert counts() == {"client": 0, "engagement": 0, "interaction": 0}


def test_a_record_colliding_with_a_stored_document_on_a_unique_index_writes_nothing(fixtures_copy):
    records = json.loads((fixtures_copy / "interactions.json").read_text())
    run_seed()
    Interaction.objects(pk=records[0]["_id"]["$oid"]).delete()
    Interaction._get_collection().update_one(
        {"_id": extjson.loads(json.dumps(records[1]["_id"]))},
        {"$set": {"custom.csvName": "a.csv", "custom.csvLine": 3}},
    )
    edit(fixtures_copy / "interactions.json", lambda r: r[0]["custom"].update(csvName="a.csv", csvLine=3))
    before = counts()
    with pytest.raises(CommandError, match=r"record 1 .*csv_row_unique already holds this key"):
        run_seed("--fixtures", str(fixtures_copy))
    assert counts() == before


def test_invalid_json_names_the_line(fixtures_copy):
    path = fixtures_copy / "engagements.json"
    lines = path.read_text().splitlines()
    lines[3] = "    oops,"
    path.write_text("\n".join(lines))
    with pytest.raises(CommandError, match=r"engagements.json: invalid JSON at line 4"):
        run_seed("--fixtures", str(fixtures_copy))
    assert counts() == {"client": 0, "engagement": 0, "interaction": 0}


def test_malformed_fixture_with_flush_keeps_the_stored_data(fixtures_copy):
    run_seed()
    edit(fixtures_copy / "interactions.json", lambda r: r[-1].update(sentiment="Furious"))
    with pytest.raises(CommandError):
        run_seed("--flush", "--fixtures", str(fixtures_copy))
    assert counts() == fixture_counts()


def test_references_may_point_at_stored_documents(fixtures_copy):
    run_seed()
    edit(fixtures_copy / "clients.json", lambda r: r.clear())
    edit(fixtures_copy / "engagements.json", lambda r: r.clear())
    Interaction.objects.delete()
    run_seed("--fixtures", str(fixtures_copy))
    assert counts() == fixture_counts()


def test_flush_needs_the_fixtures_to_be_self_contained(fixtures_copy):
    run_seed()
    edit(fixtures_copy / "clients.json", lambda r: r.clear())
    with pytest.raises(CommandError, match=r"clientId: Client \w+ does not exist"):
        run_seed("--flush", "--fixtures", str(fixtures_copy))
    assert counts() == fixture_counts()


def test_seed_fails_fast_when_mongo_is_down(mongo_down):
    with pytest.raises(CommandError, match="did not answer within 300 ms"):
        run_seed()
