import datetime
import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from interactions import ingest
from interactions.documents import Interaction
from sampledata.factories import make_engagement, make_interaction

# The commands record what they write in the admin's history (SQL).
pytestmark = pytest.mark.django_db

UTC = datetime.UTC
HEADER = "interactionDate,agentFirstName,agentLastName,sentiment,callerRegion"
SEED_ROW = "2020-05-16T12:00:00Z,John,Ford,Negative,NY"


def csv_file(*lines, header=HEADER, newline="\n", bom=False):
    text = newline.join([header, *lines]) + newline
    return io.BytesIO(("\ufeff" if bom else "").encode() + text.encode())


def stored(**query):
    return list(Interaction._get_collection().find(query, {"_id": 0}).sort("custom.csvLine", 1))


def run(stream, engagement, name="report.csv", **options):
    return ingest.ingest_csv(stream, name, engagement, ingest.Options(**options))


@pytest.fixture
def engagement():
    return make_engagement()


def test_a_row_becomes_an_interaction_like_the_seed_example(engagement):
    result = run(csv_file(SEED_ROW), engagement, name="2020_16_05_report.csv")
    assert (result.rows, result.inserted, result.rejected) == (1, 1, 0)
    assert result.ok
    (document,) = stored()
    assert document == {
        "engagementId": engagement.pk,
        "interactionDate": datetime.datetime(2020, 5, 16, 12, tzinfo=UTC),
        "agentName": "John Ford",
        "sentiment": "Negative",
        "custom": {
            "interactionDate": "2020-05-16T12:00:00Z",
            "agentFirstName": "John",
            "agentLastName": "Ford",
            "sentiment": "Negative",
            "callerRegion": "NY",
            "csvName": "2020_16_05_report.csv",
            "csvLine": 2,
        },
    }
    Interaction.objects.get().validate()  # what ingest writes is a valid Interaction


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Positive", "Positive"), (" negative ", "Negative"), ("MIXED", "Mixed"), ("\tneutral", "Neutral"), ("", None)],
)
def test_sentiment_is_normalised_or_absent(engagement, raw, expected):
    run(csv_file(f"2020-05-16T12:00:00Z,John,Ford,{raw},NY"), engagement)
    (document,) = stored()
    assert document.get("sentiment") == expected
    assert document["custom"]["sentiment"] == raw  # the original value is kept


def test_without_a_sentiment_column_no_row_has_one(engagement):
    run(csv_file("2020-05-16,Ann,Lee", header="interactionDate,agentFirstName,agentLastName"), engagement)
    assert "sentiment" not in stored()[0]


def test_agent_column_wins_over_first_and_last_names(engagement):
    header = "interactionDate,agentName,agentFirstName,agentLastName"
    run(csv_file("2020-05-16,Jane Doe,John,Ford", "2020-05-16,,John,", "2020-05-16, ,,Ford", header=header), engagement)
    assert [document["agentName"] for document in stored()] == ["Jane Doe", "John", "Ford"]


def test_column_names_are_options(engagement):
    header = "When,Rep,Mood,Channel"
    columns = ingest.Columns(date="When", agent="Rep", sentiment="Mood")
    run(
        csv_file("16/05/2020 08:00,Ana Ruiz,positive,web", header=header),
        engagement,
        columns=columns,
        date_format="%d/%m/%Y %H:%M",
    )
    (document,) = stored()
    assert document["agentName"] == "Ana Ruiz"
    assert document["sentiment"] == "Positive"
    assert document["interactionDate"] == datetime.datetime(2020, 5, 16, 8, tzinfo=UTC)
    assert document["custom"]["Channel"] == "web"


def test_timestamps_without_a_zone_are_read_in_the_given_zone(engagement):
    rows = ("2020-05-16T08:00:00,A,B,,x", "2020-05-16T08:00:00+02:00,A,B,,x", "2020-01-15,A,B,,x")
    run(csv_file(*rows), engagement, timezone="America/New_York")
    assert [document["interactionDate"] for document in stored()] == [
        datetime.datetime(2020, 5, 16, 12, tzinfo=UTC),  # EDT, UTC-4
        datetime.datetime(2020, 5, 16, 6, tzinfo=UTC),  # its own offset wins
        datetime.datetime(2020, 1, 15, 5, tzinfo=UTC),  # EST, UTC-5
    ]


def test_timestamps_without_a_zone_are_utc_by_default(engagement):
    run(csv_file("2020-05-16 12:00,A,B,,x"), engagement)
    assert stored()[0]["interactionDate"] == datetime.datetime(2020, 5, 16, 12, tzinfo=UTC)


