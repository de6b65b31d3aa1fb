"""Interactions in the admin: columns, order, filters, search, actions, the detail page."""

import datetime
import json
import re

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from interactions.documents import Interaction
from sampledata.factories import interaction_form, make_interaction

pytestmark = pytest.mark.django_db

URL = "/admin/interactions/interaction/"
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@pytest.fixture
def data(two_clients):
    """The two clients' world with four interactions, today's to 400 days old, one without sentiment."""
    phone, chat, sms = two_clients["phone"], two_clients["chat"], two_clients["sms"]
    days = datetime.timedelta(days=1)
    return {
        **two_clients,
        "today": make_interaction(phone, NOW, "John Ford", "Negative"),
        "week": make_interaction(chat, NOW - 5 * days, "Mary Major", "Positive"),
        "old": make_interaction(sms, NOW - 400 * days, "Jon Fordham", "Neutral"),
        "none": make_interaction(phone, NOW - 40 * days, "Ann Other", None),
    }


def listed(response, data):
    """The listed rows by their keys in ``data`` ("today", "week", ...), in the listed order."""
    names = {document.pk: name for name, document in data.items()}
    return [names[document.pk] for document in response.context["cl"].result_list]


def test_list_shows_date_agent_sentiment_and_links_newest_first(admin_client, data):
    response = admin_client.get(URL)
    assert listed(response, data) == ["today", "week", "none", "old"]
    page = response.content.decode()
    row = page.split(f'value="{data["today"].pk}"')[1].split("</tr>")[0]
    assert '<td class="field-agentName">John Ford</td>' in row
    assert f'<th class="field-date"><a href="/admin/interactions/interaction/{data["today"].pk}/change/">' in row
    assert f"{data['today'].interactionDate:%Y-%m-%d %H:%M:%S} UTC</a>" in row
    headers = [re.sub("<[^>]+>", "", h).strip() for h in re.findall(r'<div class="text">(.*?)</div>', page)]
    assert headers[1:6] == ["Date (UTC)", "Agent", "Sentiment", "Engagement", "Client"]
    assert '<td class="field-sentiment">Negative</td>' in row
    assert f'<a href="/admin/engagements/engagement/{data["phone"].pk}/change/">Phone · Acme Footwear Inc.</a>' in row
    assert f'<a href="/admin/clients/client/{data["acme"].pk}/change/">Acme Footwear Inc. (Acme)</a>' in row
    assert listed(admin_client.get(f"{URL}?o=1"), data) == ["old", "none", "week", "today"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sentiment=Negative", ["today"]),
        ("sentiment=Positive", ["week"]),
        ("sentiment=-", ["none"]),
        ("client={acme}", ["today", "week", "none"]),
        ("client={zenith}", ["old"]),
        ("engagement={phone}", ["today", "none"]),
        ("client={acme}&sentiment=Positive", ["week"]),
        ("q=ford", ["today", "old"]),
        ("q=FORD john", ["today"]),
        ("q=nobody", []),
    ],
)
def test_filters_and_search(admin_client, data, query, expected):
    query = query.format(**{name: document.pk for name, document in data.items()})
    assert listed(admin_client.get(f"{URL}?{query}"), data) == expected


def test_date_presets_and_custom_range(admin_client, data):
    page = admin_client.get(URL).content.decode()
    today = NOW.date()
    presets = {
        "Today": (today, today),
        "Past 7 days": (today - datetime.timedelta(days=6), today),
        "This month": (today.replace(day=1), today),
    }
    for label, (start, end) in presets.items():
        query = f"date_from={start}&amp;date_to={end}"
        assert f'<a href="?{query}">{label}</a>' in page
    assert listed(admin_client.get(f"{URL}?date_from={today}&date_to={today}"), data) == ["today"]
    week = f"date_from={today - datetime.timedelta(days=6)}&date_to={today}"
    assert listed(admin_client.get(f"{URL}?{week}"), data) == ["today", "week"]
    assert listed(admin_client.get(f"{URL}?date_to={today - datetime.timedelta(days=30)}"), data) == ["none", "old"]
    custom = f"date_from={today - datetime.timedelta(days=41)}&date_to={today - datetime.timedelta(days=39)}"
    response = admin_client.get(f"{URL}?{custom}&sentiment=-")
    assert listed(response, data) == ["none"]
    assert '<input type="hidden" name="sentiment" value="-">' in response.content.decode()


