"""History, events and forecast CSV files: contract columns and one-line errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import csvtext, files, synthetic
from forecasting.model import HistoryRow
from switchboard.common.errors import InputError

HEADER = "interval_start,queue,contacts,aht_s\n"


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_history_onto_the_local_grid(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2025-03-03T08:00:00+01:00,booking,4,200\n"
        + "2025-03-03T08:30:00+01:00,booking,2,\n"
        + "2025-03-03T08:30:00+01:00,baggage,1,100\n"
        + "2025-03-04T09:00:00+01:00,booking,3,300\n",
    )
    history = files.read_history(path)
    assert history.queues == ["baggage", "booking"]
    assert history.width_min == 30
    assert history.days == 2
    assert history.first_day == datetime(2025, 3, 3)
    assert history.contacts[1, 0, 16] == 4
    assert history.contacts[0, 0, 17] == 1
    assert history.contacts[1, 1, 18] == 3
    assert history.aht_s[1, 0, 16] == 200
    assert np.isnan(history.aht_s[1, 0, 17])
    assert history.present[0, 16] and history.present[0, 17] and not history.present[0, 15]
    assert history.end == datetime(2025, 3, 4, 9, 30)
    assert history.tz.utcoffset(None) == timedelta(hours=1)


def test_width_follows_the_grid(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "interval_start,queue,contacts\n"
        "2025-03-03T08:00:00Z,q,1\n2025-03-03T08:15:00Z,q,1\n2025-03-03T09:45:00Z,q,2\n",
    )
    assert files.read_history(path).width_min == 15


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2025-13-01T08:00:00+01:00,q,1,", "row 3: field interval_start: expected ISO 8601"),
        ("2025-03-03T09:00:00,q,1,", "row 3: field interval_start: expected ISO 8601"),
        ("2025-03-03T09:00:00+01:00,q,-2,", "row 3: field contacts: expected a number >= 0"),
        ("2025-03-03T09:00:00+01:00,q,many,", "row 3: field contacts: expected a number"),
        ("2025-03-03T09:00:00+01:00,q,2,-5", "row 3: field aht_s: expected a number >= 0"),
        ("2025-03-03T09:00:00+01:00,,2,", "row 3: field queue: expected a queue name"),
        ("2025-03-03T08:00:00+01:00,q,2,", "row 3: field interval_start: duplicate interval"),
        ("2025-03-03T09:07:00+01:00,q,2,", "row 3: field interval_start: expected a start on"),
        ("2025-03-03T09:00:00+01:00,q,2", "row 3: expected 4 fields, found 3"),
        (  # a count no interval holds: float sums lose the other rows beside it
            "2025-03-03T09:00:00+01:00,q,1e20,",
            "row 3: field contacts: expected at most 1000000000 contacts per interval, found 1e+20",
        ),
    ],
)
def test_bad_rows_name_row_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, HEADER + "2025-03-03T08:00:00+01:00,q,1,\n" + line + "\n")
    with pytest.raises(InputError) as error:
        files.read_history(path)
    text = str(error.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


ROW = "2025-03-03T08:00:00+01:00,q,4,\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval_start,queue,contacts,Queue\n", r"row 1: a column appears twice"),
        (  # what was found is named (a file without a header: its first row)
            "interval_start,contacts\n2025-03-03T08:00:00Z,1\n",
            r"row 1: column 'queue': missing \(found interval_start,contacts; names in any",
        ),
        (  # columns separated by something else, named by none of their names
            "start;q;n\n2025-03-03T08:00:00Z;q;1\n",
            r"this file's columns are separated by ';': expected ','",
        ),
        (HEADER + ROW + HEADER + ROW, r"row 3: the header again \(two exports joined\?\)"),
    ],
)
def test_a_bad_header_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        files.read_history(write(tmp_path, text))


@pytest.mark.parametrize("separator", [";", "\t"])
@pytest.mark.parametrize("quoted", [False, True])
def test_a_european_spreadsheets_csv_reads_as_a_comma_one(
    tmp_path: Path, separator: str, quoted: bool
) -> None:
    """`;` (a European spreadsheet's "CSV") and tabs were refused by the forecaster while
    the scheduler took them: one workflow, two rules (a planner probe)."""
    rows = ["2025-03-03T08:00:00+01:00,q,4", "2025-03-03T08:30:00+01:00,q,6"]
    comma = files.read_history(write(tmp_path, "interval_start,queue,contacts\n" + "\n".join(rows)))
    text = "\r\n".join(
        separator.join(f'"{f}"' if quoted else f for f in line.split(","))
        for line in ["interval_start,queue,contacts", *rows]
    )
    other = files.read_history(write(tmp_path, text))
    assert other.queues == comma.queues and (other.contacts == comma.contacts).all()


def test_a_spreadsheets_header_with_spaces_is_read(tmp_path: Path) -> None:
    """`Interval Start` (a spreadsheet's heading) was refused as a missing interval_start."""
    text = "Interval Start , Queue,Contacts\n2025-03-03T08:00:00+01:00,q,4\n"
    history = files.read_history(write(tmp_path, text))
    assert history.queues == ["q"] and history.contacts.sum() == 4


def test_an_exports_other_columns_are_passed_over_and_named(tmp_path: Path) -> None:
    """A WFM export's `site` and `channel` (the commonest shape of an export) were refused
    as unknown columns; they are not read, and the history says which."""
    body = "2025-03-03T08:00:00+01:00,q,4,\n2025-03-03T08:30:00+01:00,q,6,\n"
    plain = files.read_history(write(tmp_path, HEADER + body))
    wider = "".join(line + ",MAD,voice\n" for line in body.splitlines())
    extra = files.read_history(write(tmp_path, HEADER.strip() + ",site,Channel\n" + wider))
    assert extra.unread_columns == ("site", "channel")
    assert plain.unread_columns == ()
    assert (extra.contacts == plain.contacts).all() and extra.queues == plain.queues


def test_a_spreadsheets_capitalised_header_is_read(tmp_path: Path) -> None:
    body = "2025-03-03T08:00:00+01:00,q,4,\n2025-03-03T08:30:00+01:00,q,6,\n"
    plain = files.read_history(write(tmp_path, HEADER + body))
    shouted = files.read_history(write(tmp_path, "Interval_Start, Queue ,CONTACTS,AHT_S\n" + body))
    assert shouted.queues == plain.queues == ["q"]
    assert shouted.contacts.sum() == plain.contacts.sum() == 10


def test_the_width_is_the_spacing_of_the_rows_not_their_minutes(tmp_path: Path) -> None:
    """An India center (+05:30) exported hourly in UTC: its hours start at :30."""
    lines = [
        f"2025-03-0{day}T{hour:02d}:30:00Z,q,{hour}," for day in (3, 4) for hour in (3, 4, 6, 11)
    ]
    history = files.read_history(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert history.width_min == 60
    assert history.day_start(0) == datetime(2025, 3, 3, 0, 30)
    assert history.contacts[0, 0, 3] == 3  # 03:30-04:30, not 03:00-04:00
    assert history.contacts[0, 1, 11] == 11
    assert history.contacts.sum() == 2 * (3 + 4 + 6 + 11)
    assert history.end == datetime(2025, 3, 4, 12, 30)


def test_a_history_without_a_contact_is_refused(tmp_path: Path) -> None:
    lines = [f"2025-03-{d:02d}T08:00:00+01:00,q,0," for d in range(3, 20)]
    with pytest.raises(InputError) as error:
        files.read_history(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert str(error.value).startswith(f"{tmp_path / 'history.csv'}: no contacts in the history")


def test_a_generated_center_open_at_night_writes_no_time_the_clocks_skip() -> None:
    scenario = synthetic.Scenario(
        "night",
        days=7,
        width_min=60,
        first_day=date(2024, 10, 3),  # Sydney springs forward on the 6th at 02:00
        zone="Australia/Sydney",
        queues=("q",),
        daily=(2400.0,),
        open_hours=(0.0, 24.0),
        open_weekdays=(0, 1, 2, 3, 4, 5, 6),
    )
    rows = synthetic.generate_scenario(scenario, seed=1).rows
    instants = [row.interval_start.timestamp() for row in rows]
    assert len(set(instants)) == len(instants)
    walls = {row.interval_start.replace(tzinfo=None) for row in rows}
    assert datetime(2024, 10, 6, 1) in walls and datetime(2024, 10, 6, 3) in walls
    assert datetime(2024, 10, 6, 2) not in walls
    assert files.build_history(rows, "night").contacts.sum() == sum(r.contacts for r in rows)


def test_mixed_time_zones_are_rejected(tmp_path: Path) -> None:
    lines = [f"2025-03-{d:02d}T08:00:00+01:00,q,1," for d in range(3, 10)]
    lines.insert(3, "2025-03-05T13:00:00+05:00,q,1,")
    path = write(tmp_path, HEADER + "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"row 5: field interval_start: mixed time zones"):
        files.read_history(path)


def test_a_daylight_saving_switch_is_not_mixed(tmp_path: Path) -> None:
    winter = [f"2025-03-{d:02d}T08:00:00+01:00,q,1," for d in range(1, 30)]
    summer = [f"2025-04-{d:02d}T08:00:00+02:00,q,1," for d in range(1, 30)]
    path = write(tmp_path, HEADER + "\n".join(winter + summer) + "\n")
    history = files.read_history(path)
    assert history.contacts.sum() == 58
    assert history.width_min == 60
    assert history.contacts[0, :, 8].sum() == 58  # 08:00 wall clock on both sides


def test_the_offsets_name_the_zone_when_they_cross_a_switch(tmp_path: Path) -> None:
    winter = [f"2025-03-{d:02d}T08:00:00+01:00,q,1," for d in range(1, 30)]
    summer = [f"2025-04-{d:02d}T08:00:00+02:00,q,1," for d in range(1, 30)]
    crossing = files.read_history(write(tmp_path, HEADER + "\n".join(winter + summer) + "\n"))
    # the European rules: back to +01:00 after the last Sunday of October
    assert crossing.tz.utcoffset(datetime(2025, 10, 27, 8)) == timedelta(hours=1)
    assert crossing.tz.utcoffset(datetime(2025, 6, 2, 8)) == timedelta(hours=2)
    summer_only = files.read_history(write(tmp_path, HEADER + "\n".join(summer) + "\n", "s.csv"))
    # Berlin or Lagos? The newest offset, as before
    assert summer_only.tz.utcoffset(datetime(2025, 10, 27, 8)) == timedelta(hours=2)


def test_quoted_csv_takes_the_csv_module_path(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + '"2025-03-03T08:00:00+01:00","q.x",3,\n')
    history = files.read_history(path)
    assert history.queues == ["q.x"]
    # a quote inside a field is read as one (and such a queue name refused, as a node's)
    path = write(tmp_path, HEADER + '"2025-03-03T08:00:00+01:00","q ""x""",3,\n')
    with pytest.raises(InputError, match=r"""row 2: field queue: .* found 'q "x"'"""):
        files.read_history(path)


@pytest.mark.parametrize("queue", ["booking", '"booking"'])
def test_a_spreadsheet_export_reads_as_its_plain_twin(tmp_path: Path, queue: str) -> None:
    """Excel's "CSV UTF-8" starts with a byte-order mark and ends lines with CRLF; the
    header is then read as written (both the fast path and the quoted one)."""
    body = f"interval_start,queue,contacts\r\n2025-03-03T08:00:00Z,{queue},4\r\n"
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    history = files.read_history(path)
    assert history.queues == ["booking"] and history.contacts.sum() == 4
    events = tmp_path / "events.csv"
    events.write_bytes(
        b"\xef\xbb\xbfstart,end,region,queue,kind,factor\r\n"
        b"2025-03-10T08:00:00Z,2025-03-10T12:00:00Z,,booking,campaign,1.5\r\n"
    )
    [event] = files.read_events(events)
    assert event.queue == "booking" and event.factor == 1.5


def test_history_round_trip(tmp_path: Path) -> None:
    zone = timezone(timedelta(hours=2))
    rows = [
        HistoryRow(datetime(1999, 2, 1, 8, 0, tzinfo=zone), "PS", 5.0, 120.5),
        HistoryRow(datetime(1999, 2, 1, 8, 30, tzinfo=zone), "PS", 2.0, None),
    ]
    path = tmp_path / "h.csv"
    files.write_history(path, rows)
    text = path.read_text().splitlines()
    assert text[0] == "interval_start,queue,contacts,aht_s"
    assert text[1] == "1999-02-01T08:00:00+02:00,PS,5,120.5"
    assert text[2] == "1999-02-01T08:30:00+02:00,PS,2,"
    assert files.read_history(path).contacts.sum() == 7


def test_events_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "start,end,region,queue,kind,factor\n"
        "2025-03-03T08:00:00+01:00,2025-03-03T12:00:00+01:00,north,booking,storm,1.5\n"
        "2025-03-04T08:00:00+01:00,2025-03-04T12:00:00+01:00,,,cancellations,\n",
        "events.csv",
    )
    first, second = files.read_events(path)
    assert (first.kind, first.region, first.queue, first.factor) == (
        "storm",
        "north",
        "booking",
        1.5,
    )
    assert first.start == datetime(2025, 3, 3, 8)
    assert (second.region, second.queue, second.factor) == (None, None, None)


def test_the_readmes_example_events_file_reads() -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "events-example.csv"
    mailing, outage = files.read_events(example, ZoneInfo("Asia/Jerusalem"))
    assert (mailing.queue, mailing.kind, mailing.factor) == ("PS", "mailing", 1.3)
    assert (outage.queue, outage.kind, outage.factor) == (None, "system_outage", 0.6)
    assert mailing.start == datetime(1999, 3, 2, 9)  # the bank's clock


def test_events_are_read_on_the_centers_clock(tmp_path: Path) -> None:
    """A campaign written in UTC for a New York center covers its 10:00-12:00; a time
    without offset is on the center's clock."""
    path = write(
        tmp_path,
        "start,end,kind,factor\n"
        "2025-06-02T14:00:00Z,2025-06-02T16:00:00Z,campaign,2\n"
        "2025-06-03T10:00:00,2025-06-03T12:00:00,campaign,2\n",
        "events.csv",
    )
    utc, plain = files.read_events(path, ZoneInfo("America/New_York"))
    assert (utc.start, utc.end) == (datetime(2025, 6, 2, 10), datetime(2025, 6, 2, 12))
    assert (plain.start, plain.end) == (datetime(2025, 6, 3, 10), datetime(2025, 6, 3, 12))


def test_event_ending_before_it_starts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "start,end,kind\n2025-03-03T08:00:00+01:00,2025-03-03T07:00:00+01:00,storm\n",
        "events.csv",
    )
    with pytest.raises(InputError, match=r"events.csv: row 2: field end: expected a time after"):
        files.read_events(path)


def _history_text(days: int, quoted: bool) -> str:
    """A few days of two queues, CRLF line ends and a blank line, quoted or not."""
    lines = ["interval_start,queue,contacts,aht_s"]
    for day in range(days):
        for hour in range(8, 12):
            moment = datetime(2025, 3, 3 + day, hour, tzinfo=timezone(timedelta(hours=1)))
            for queue, count in (("booking", day + hour), ("baggage", 1 + day % 3)):
                name = f'"{queue}"' if quoted else queue
                lines.append(f"{moment.isoformat()},{name},{count},{60 + hour}")
        if day == 2:
            lines.append("")
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_history_read_in_chunks_is_the_history_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quoted: bool
) -> None:
    """Rows are parsed a chunk at a time (millions of rows: memory); chunks that cut lines
    and rows give the same history and name the same rows."""
    path = tmp_path / "history.csv"
    path.write_bytes(_history_text(9, quoted).encode())
    whole = files.read_history(path)
    monkeypatch.setattr(csvtext, "CHUNK_CHARS", 61)  # shorter than a line
    monkeypatch.setattr(csvtext, "CHUNK_ROWS", 5)
    chunked = files.read_history(path)
    assert whole.queues == chunked.queues == ["baggage", "booking"]
    assert np.array_equal(whole.contacts, chunked.contacts)
    assert np.array_equal(whole.aht_s, chunked.aht_s, equal_nan=True)
    assert np.array_equal(whole.present, chunked.present)
    assert whole.contacts.sum() == sum(d + h + 1 + d % 3 for d in range(9) for h in range(8, 12))
    lines = path.read_bytes().decode().split("\r\n")
    lines[60] = lines[60].replace(",booking,", ",booking,x").replace(',"booking",', ',"booking",x')
    path.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(InputError, match=r"row 61: field contacts: expected a number"):
        files.read_history(path)