def test_unknown_zone_is_refused():
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        ingest.Options(timezone="Mars/Olympus")


def test_bom_crlf_and_quoted_fields_with_commas_and_newlines(engagement):
    rows = ('2020-05-16,John,Ford,,"Portland, OR"', '2020-05-17,"Mary, Ann",Smith,,"a ""quoted""\r\nnote"', SEED_ROW)
    result = run(csv_file(*rows, newline="\r\n", bom=True), engagement)
    assert (result.inserted, result.rejected) == (3, 0)
    documents = stored()
    assert "interactionDate" in documents[0]["custom"]  # the BOM is not part of the first column's name
    assert documents[0]["custom"]["callerRegion"] == "Portland, OR"
    assert documents[1]["agentName"] == "Mary, Ann Smith"
    assert documents[1]["custom"]["callerRegion"] == 'a "quoted"\r\nnote'  # other columns keep any text
    # Line numbers are where each row starts in the file: the second row spans lines 3-4.
    assert [document["custom"]["csvLine"] for document in documents] == [2, 3, 5]


def test_a_line_break_in_an_agent_name_rejects_its_row_with_the_line(engagement):
    rows = ('2020-05-17,"Mary\r\nAnn",Smith,,x', SEED_ROW)
    result = run(csv_file(*rows, newline="\r\n"), engagement)
    assert (result.inserted, result.rejected) == (1, 1)
    assert result.problems[0].line == 2
    assert "control characters (U+000D" in result.problems[0].reason
    assert [document["custom"]["csvLine"] for document in stored()] == [4]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(engagement):
    run(csv_file(SEED_ROW, "", SEED_ROW), engagement)
    assert [document["custom"]["csvLine"] for document in stored()] == [2, 4]


def test_reingesting_the_same_file_adds_nothing(engagement):
    first = run(csv_file(SEED_ROW, SEED_ROW), engagement)
    again = run(csv_file(SEED_ROW, SEED_ROW), engagement)
    assert (first.inserted, first.already_present) == (2, 0)
    assert (again.inserted, again.already_present) == (0, 2)
    assert len(stored()) == 2


def test_the_same_file_name_in_another_engagement_is_another_file(engagement):
    run(csv_file(SEED_ROW), engagement)
    run(csv_file(SEED_ROW), make_engagement(name="Chat"))
    assert len(stored()) == 2


def test_an_interrupted_ingest_is_completed_by_running_it_again(engagement):
    lines = [f"2020-05-{day:02d}T10:00:00Z,Agent,{day},,x" for day in range(1, 26)]

    def interrupt(rows):
        if rows >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest.ingest_csv(
            csv_file(*lines), "report.csv", engagement, ingest.Options(batch_size=5), on_progress=interrupt
        )
    assert len(stored()) == 10
    result = run(csv_file(*lines), engagement, batch_size=5)
    assert (result.inserted, result.already_present) == (15, 10)
    assert sorted(document["custom"]["csvLine"] for document in stored()) == list(range(2, 27))


def test_replace_loads_a_corrected_file_in_place_of_the_earlier_one(engagement):
    run(csv_file(SEED_ROW, "2020-05-17,Ann,Lee,Angry,x", "2020-05-18,Bo,Li,,x"), engagement)
    run(csv_file(SEED_ROW), engagement, name="other.csv")
    make_interaction(engagement, custom={"csvName": "report.csv"})  # a fixture-style row, without a line
    assert len(stored(**{"custom.csvName": "report.csv"})) == 3  # the Angry row was rejected

    result = run(csv_file(SEED_ROW, "2020-05-17,Ann,Lee,Mixed,x"), engagement, replace=True)
    assert (result.replaced, result.inserted, result.already_present) == (2, 2, 0)
    rows = stored(**{"custom.csvName": "report.csv", "custom.csvLine": {"$exists": True}})
    assert [(row["agentName"], row.get("sentiment")) for row in rows] == [
        ("John Ford", "Negative"),
        ("Ann Lee", "Mixed"),
    ]
    assert len(stored(**{"custom.csvName": "other.csv"})) == 1
    assert len(stored(**{"custom.csvName": "report.csv", "custom.csvLine": {"$exists": False}})) == 1


def test_replace_with_a_bad_row_changes_nothing(engagement):
    run(csv_file(SEED_ROW, SEED_ROW), engagement)
    with pytest.raises(ingest.IngestError) as caught:
        run(csv_file(SEED_ROW, "not a date,A,B,,x"), engagement, replace=True)
    assert [str(problem) for problem in caught.value.problems] == [
        "line 3: unparsable date 'not a date' in column 'interactionDate' "
        "(expected ISO 8601, e.g. 2020-05-16T12:00:00Z)"
    ]
    assert len(stored()) == 2


