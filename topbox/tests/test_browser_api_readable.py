"""The browsable API as a person uses it: links, readable dates, the filter form, the
DELETE and OPTIONS buttons, the CSV file picker, the login landing, Swagger's description
and the statistics' chart. The JSON itself is unchanged (see test_api_contract)."""

import re

import pytest
from playwright.sync_api import expect

from clients.documents import Client
from interactions.documents import Interaction

pytestmark = pytest.mark.browser

ACME, NORTHWIND = "5f18d12f42262eec0d435570", "5f18d12f42262eec0d435571"
ACME_PHONE = "5f18d12f42262eec0d435583"
EXAMPLE = "5f18d12f42262eec0d43567d"
PASSWORD = "browse-the-api-2026"


@pytest.fixture
def staff_page(page, live_server, seeded, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_interaction"))  # the dashboard link
    page.goto("/api-auth/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    return page


def response_text(page):
    return page.locator(".response-info").inner_text()


def test_the_login_link_lands_on_the_api_root(staff_page, screenshot, live_server):
    expect(staff_page).to_have_url(f"{live_server.url}/")
    expect(staff_page.locator(".navbar-brand").first).to_have_text("Topbox API")
    expect(staff_page.get_by_role("link", name="dashboard")).to_have_attribute("href", "/admin/dashboard/")
    assert "/interactions" in response_text(staff_page)
    screenshot("root")


def test_ids_link_to_their_documents_and_dates_read_as_iso(staff_page, screenshot):
    staff_page.goto(f"/interactions/{EXAMPLE}?expand=engagement.client")
    body = response_text(staff_page)
    assert '"$date": 1589630400000' in body
    expect(staff_page.locator(".iso-date")).to_have_text(" 2020-05-16T12:00:00.000Z")
    expect(staff_page.locator(f'.response-info a[href="/interactions/{EXAMPLE}"]')).to_have_count(1)
    expect(staff_page.locator(f'.response-info a[href="/clients/{ACME}"]')).to_have_count(2)  # clientId and _id
    screenshot("interaction-expanded")
    staff_page.locator(f'.response-info a[href="/engagements/{ACME_PHONE}"]').first.click()
    expect(staff_page.locator("h1")).to_have_text("Engagement Instance")
    assert '"name": "Phone"' in response_text(staff_page)


def test_the_filter_form_builds_the_query(staff_page, screenshot, live_server):
    staff_page.goto(f"/clients/{ACME}/interactions")
    staff_page.get_by_role("button", name="Filters").click()
    form = staff_page.locator("#filtersModal form")
    form.locator("[name=sentiment]").fill("Negative")
    form.locator("[name=from]").fill("2020-05-01")
    form.locator("[name=ordering]").select_option("interactionDate")
    screenshot("filter-form", full_page=False)
    form.get_by_role("button", name="Apply").click()
    expect(staff_page).to_have_url(
        f"{live_server.url}/clients/{ACME}/interactions?ordering=interactionDate&sentiment=Negative&from=2020-05-01"
    )
    body = response_text(staff_page)
    assert body.count('"sentiment": "Negative"') == body.count('"agentName"') > 0
    # The cursor of the next page wraps rather than widening the page.
    assert staff_page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot("filtered-list", full_page=False)


def test_delete_and_options_buttons(staff_page, screenshot):
    spare = Client(name="Spare Parts Ltd", nickName="Spare").save()
    staff_page.goto(f"/clients/{spare.pk}")
    staff_page.get_by_role("button", name="OPTIONS").click()
    expect(staff_page.locator(".response-info")).to_contain_text('"label": "Nick name"')
    screenshot("options")
    staff_page.goto(f"/clients/{spare.pk}")
    staff_page.get_by_role("button", name="DELETE").click()
    staff_page.locator("#deleteModal").get_by_role("button", name="Delete").click()
    expect(staff_page.locator(".response-info")).to_contain_text("HTTP 204 No Content")
    assert Client.objects(pk=spare.pk).count() == 0
    staff_page.goto("/clients")
    expect(staff_page.get_by_role("button", name="DELETE")).to_have_count(0)  # a list cannot be deleted


def test_a_client_user_gets_no_delete_button(page, live_server, seeded):
    from clients.client_users import create_client_user

    user, _ = create_client_user("acme-team", ACME)
    user.set_password(PASSWORD)
    user.save()
    page.goto("/api-auth/login/")
    page.fill("#id_username", "acme-team")
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    page.goto(f"/clients/{ACME}")
    expect(page.locator("h1")).to_have_text("Client Instance")
    expect(page.get_by_role("button", name="DELETE")).to_have_count(0)
    page.get_by_role("link", name="dashboard").click()  # the navigation bar leads to its own dashboard
    expect(page).to_have_url(re.compile(rf"/clients/{ACME}/dashboard$"))


def test_the_import_endpoint_takes_a_file_and_options(staff_page, screenshot, live_server):
    staff_page.goto(f"/engagements/{ACME_PHONE}/imports")
    expect(staff_page.locator(".content-main .pull-left code").first).to_be_visible()  # Markdown rendered
    staff_page.set_input_files(
        "#upload-file",
        files=[{
            "name": "browser_upload.csv",
            "mimeType": "text/csv",
            "buffer": b"interactionDate,agentName,sentiment\n2020-05-16 14:00,Ana Lima,positive\n"
            b"2020-05-16 15:00,Ana Lima,\n",
        }],
    )  # fmt: skip
    staff_page.select_option("#upload-strict", "true")
    staff_page.fill("#upload-tz", "Europe/Paris")
    screenshot("import-form")
    staff_page.locator("#post-object-form").get_by_role("button", name="POST").click()
    expect(staff_page.locator(".response-info")).to_contain_text("HTTP 201 Created")
    assert '"inserted": 2' in response_text(staff_page)
    expect(staff_page).to_have_url(f"{live_server.url}/engagements/{ACME_PHONE}/imports?tz=Europe%2FParis&strict=true")
    stored = Interaction.objects(custom__csvName="browser_upload.csv").order_by("interactionDate")
    assert [i.interactionDate.hour for i in stored] == [12, 13]  # read in Paris time (UTC+2)
    screenshot("import-result")


def test_stats_show_the_chart_above_the_json(staff_page, screenshot):
    staff_page.goto(f"/clients/{ACME}/stats?interval=month")
    chart = staff_page.locator("#series-chart")
    expect(chart).to_be_visible()
    assert staff_page.evaluate("Chart.getChart('series-chart').data.labels.length") > 1
    assert chart.bounding_box()["y"] < staff_page.locator(".response-info").bounding_box()["y"]
    screenshot("stats")


def test_swagger_shows_the_whole_description(page, screenshot, live_server):
    page.goto("/docs")
    description = page.locator(".swagger-ui .info .description")
    expect(description).to_contain_text('{"$date": <ms since the epoch>}')
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Topbox API")
    screenshot("swagger", full_page=False)
