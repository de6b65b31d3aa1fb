"""The browsable API's HTML: the same JSON text, with links and ISO dates; OPTIONS with
human labels; the JSON answers themselves untouched."""

import html
import json
import re

from topbox.api.browsable import json_html
from topbox.api.metadata import human_label

ACME = "5f18d12f42262eec0d435570"
EXAMPLE = "5f18d12f42262eec0d43567d"


def as_text(markup):
    """What a browser shows of ``markup``, without the ISO notes."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<span class="iso-date"[^>]*>[^<]*</span>', "", markup)))


def test_json_html_shows_the_same_json_with_links_and_iso_dates():
    content = json.dumps(
        {
            "results": [
                {
                    "_id": {"$oid": EXAMPLE},
                    "engagementId": {"$oid": "5f18d12f42262eec0d435583"},
                    "interactionDate": {"$date": 1589630400000},
                    "custom": {"note": "<script>alert(1)</script> & more", "n": [1, 2.5, None, True], "e": {}},
                    "engagement": {"_id": {"$oid": "5f18d12f42262eec0d435583"}, "clientId": {"$oid": ACME}},
                }
            ],
            "next": None,
        },
        indent=4,
    )
    markup = json_html(content, "interaction")
    assert as_text(markup) == content
    assert f'<a href="/interactions/{EXAMPLE}">{EXAMPLE}</a>' in markup
    assert markup.count('<a href="/engagements/5f18d12f42262eec0d435583">') == 2  # reference and expanded _id
    assert f'<a href="/clients/{ACME}">' in markup
    assert '<span class="iso-date" title="ISO 8601, UTC"> 2020-05-16T12:00:00.000Z</span>' in markup
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in markup


def test_json_html_only_escapes_what_is_not_json():
    assert json_html("<b>not json</b>") == "&lt;b&gt;not json&lt;/b&gt;"


def test_the_html_page_links_while_the_json_is_unchanged(staff_api, seeded):
    page = staff_api.get(f"/interactions/{EXAMPLE}", HTTP_ACCEPT="text/html").content.decode()
    assert 'href="/engagements/5f18d12f42262eec0d435583"' in page
    assert "2020-05-16T12:00:00.000Z" in page
    body = staff_api.get(f"/interactions/{EXAMPLE}").content
    assert b"<a" not in body
    assert b"iso-date" not in body
    assert json.loads(body)["interactionDate"] == {"$date": 1589630400000}


def test_options_describe_fields_with_human_labels(staff_api, seeded):
    detail = staff_api.options(f"/interactions/{EXAMPLE}")
    assert detail.status_code == 200  # DRF's metadata fetched the object through a queryset: a 500
    fields = detail.json()["actions"]["PUT"]
    assert {name: field["label"] for name, field in fields.items()} == {
        "_id": "Id",
        "engagementId": "Engagement",
        "interactionDate": "Interaction date",
        "agentName": "Agent name",
        "sentiment": "Sentiment",
        "custom": "Custom",
    }
    assert fields["engagementId"]["type"] == "reference"
    assert fields["engagementId"]["references"] == "engagement"
    assert fields["interactionDate"]["type"] == "datetime"
    listing = staff_api.options(f"/clients/{ACME}/interactions").json()
    assert listing["name"] == "Interaction List"
    assert listing["query_parameters"]["agentName"] == {
        "label": "Agent name",
        "description": "The agent's name, exactly.",
    }
    stats = staff_api.options(f"/clients/{ACME}/stats").json()
    assert set(stats["query_parameters"]) == {"from", "to", "interval"}


def test_client_users_see_no_write_actions_in_options(client_api_for, seeded):
    assert "actions" not in client_api_for(ACME).options(f"/clients/{ACME}").json()


def test_human_labels():
    assert human_label("nickName") == "Nick name"
    assert human_label("clientId") == "Client"
    assert human_label("first_name_column") == "First name column"


def test_logging_in_without_next_lands_on_the_root(client, django_user_model):
    django_user_model.objects.create_user("someone", password="a-long-password-2026")
    response = client.post("/api-auth/login/", {"username": "someone", "password": "a-long-password-2026"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/", HTTP_ACCEPT="text/html").status_code == 200