def test_a_corrected_file_can_go_in_under_a_new_name(engagement):
    run(csv_file(SEED_ROW), engagement)
    run(csv_file(SEED_ROW), engagement, name="report-v2.csv")
    assert sorted(row["custom"]["csvName"] for row in stored()) == ["report-v2.csv", "report.csv"]


BAD_ROWS = [
    ("31/12/2020,John,Ford,,x", "unparsable date '31/12/2020' in column 'interactionDate'"),
    (",John,Ford,,x", "no date in column 'interactionDate'"),
    ("2020-05-16,,,,x", "no agent: 'agentName', 'agentFirstName' and 'agentLastName' are empty or absent"),
    ("2020-05-16,John,Ford,Angry,x", "unknown sentiment 'Angry' in column 'sentiment'"),
    ("2020-05-16,John,Ford,,x,extra", "expected 5 columns, found 6"),
    ("2020-05-16,John", "expected 5 columns, found 2"),
    ("2020-05-16,John,Ford,,x" + "y" * 200_000, "malformed CSV: field larger than field limit"),
    ('2020-05-16,John,"Ford"x,,x', "malformed CSV: ',' expected after '\"'"),
    ("2020-05-16,J,F,,{}".format("x" * 10), None),  # a good row among them
    ("2020-05-16," + "A" * 201 + ",,,x", "agent name longer than 200 characters"),
]


def test_bad_rows_are_reported_with_their_line_and_the_good_ones_stored(engagement):
    rejected = []
    result = ingest.ingest_csv(
        csv_file(SEED_ROW, *(row for row, _ in BAD_ROWS)),
        "report.csv",
        engagement,
        on_reject=lambda problem, header, fields: rejected.append((problem, header, fields)),
    )
    expected = [(line, reason) for line, (_, reason) in enumerate(BAD_ROWS, start=3) if reason]
    assert (result.rows, result.inserted, result.rejected) == (len(BAD_ROWS) + 1, 2, len(expected))
    assert not result.ok
    assert [problem.line for problem in result.problems] == [line for line, _ in expected]
    for problem, (_, reason) in zip(result.problems, expected, strict=True):
        assert problem.reason.startswith(reason)
    assert [problem for problem, _, _ in rejected] == result.problems
    assert rejected[0][1] == HEADER.split(",")
    assert rejected[0][2] == ["31/12/2020", "John", "Ford", "", "x"]
    assert [row["custom"]["csvLine"] for row in stored()] == [2, 11]


def test_invalid_utf8_rejects_the_row_and_the_rejects_file_keeps_its_bytes(engagement, tmp_path):
    data = (HEADER + "\n" + SEED_ROW + "\n2020-05-16,Jos\xe9,Ford,,x\n").encode("latin-1")
    path = tmp_path / "report.rejects.csv"
    with ingest.RejectsFile(path) as rejects:
        result = ingest.ingest_csv(io.BytesIO(data), "report.csv", engagement, on_reject=rejects)
    assert [str(problem) for problem in result.problems] == ["line 3: not valid UTF-8"]
    assert result.inserted == 1
    assert path.read_bytes().splitlines() == [
        b"line,reason," + HEADER.encode(),
        b"3,not valid UTF-8,2020-05-16,Jos\xe9,Ford,,x",
    ]


def test_problems_kept_in_memory_are_capped_but_all_counted(engagement):
    result = run(csv_file(*["bad,A,B,,x"] * (ingest.MAX_REPORTED + 5)), engagement)
    assert result.rejected == ingest.MAX_REPORTED + 5
    assert len(result.problems) == ingest.MAX_REPORTED


def test_strict_writes_nothing_if_any_row_is_bad(engagement):
    rejected = []
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest_csv(
            csv_file(SEED_ROW, "bad,A,B,,x", SEED_ROW, "2020-05-16,,,,x"),
            "report.csv",
            engagement,
            ingest.Options(strict=True),
            on_reject=lambda problem, header, fields: rejected.append(problem.line),
        )
    assert str(caught.value) == "2 of 4 rows rejected; nothing was written."
    assert [problem.line for problem in caught.value.problems] == [3, 5]
    assert caught.value.rejected == 2
    assert rejected == [3, 5]
    assert stored() == []


def test_strict_with_good_rows_writes_them(engagement):
    result = run(csv_file(SEED_ROW, SEED_ROW), engagement, strict=True)
    assert (result.rows, result.inserted) == (2, 2)