def test_engagement_choices_narrow_to_the_chosen_client(admin_client, data):
    filters = admin_client.get(f"{URL}?client={data['zenith'].pk}").content.decode().split('id="changelist-filter"')[1]
    engagements = filters.split('data-filter-title="engagement"')[1].split("</details>")[0]
    assert "SMS" in engagements
    assert "Phone" not in engagements


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=yesterday", "date: &#x27;yesterday&#x27; is not a date (YYYY-MM-DD)"),
        ("client=nope", "client: not an ObjectId"),
        ("sentiment=Furious", "sentiment: not one of the choices"),
        ("colour=red", "Unknown filter parameter: colour. This list is filtered by: agent, client, date_from, date_to, "
         "engagement, file, sentiment (and searched with q)."),
    ],
)  # fmt: skip
def test_a_bad_parameter_says_what_was_wrong(admin_client, data, query, message):
    response = admin_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p class="errornote">{message}</p>' in page
    assert f'<a href="{URL}">Show every interaction</a>' in page


def test_no_dead_show_all(admin_client, data):
    assert "Show all" not in admin_client.get(URL).content.decode()
    filtered = admin_client.get(f"{URL}?sentiment=Negative").content.decode()
    assert '1 result (<a href="?">Show all</a>)' in filtered  # back to the whole list


def test_bulk_delete_states_what_it_removes_then_removes_it(admin_client, data):
    selected = {"action": "delete_selected", "_selected_action": [str(data["today"].pk), str(data["old"].pk)]}
    page = admin_client.post(URL, selected).content.decode()
    assert "Interactions: 2" in page
    assert f'Interaction: <a href="{URL}{data["today"].pk}/change/">John Ford at' in page
    assert "Jon Fordham" in page
    assert "Mary Major" not in page
    assert Interaction.objects.count() == 4

    response = admin_client.post(URL, {**selected, "post": "yes"})
    assert [str(m) for m in response.wsgi_request._messages] == ["Successfully deleted 2 interactions."]
    assert sorted(i.agentName for i in Interaction.objects) == ["Ann Other", "Mary Major"]
    assert set(LogEntry.objects.values_list("object_id", "action_flag")) == {
        (str(data["today"].pk), DELETION),
        (str(data["old"].pk), DELETION),
    }


def test_the_actions_menu_is_shown(admin_client, data):
    assert (
        '<option value="delete_selected">Delete selected interactions</option>'
        in admin_client.get(URL).content.decode()
    )


def test_detail_shows_custom_as_indented_json(admin_client, data):
    interaction = make_interaction(data["phone"], custom={"chat": {"lines": ["hi", "bye"]}, "ünï": 1})
    page = admin_client.get(f"{URL}{interaction.pk}/change/").content.decode()
    expected = json.dumps({"chat": {"lines": ["hi", "bye"]}, "ünï": 1}, ensure_ascii=False, indent=2)
    assert expected.replace('"', "&quot;") in page


def test_editing_custom_saves_the_json_object(admin_client, data):
    interaction = data["today"]
    custom = {"transcript": [{"from": "agent", "text": "Hello"}], "score": 0.5}
    response = admin_client.post(
        f"{URL}{interaction.pk}/change/", interaction_form(interaction, custom=json.dumps(custom))
    )
    assert response.status_code == 302
    assert Interaction.objects.get(pk=interaction.pk).custom == custom
    assert "Changed Source record." in LogEntry.objects.get().get_change_message()


