"""Import of the Anonymous Bank call records."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from forecasting import bank, files
from switchboard.common.errors import InputError

HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
)
ROWS = [
    "AA0101\t1\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t0:00:00\t0:00:00\t0\tAGENT\t7:02:55\t7:05:41\t166\tDORIT",
    "AA0101\t2\t0\t0\tPS\t990201\t7:31:45\t7:31:55\t10\t0:00:00\t0:00:00\t0\tAGENT\t7:31:54\t7:31:59\t5\tX",
    "AA0101\t3\t0\t0\tPS\t990201\t7:45:00\t7:45:10\t10\t7:45:10\t7:46:00\t50\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    "AA0101\t4\t0\t0\tNW\t990201\t7:54:38\t7:54:51\t13\t0:00:00\t0:00:00\t0\tAGENT\t7:54:49\t7:56:21\t92\tTOVA",
    "AA0101\t5\t0\t0\tPS\t990202\t9:10:00\t9:10:10\t10\t0:00:00\t0:00:00\t0\tAGENT\t9:10:10\t9:12:10\t120\tTOVA",
]
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "anonymous_bank_1999_02.tsv"


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "calls.tsv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_calls_become_interval_counts(tmp_path: Path) -> None:
    rows = bank.read(write(tmp_path, ROWS), 30, ZoneInfo("Asia/Jerusalem")).rows
    table = {(r.interval_start.isoformat(), r.queue): (r.contacts, r.aht_s) for r in rows}
    assert table == {
        ("1999-02-01T07:00:00+02:00", "PS"): (1.0, 166.0),
        ("1999-02-01T07:30:00+02:00", "NW"): (1.0, 92.0),
        # an abandoned call counts as a contact but has no handle time
        ("1999-02-01T07:30:00+02:00", "PS"): (2.0, 5.0),
        ("1999-02-02T09:00:00+02:00", "PS"): (1.0, 120.0),
    }


def test_bad_call_record(tmp_path: Path) -> None:
    broken = ROWS[0].replace("990201", "992301")
    with pytest.raises(InputError, match=r"calls.tsv: row 3: field date: expected YYMMDD"):
        bank.read(write(tmp_path, [ROWS[1], broken]), 30, ZoneInfo("Asia/Jerusalem"))


def test_any_bytes_in_fields_not_read_and_a_byte_order_mark(tmp_path: Path) -> None:
    """Other exports of the same records: CRLF lines, a BOM, a Latin-1 agent name."""
    path = tmp_path / "calls.tsv"
    text = HEADER + "\n".join(ROWS) + "\n"
    latin = text.replace("DORIT", "D\u00d6RIT").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + latin.encode("latin-1"))
    (tmp_path / "plain").mkdir()
    plain = write(tmp_path / "plain", ROWS)
    zone = ZoneInfo("Asia/Jerusalem")
    assert bank.read(path, 30, zone).rows == bank.read(plain, 30, zone).rows


def test_a_call_no_agent_served_may_have_no_service_time(tmp_path: Path) -> None:
    """The HANG call of row 4 with an empty `ser_time`: counted, without handle time; an
    AGENT call without one is still a bad row."""
    zone = ZoneInfo("Asia/Jerusalem")
    unserved = ROWS[2].replace("\t0\tNO_SERVER", "\t\tNO_SERVER")
    assert unserved != ROWS[2]
    (tmp_path / "plain").mkdir()
    plain = bank.read(write(tmp_path / "plain", ROWS), 30, zone).rows
    assert bank.read(write(tmp_path, [*ROWS[:2], unserved, *ROWS[3:]]), 30, zone).rows == plain
    served = ROWS[0].replace("\t166\t", "\t\t")
    with pytest.raises(InputError, match=r"calls.tsv: row 2: field ser_time: expected a number"):
        bank.read(write(tmp_path, [served, *ROWS[1:]]), 30, zone)


def test_not_a_bank_file(tmp_path: Path) -> None:
    path = tmp_path / "other.tsv"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1: column 'type': missing"):
        bank.read(path, 30, ZoneInfo("Asia/Jerusalem"))


@pytest.mark.skipif(not REAL.exists(), reason="shared data file not present")
def test_the_published_month(tmp_path: Path) -> None:
    rows = bank.read(REAL, 60, ZoneInfo("Asia/Jerusalem")).rows
    assert sum(r.contacts for r in rows) == 33344
    out = tmp_path / "history.csv"
    files.write_history(out, rows)
    history = files.read_history(out)
    assert history.days == 28
    assert history.queues == ["IN", "NE", "NW", "PE", "PS", "TT"]
    # the README's known burst: 406 arrivals on 1999-02-03 13:00-13:30 (within 13:00-14:00 here)
    assert history.contacts[:, 2, 13].sum() >= 406