def test_strict_needs_a_seekable_stream(engagement):
    class OneWay(io.BytesIO):
        def seekable(self):
            return False

    with pytest.raises(ValueError, match="seekable"):
        run(OneWay(csv_file(SEED_ROW).getvalue()), engagement, strict=True)


def test_dry_run_writes_nothing(engagement):
    result = run(csv_file(SEED_ROW, "bad,A,B,,x"), engagement, dry_run=True)
    assert (result.rows, result.inserted, result.rejected, result.dry_run) == (2, 0, 1, True)
    assert stored() == []
    run(csv_file(SEED_ROW), engagement)
    replacing = run(csv_file(SEED_ROW), engagement, dry_run=True, replace=True)
    assert (replacing.replaced, replacing.inserted) == (1, 0)
    assert len(stored()) == 1


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("interactionDate,agentName,$where", "column '$where': keys must not start with '$'"),
        ("interactionDate,agentName,caller.region", "column 'caller.region': keys must not contain '.'"),
        ("interactionDate,agentName,bad\x00name", "column 'bad\\x00name': keys must not contain NUL"),
        ("interactionDate,agentName,agentName", "column 'agentName' appears twice"),
        ("interactionDate,agentName,", "column 3 has no name"),
        ("interactionDate,agentName,csvName", "column 'csvName' is reserved"),
        ("date,agentName", "no date column 'interactionDate'"),
        ("interactionDate,agent", "no agent column: expected 'agentName', or 'agentFirstName' and 'agentLastName'"),
    ],
)
def test_a_header_mongodb_cannot_store_stops_the_whole_file(engagement, header, problem):
    with pytest.raises(ingest.IngestError) as caught:
        run(csv_file("2020-05-16,John" + "," * (header.count(",") - 1), header=header), engagement)
    assert str(caught.value) == "The header (line 1) cannot be used; nothing was written."
    assert caught.value.problems[0].line == 1
    assert caught.value.problems[0].reason.startswith(problem)
    assert stored() == []


def test_an_empty_file_is_refused(engagement):
    with pytest.raises(ingest.IngestError, match="empty"):
        run(io.BytesIO(b"\xef\xbb\xbf\r\n"), engagement)


def test_the_callers_stream_is_left_open(engagement):
    stream = csv_file(SEED_ROW)
    run(stream, engagement)
    assert not stream.closed


def test_a_missing_unique_index_is_refused_before_writing(engagement):
    collection = Interaction._get_collection()
    collection.drop_index(ingest.UNIQUE_INDEX)
    try:
        with pytest.raises(ingest.IngestError, match="ensure_indexes"):
            run(csv_file(SEED_ROW), engagement)
        assert stored() == []
    finally:
        Interaction.ensure_indexes()


def test_ensure_indexes_creates_the_unique_row_index():
    call_command("ensure_indexes", stdout=StringIO())
    index = Interaction._get_collection().index_information()[ingest.UNIQUE_INDEX]
    assert index["key"] == [("engagementId", 1), ("custom.csvName", 1), ("custom.csvLine", 1)]
    assert index["unique"] is True
    assert index["partialFilterExpression"] == {"custom.csvLine": {"$exists": True}}


def test_ensure_indexes_drops_the_retired_indexes():
    """An index an older version declared (pages by agent broke ties by id) is dropped at
    deploy time; the one that replaced it is there."""
    collection = Interaction._get_collection()
    collection.create_index([("engagementId", 1), ("agentName", 1), ("_id", 1)])
    assert "engagementId_1_agentName_1__id_1" in collection.index_information()
    call_command("ensure_indexes", stdout=StringIO())
    indexes = collection.index_information()
    assert "engagementId_1_agentName_1__id_1" not in indexes
    assert [("engagementId", 1), ("agentName", 1), ("interactionDate", -1), ("_id", -1)] in [
        index["key"] for index in indexes.values()
    ]


def test_fixture_style_rows_without_a_line_number_may_share_a_file_name(engagement):
    make_interaction(engagement, custom={"csvName": "2020_16_05_report.csv"})
    make_interaction(engagement, custom={"csvName": "2020_16_05_report.csv"})
    assert Interaction.objects.count() == 2


# The command: a thin shell over the service.


def ingest_command(path, engagement, *args):
    out = StringIO()
    call_command("ingest", str(path), "--engagement", str(engagement.pk), *args, stdout=out)
    return out.getvalue()


