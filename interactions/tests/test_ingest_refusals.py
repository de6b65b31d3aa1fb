"""Ingest refuses before writing: rows MongoDB would refuse, and output paths that would
overwrite or delete something. Nothing is half-written and a re-run completes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from interactions import ingest
from interactions.documents import Interaction
from sampledata.factories import make_engagement
from topbox.fields import MAX_DOCUMENT_BYTES

pytestmark = pytest.mark.django_db  # a run is recorded in the history (SQL)

COLUMNS = 140  # x 125,000 characters: a row of 17.5 MB, each field under the csv module's limit
WIDE = 125_000
GOOD = "2020-05-16T12:00:00Z,John Ford"


def oversized_file():
    """A header, a good row, a row whose document is over 16 MiB, another good row."""
    header = ",".join(["interactionDate", "agentName", *(f"c{i}" for i in range(COLUMNS))])
    filler = ",".join(["x"] * COLUMNS)
    huge = ",".join(["y" * WIDE] * COLUMNS)
    lines = [header, f"{GOOD},{filler}", f"2020-05-17,Ann Lee,{huge}", f"2020-05-18,Bob Ray,{filler}"]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def big_csv():
    data = oversized_file()
    assert len(data) > MAX_DOCUMENT_BYTES
    return data


@pytest.fixture
def engagement():
    return make_engagement()


def ingest_command(path, engagement, *args):
    out = StringIO()
    call_command("ingest", str(path), "--engagement", str(engagement.pk), *args, stdout=out)
    return out.getvalue()


def test_an_oversized_row_is_rejected_by_line_and_a_rerun_completes(engagement, tmp_path, big_csv):
    path = tmp_path / "wide.csv"
    path.write_bytes(big_csv)
    with pytest.raises(CommandError) as caught:
        ingest_command(path, engagement)
    assert "1 of 3 rows rejected. line 3: the row makes a document of " in str(caught.value)
    assert "MongoDB stores at most 16,777,216 (16 MiB) per document" in str(caught.value)
    assert sorted(i.custom["csvLine"] for i in Interaction.objects) == [2, 4]
    assert len(str(caught.value)) < 1000  # the reason, not the row

    with pytest.raises(CommandError, match="1 of 3 rows rejected"):
        ingest_command(path, engagement)  # the same file again: no crash, nothing added
    assert Interaction.objects.count() == 2


def test_strict_writes_nothing_when_a_row_is_oversized(engagement, tmp_path, big_csv):
    path = tmp_path / "wide.csv"
    path.write_bytes(big_csv)
    with pytest.raises(CommandError, match="line 3: the row makes a document of"):
        ingest_command(path, engagement, "--strict")
    assert Interaction.objects.count() == 0


def test_the_api_reports_an_oversized_row_and_strict_writes_nothing(staff_api, settings, engagement, big_csv):
    settings.API_MAX_UPLOAD_BYTES = 32 * 1024 * 1024
    url = f"/engagements/{engagement.pk}/imports?name=wide.csv"
    strict = staff_api.post(url + "&strict=true", big_csv, content_type="text/csv")
    assert strict.status_code == 422
    assert strict.json()["problems"][0]["line"] == 3
    assert "16 MiB" in strict.json()["problems"][0]["reason"]
    assert Interaction.objects.count() == 0

    response = staff_api.post(url, big_csv, content_type="text/csv")
    assert response.status_code == 201
    assert (response.json()["inserted"], response.json()["rejected"]) == (2, 1)
    again = staff_api.post(url, big_csv, content_type="text/csv")
    assert (again.status_code, again.json()["alreadyPresent"], again.json()["rejected"]) == (200, 2, 1)


def write(path, *lines):
    path.write_text("\n".join(["interactionDate,agentName", *lines]) + "\n")
    return path


def test_rejects_equal_to_the_input_is_refused_and_the_input_kept(engagement, tmp_path):
    path = write(tmp_path / "report.csv", GOOD, "bad,Ann")
    before = path.read_bytes()
    with pytest.raises(CommandError, match="is the input file"):
        ingest_command(path, engagement, "--rejects", str(path))
    (tmp_path / "link.csv").symlink_to(path)
    with pytest.raises(CommandError, match="is the input file"):
        ingest_command(path, engagement, "--rejects", str(tmp_path / "link.csv"))
    assert path.read_bytes() == before
    assert Interaction.objects.count() == 0


def test_rejects_in_a_missing_directory_is_refused_before_any_write(engagement, tmp_path):
    path = write(tmp_path / "report.csv", *[GOOD] * 5, "bad,Ann")
    with pytest.raises(CommandError, match="does not exist"):
        ingest_command(path, engagement, "--rejects", str(tmp_path / "nowhere" / "r.csv"), "--batch-size", "1")
    assert Interaction.objects.count() == 0


def test_rejects_never_replaces_a_file_that_is_not_a_rejects_file(engagement, tmp_path):
    path = write(tmp_path / "report.csv", GOOD, "bad,Ann")
    other = tmp_path / "notes.csv"
    other.write_text("precious\n")
    with pytest.raises(CommandError, match="is not a rejects file"):
        ingest_command(path, engagement, "--rejects", str(other))
    assert other.read_text() == "precious\n"
    with pytest.raises(CommandError, match="is a directory"):
        ingest_command(path, engagement, "--rejects", str(tmp_path))


def test_rejects_is_written_only_when_a_row_is_rejected(engagement, tmp_path):
    rejects = tmp_path / "out.rejects.csv"
    clean = write(tmp_path / "clean.csv", GOOD)
    ingest_command(clean, engagement, "--rejects", str(rejects))
    assert not rejects.exists()

    rejects.write_text("line,reason,interactionDate,agentName\n9,old,x,y\n")
    ingest_command(clean, engagement, "--rejects", str(rejects))  # nothing rejected: left as it was
    assert "9,old" in rejects.read_text()

    dirty = write(tmp_path / "dirty.csv", "bad,Ann")
    with pytest.raises(CommandError):
        ingest_command(dirty, engagement, "--rejects", str(rejects))
    assert rejects.read_text().splitlines()[1].startswith("2,")  # replaced by this run's
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_check_rejects_path_names_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ingest.check_rejects_path(tmp_path / "a" / "b.csv")
    ingest.check_rejects_path(tmp_path / "fine.csv", inputs=[tmp_path / "input.csv"])
