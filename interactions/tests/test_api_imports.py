"""POST /engagements/<id>/imports: the ingest service over HTTP, staff only."""

from django.core.files.uploadedfile import SimpleUploadedFile

from interactions.documents import Interaction
from sampledata.factories import make_engagement

HEADER = "interactionDate,agentFirstName,agentLastName,sentiment,callerRegion"
ROWS = ["2020-05-16T12:00:00Z,John,Ford,Negative,NY", "2020-05-17T09:30:00Z,Ann,Lee, positive ,CA"]


def csv_bytes(*rows, header=HEADER):
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def imports_url(engagement, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/engagements/{engagement.pk}/imports" + (f"?{query}" if query else "")


def test_a_csv_body_becomes_interactions_and_a_second_post_adds_nothing(staff_api):
    engagement = make_engagement()
    url = imports_url(engagement, name="2020_16_05_report.csv")
    response = staff_api.post(url, csv_bytes(*ROWS), content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json() | {"problems": []} == {
        "csvName": "2020_16_05_report.csv", "dryRun": False, "rows": 2, "inserted": 2, "alreadyPresent": 0,
        "replaced": 0, "rejected": 0, "ok": True, "problems": [],
    }  # fmt: skip
    stored = Interaction.objects(engagementId=engagement.pk).order_by("interactionDate")
    assert [(i.agentName, i.sentiment) for i in stored] == [("John Ford", "Negative"), ("Ann Lee", "Positive")]
    assert stored[0].custom["csvName"] == "2020_16_05_report.csv"
    again = staff_api.post(url, csv_bytes(*ROWS), content_type="text/csv")
    assert again.status_code == 200
    assert (again.json()["inserted"], again.json()["alreadyPresent"]) == (0, 2)
    assert Interaction.objects(engagementId=engagement.pk).count() == 2


def test_a_multipart_upload_takes_the_files_name(staff_api):
    engagement = make_engagement()
    upload = SimpleUploadedFile("week_20.csv", csv_bytes(*ROWS), content_type="text/csv")
    response = staff_api.post(imports_url(engagement), {"file": upload}, format="multipart")
    assert response.status_code == 201
    assert response.json()["csvName"] == "week_20.csv"
    assert Interaction.objects(custom__csvName="week_20.csv").count() == 2


def test_bad_rows_are_reported_by_line_and_good_rows_kept(staff_api):
    engagement = make_engagement()
    body = csv_bytes(ROWS[0], "yesterday,Bob,Smith,,TX", "2020-05-18T10:00:00Z,,,Mixed,NY")
    response = staff_api.post(imports_url(engagement, name="r.csv"), body, content_type="text/csv")
    assert response.status_code == 201
    summary = response.json()
    assert (summary["inserted"], summary["rejected"], summary["ok"]) == (1, 2, False)
    assert [problem["line"] for problem in summary["problems"]] == [3, 4]
    assert all(problem["reason"] for problem in summary["problems"])


def test_strict_writes_nothing_when_a_row_is_bad(staff_api):
    engagement = make_engagement()
    body = csv_bytes(ROWS[0], "yesterday,Bob,Smith,,TX")
    response = staff_api.post(imports_url(engagement, name="r.csv", strict="true"), body, content_type="text/csv")
    assert response.status_code == 422
    assert response.json()["problems"][0]["line"] == 3
    assert Interaction.objects(engagementId=engagement.pk).count() == 0


def test_dry_run_and_column_options(staff_api):
    engagement = make_engagement()
    body = csv_bytes("16/05/2020 08:00,Ana Ruiz,positive", header="When,Rep,Mood")
    params = dict(
        name="x.csv", date_column="When", agent_column="Rep", sentiment_column="Mood", date_format="%d/%m/%Y %H:%M"
    )
    dry = staff_api.post(imports_url(engagement, dry_run="true", **params), body, content_type="text/csv")
    assert dry.status_code == 200
    assert dry.json()["dryRun"] is True
    assert Interaction.objects.count() == 0
    real = staff_api.post(imports_url(engagement, **params), body, content_type="text/csv")
    assert real.status_code == 201
    assert Interaction.objects.get().agentName == "Ana Ruiz"


def test_requests_that_cannot_be_imported(staff_api, client_api_for):
    engagement = make_engagement()
    body = csv_bytes(*ROWS)
    assert staff_api.post(imports_url(engagement), body, content_type="text/csv").json() == {
        "name": ["Give the file's name (stored as custom.csvName)."]
    }
    assert (
        staff_api.post(
            imports_url(engagement, name="a.csv", tz="Mars/Olympus"), body, content_type="text/csv"
        ).status_code
        == 400
    )
    assert (
        staff_api.post(imports_url(engagement, name="a.csv", colour="red"), body, content_type="text/csv").status_code
        == 400
    )
    assert (
        staff_api.post(f"/engagements/{'0' * 24}/imports?name=a.csv", body, content_type="text/csv").status_code == 404
    )
    assert (
        staff_api.post(imports_url(engagement, name="a.csv"), b"{}", content_type="application/json").status_code == 415
    )
    client = client_api_for(str(engagement.clientId.pk))
    assert client.post(imports_url(engagement, name="a.csv"), body, content_type="text/csv").status_code == 403
    assert Interaction.objects.count() == 0


def test_uploads_over_the_limit_get_413(staff_api, monkeypatch):
    from interactions.views import InteractionImportView

    monkeypatch.setattr(InteractionImportView, "max_body_bytes", 100)
    engagement = make_engagement()
    response = staff_api.post(imports_url(engagement, name="a.csv"), csv_bytes(*ROWS * 5), content_type="text/csv")
    assert response.status_code == 413
    assert response.json()["limit"] == 100