def write(path, *lines, header=HEADER):
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_command_ingests_and_says_what_it_did(engagement, tmp_path):
    path = write(tmp_path / "2020_16_05_report.csv", SEED_ROW, SEED_ROW)
    output = ingest_command(path, engagement)
    assert f"2020_16_05_report.csv into engagement {engagement.pk} (Phone): 2 rows read, 2 added" in output
    assert "0 rejected" in output
    again = ingest_command(path, engagement)
    assert "0 added, 2 already present" in again
    assert not (tmp_path / "2020_16_05_report.rejects.csv").exists()


def test_command_exits_non_zero_naming_the_lines_and_writes_the_rejects(engagement, tmp_path):
    path = write(tmp_path / "report.csv", SEED_ROW, "bad,A,B,,x", SEED_ROW)
    with pytest.raises(CommandError) as caught:
        ingest_command(path, engagement)
    message = str(caught.value)
    assert message.startswith("1 of 3 rows rejected. line 3: unparsable date 'bad'")
    assert f"Rejected rows are in {tmp_path / 'report.rejects.csv'}" in message
    assert len(stored()) == 2
    assert (tmp_path / "report.rejects.csv").read_text().splitlines()[1].startswith("3,\"unparsable date 'bad'")

    # Fixing the row in place and running again stores it; the old rejects file is left, and said so.
    write(path, SEED_ROW, "2020-05-16,A,B,,x", SEED_ROW)
    output = ingest_command(path, engagement)
    assert "1 added, 2 already present" in output
    assert f"{tmp_path / 'report.rejects.csv'} is from an earlier run (left as it was)" in output
    assert (tmp_path / "report.rejects.csv").exists()


def test_command_strict_dry_run_replace_and_options(engagement, tmp_path):
    path = write(tmp_path / "report.csv", "16.05.2020 08:00,Ann Lee,GOOD", header="When,Rep,Mood")
    options = ["--date-column", "When", "--agent-column", "Rep", "--sentiment-column", "Mood"]
    with pytest.raises(CommandError, match="line 2: unknown sentiment 'GOOD'"):
        ingest_command(path, engagement, *options, "--strict", "--date-format", "%d.%m.%Y %H:%M")
    assert stored() == []
    path.write_text(path.read_text().replace("GOOD", "positive"))
    output = ingest_command(path, engagement, *options, "--dry-run", "--date-format", "%d.%m.%Y %H:%M")
    assert "nothing was written" in output
    assert stored() == []
    ingest_command(path, engagement, *options, "--date-format", "%d.%m.%Y %H:%M", "--tz", "Europe/Paris")
    assert stored()[0]["interactionDate"] == datetime.datetime(2020, 5, 16, 6, tzinfo=UTC)
    path.write_text(path.read_text().replace("Ann Lee", "Ann Leigh"))
    output = ingest_command(path, engagement, *options, "--date-format", "%d.%m.%Y %H:%M", "--replace")
    assert "1 added, 0 already present, 1 replaced first" in output
    assert [row["agentName"] for row in stored()] == ["Ann Leigh"]


def test_command_name_option_stores_under_another_name(engagement, tmp_path):
    path = write(tmp_path / "report.csv", SEED_ROW)
    ingest_command(path, engagement, "--name", "report-fixed.csv")
    assert stored()[0]["custom"]["csvName"] == "report-fixed.csv"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engagement", "5f18d12f42262eec0d435583"], "Engagement 5f18d12f42262eec0d435583 does not exist."),
        (["--engagement", "nope"], "Engagement nope does not exist."),
        (["--tz", "Nowhere/Special"], "Unknown time zone 'Nowhere/Special'"),
    ],
)
def test_command_refuses_bad_arguments(engagement, tmp_path, args, message):
    path = write(tmp_path / "report.csv", SEED_ROW)
    arguments = [str(path), "--engagement", str(engagement.pk), *args]
    with pytest.raises(CommandError, match=message):
        call_command("ingest", *arguments, stdout=StringIO())
    assert stored() == []


def test_command_header_problem_names_line_one(engagement, tmp_path):
    path = write(tmp_path / "report.csv", "2020-05-16,x", header="interactionDate,a.b")
    with pytest.raises(CommandError) as caught:
        ingest_command(path, engagement)
    assert str(caught.value) == (
        f"{path}: The header (line 1) cannot be used; nothing was written. line 1: column 'a.b': keys must not "
        "contain '.'; line 1: no agent column: expected 'agentName', or 'agentFirstName' and 'agentLastName'."
    )


def test_command_on_a_missing_file(engagement, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        ingest_command(tmp_path / "nope.csv", engagement)
