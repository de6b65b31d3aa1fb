"""The changelists' search box: ids, CSV file names, agent names, words in the source record."""

import dataclasses
import datetime

import pytest

from interactions.admin import InteractionAdmin
from sampledata.factories import make_interaction

pytestmark = pytest.mark.django_db

URL = "/admin/interactions/interaction/"
START = datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC)


@pytest.fixture
def data(two_clients):
    phone, chat, sms = two_clients["phone"], two_clients["chat"], two_clients["sms"]
    hours = datetime.timedelta(hours=1)

    def chat_custom(text):
        return {"chatId": "CH-1", "transcript": [{"from": "customer", "text": text}]}

    return {
        **two_clients,
        "row1": make_interaction(phone, START, "John Ford", custom={"csvName": "2020_16_05_report.csv", "csvLine": 2}),
        "row2": make_interaction(phone, START + hours, "Mary Major", custom={"csvName": "2020_16_05_report.csv"}),
        "other_file": make_interaction(phone, START + 2 * hours, "Ann Other", custom={"csvName": "june.csv"}),
        "refund": make_interaction(chat, START + 3 * hours, "Jon Fordham", custom=chat_custom("I'd like a REFUND")),
        "parcel": make_interaction(chat, START + 4 * hours, "Sam Smith", custom=chat_custom("Where is my parcel?")),
        "zen_refund": make_interaction(sms, START + 5 * hours, "Lee Jones", custom={"body": "refund please"}),
    }


def found(admin_client, data, query, url=URL):
    response = admin_client.get(f"{url}?{query}")
    assert response.status_code == 200
    names = {document.pk: name for name, document in data.items()}
    return sorted(names[document.pk] for document in response.context["cl"].result_list), response


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("{row1}", ["row1"]),  # the interaction itself
        ("{chat}", ["parcel", "refund"]),  # its engagement's
        ("{zenith}", ["zen_refund"]),  # its client's
        ("  {phone} ", ["other_file", "row1", "row2"]),
        ("ford", ["refund", "row1"]),  # agent names, any case, substrings
        ("FORD jon", ["refund"]),  # every word
        ("2020_16_05_report.csv", ["row1", "row2"]),  # a CSV file's rows
        ("june.csv", ["other_file"]),
        ("refund", []),  # the source record is searched only within a client, engagement or dates
        ("a.*b", []),  # regular-expression characters match themselves
    ],
)
def test_one_box_finds_ids_agents_and_files(admin_client, data, term, expected):
    term = term.format(**{name: document.pk for name, document in data.items()})
    assert found(admin_client, data, f"q={term}")[0] == expected


@pytest.mark.parametrize("keyset_above", [500, 2])  # numbered pages, keyset pages
def test_an_unknown_id_finds_nothing_and_says_so(admin_client, data, monkeypatch, mongo_commands, keyset_above):
    monkeypatch.setattr(InteractionAdmin, "keyset_above", keyset_above)
    mongo_commands.clear()
    names, response = found(admin_client, data, "q=0123456789abcdef01234567")
    assert names == []
    assert response.context["cl"].result_count == 0
    assert "No interaction, engagement, client has the id 0123456789abcdef01234567." in response.content.decode()
    # Each kind of id looked for once; then no count and no page: nothing can match.
    assert sorted(name for name, collection in mongo_commands if collection == "interaction") == ["aggregate"]


def test_words_found_nowhere_send_no_page(admin_client, data, mongo_commands):
    mongo_commands.clear()
    names, _ = found(admin_client, data, f"client={data['acme'].pk}&q=nowhere")
    assert names == []
    # The scan of the client's newest records only: no count or page of no ids.
    assert [name for name, collection in mongo_commands if collection == "interaction"] == ["find"]


@pytest.mark.parametrize(
    ("scope", "term", "expected"),
    [
        ("client={acme}", "refund", ["refund"]),  # inside a chat transcript, any case
        ("client={zenith}", "refund", ["zen_refund"]),
        ("engagement={chat}", "parcel", ["parcel"]),
        ("engagement={chat}", "where PARCEL", ["parcel"]),
        ("engagement={chat}", "where refund", []),  # every word
        ("date_from=2020-05-01&date_to=2020-05-01", "refund", ["refund", "zen_refund"]),
        ("client={acme}", "ford", ["refund", "row1"]),  # agent names still
        ("client={acme}", "csvLine", ["row1"]),  # keys too
    ],
)
def test_words_in_the_source_record_within_a_scope(admin_client, data, scope, term, expected):
    scope = scope.format(**{name: document.pk for name, document in data.items()})
    assert found(admin_client, data, f"{scope}&q={term}")[0] == expected


def test_the_source_record_scan_is_bounded_and_says_so(admin_client, data, monkeypatch):
    monkeypatch.setattr(InteractionAdmin, "text_search", dataclasses.replace(InteractionAdmin.text_search, limit=2))
    names, response = found(admin_client, data, f"client={data['acme'].pk}&q=csvName")
    assert names == []  # the files' rows are older than Acme's two newest
    assert "Searched the newest 2 records of this selection only" in response.content.decode()
    assert found(admin_client, data, f"client={data['acme'].pk}&q=refund")[0] == ["refund"]


def test_the_help_text_says_what_is_searched(admin_client, data):
    page = admin_client.get(URL).content.decode()
    assert "Paste an id (of an interaction, an engagement or a client), a CSV file name" in page
    assert "words in the source record are searched too, among the newest 10,000 interactions" in page


def test_source_file_filter_lists_the_engagements_files_with_row_counts(admin_client, data):
    phone = data["phone"].pk
    page = admin_client.get(f"{URL}?engagement={phone}").content.decode()
    assert "2020_16_05_report.csv (2 rows)" in page
    assert "june.csv (1 rows)" in page
    names, _ = found(admin_client, data, f"engagement={phone}&file=2020_16_05_report.csv")
    assert names == ["row1", "row2"]
    assert found(admin_client, data, "file=june.csv")[0] == ["other_file"]


def test_engagements_are_found_by_id_client_id_and_client_name(admin_client, data):
    url = "/admin/engagements/engagement/"
    labels = {e.pk: k for k, e in data.items()}

    def search(term):
        response = admin_client.get(f"{url}?q={term}")
        return sorted(labels[e.pk] for e in response.context["cl"].result_list)

    assert search(data["chat"].pk) == ["chat"]
    assert search(data["zenith"].pk) == ["sms"]
    assert search("acme") == ["chat", "phone"]
    assert search("zen") == ["sms"]
    assert search("phone") == ["phone"]


def test_clients_are_found_by_id_and_nickname(admin_client, data):
    def search(term):
        response = admin_client.get(f"/admin/clients/client/?q={term}")
        return [c.nickName for c in response.context["cl"].result_list]

    assert search(data["zenith"].pk) == ["Zen"]
    assert search("ACM") == ["Acme"]
    assert search(data["chat"].pk) == []  # an engagement's id is not a client's