@pytest.mark.parametrize(
    ("custom", "error"),
    [
        ("{not json", "Enter a valid JSON."),
        ("[1, 2]", "Enter a JSON object ({...})."),
        ('{"$set": 1}', "$set: keys must not start with '$'"),
        ('{"a": [{"b.c": 1}]}', "a[0].b.c: keys must not contain '.'"),
        ('{"a": "\\u0000", "x\\u0000": 1}', "x\x00: keys must not contain NUL"),
        ('{"a":' * 60 + "1" + "}" * 60, "Nest objects and lists at most 50 levels deep."),
    ],
)
def test_editing_custom_validates_json_and_mongodb_keys(admin_client, data, custom, error):
    interaction = data["today"]
    response = admin_client.post(f"{URL}{interaction.pk}/change/", interaction_form(interaction, custom=custom))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"custom": [error]}
    assert Interaction.objects.get(pk=interaction.pk).custom == {"csvName": "2020_16_05_report.csv"}


def test_engagement_is_picked_and_validated_on_save(admin_client, data):
    interaction = data["today"]
    page = admin_client.get(f"{URL}{interaction.pk}/change/").content.decode()
    select = page.split('<select name="engagementId"')[1].split("</select>")[0]
    assert 'data-ajax--url="/engagements/choices"' in select
    assert select.count("<option") == 2
    assert (
        f'Engagement: <a href="/admin/engagements/engagement/{data["phone"].pk}/change/">Phone · Acme Footwear Inc.</a>'
        in page
    )
    response = admin_client.post(
        f"{URL}{interaction.pk}/change/", interaction_form(interaction, engagementId=str(data["acme"].pk))
    )
    assert response.context["adminform"].form.errors == {
        "engagementId": [f"No engagement has the id {data['acme'].pk}."]
    }
    response = admin_client.post(
        f"{URL}{interaction.pk}/change/", interaction_form(interaction, engagementId=str(data["sms"].pk))
    )
    assert response.status_code == 302
    assert Interaction.objects.get(pk=interaction.pk).engagementId == data["sms"]


def test_clearing_the_sentiment_leaves_it_absent(admin_client, data):
    interaction = data["today"]
    admin_client.post(f"{URL}{interaction.pk}/change/", interaction_form(interaction, sentiment=""))
    stored = Interaction._get_collection().find_one({"_id": interaction.pk})
    assert "sentiment" not in stored


def test_adding_an_interaction(admin_client, data):
    new = {
        "engagementId": str(data["chat"].pk),
        "interactionDate_0": "2021-03-04",
        "interactionDate_1": "05:06:07",
        "agentName": "New Agent",
        "sentiment": "Mixed",
        "custom": '{"source": "admin"}',
    }
    assert admin_client.post(f"{URL}add/", new).status_code == 302
    added = Interaction.objects.get(agentName="New Agent")
    assert (added.engagementId, added.custom) == (data["chat"], {"source": "admin"})


def test_the_add_form_starts_empty_and_valid(admin_client, data):
    page = admin_client.get(f"{URL}add/").content.decode()
    assert '<textarea name="custom"' in page
    assert page.split('<textarea name="custom"')[1].split(">", 1)[1].startswith("\n{}</textarea>")
    assert "None" not in page.split('id="content-main"')[1].split("</form>")[0]
    select = page.split('<select name="engagementId"')[1].split("</select>")[0]
    assert select.count("<option") == 1  # nothing chosen yet
    form = {"engagementId": str(data["chat"].pk), "interactionDate_0": "2020-05-16", "interactionDate_1": "12:00:00"}
    response = admin_client.post(f"{URL}add/", {**form, "agentName": "", "sentiment": "", "custom": "{}"})
    assert response.status_code == 302
    added = Interaction.objects.get(engagementId=data["chat"].pk, interactionDate=datetime.datetime(2020, 5, 16, 12))
    assert added.custom == {}


def test_sorting_by_agent_and_sentiment(admin_client, data):
    page = admin_client.get(URL).content.decode()
    assert 'href="?o=2.-1"' in page  # the agent's and the sentiment's headers sort
    assert 'href="?o=3.-1"' in page
    assert listed(admin_client.get(f"{URL}?o=2"), data) == ["none", "today", "old", "week"]  # Ann, John, Jon, Mary
    assert listed(admin_client.get(f"{URL}?o=-2"), data) == ["week", "old", "today", "none"]
    assert listed(admin_client.get(f"{URL}?o=3"), data) == ["none", "today", "old", "week"]  # -, Neg, Neu, Pos
