"""fmc demo: the whole flow on loopback, end to end, in-process."""

from __future__ import annotations

import io
import tempfile
import threading
from pathlib import Path

import pytest

from fmc.cli import main
from fmc.cli.demo import PEOPLE, run_demo


def threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.is_alive()}


def demo_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("fmc-demo-*"))


@pytest.fixture(scope="module")
def quiet_run() -> tuple[int, str, set[threading.Thread], set[Path]]:
    """One quiet run of the demo, with the threads and demo directories left after it."""
    before_threads, before_dirs = threads(), demo_dirs()
    out = io.StringIO()
    code = main(["demo", "--quiet"], environ={}, stdout=out, stderr=io.StringIO())
    return code, out.getvalue(), threads() - before_threads, demo_dirs() - before_dirs


def test_exits_0(quiet_run: tuple[int, str, set[threading.Thread], set[Path]]) -> None:
    """The demo succeeds."""
    assert quiet_run[0] == 0


def test_report_says_who_got_it(
    quiet_run: tuple[int, str, set[threading.Thread], set[Path]],
) -> None:
    """People inside the window got the broadcast; Dev's recurring token is deprecated (2026)."""
    got = next(line for line in quiet_run[1].splitlines() if "got it:" in line)
    assert got.split("got it:")[1].strip().split(", ") == ["Ana", "Fay"]


def test_report_says_who_was_skipped_and_why(
    quiet_run: tuple[int, str, set[threading.Thread], set[Path]],
) -> None:
    """People outside the window without a token were skipped, with the policy's reason."""
    out = quiet_run[1]
    skipped = next(line for line in out.splitlines() if "skipped:" in line)
    assert "Chloé" in skipped
    assert "Eli" in skipped
    assert "Dev" in skipped
    assert "skipped 3 (outside_window_no_subscription), e.g. last interaction" in out
    assert "outside the 24 h window" in out


def test_report_says_who_was_marked_unavailable(
    quiet_run: tuple[int, str, set[threading.Thread], set[Path]],
) -> None:
    """The person who blocked the Page is marked unavailable after Meta's 551."""
    assert "unavailable: Ben" in quiet_run[1]
    assert "marked unavailable: 1" in quiet_run[1]


def test_leaves_no_thread_running(
    quiet_run: tuple[int, str, set[threading.Thread], set[Path]],
) -> None:
    """Both servers stopped: no thread it started is alive (daemon or not)."""
    assert quiet_run[2] == set()


def test_leaves_no_directory(quiet_run: tuple[int, str, set[threading.Thread], set[Path]]) -> None:
    """Its temporary directory is removed."""
    assert quiet_run[3] == set()


def test_full_output_is_short_and_tells_the_story(tmp_path: Path) -> None:
    """Without --quiet it shows the people, the table, the report and the refusal in < 40 lines."""
    out = io.StringIO()
    assert run_demo(out, keep=str(tmp_path / "kept")) == 0
    text = out.getvalue()
    assert len(text.splitlines()) < 40
    for person in PEOPLE:
        assert person.first_name in text
        assert person.psid in text
    assert "handshake ok" in text
    assert "PolicyRefused: " in text
    assert "a response needs the 24 h window" in text


def test_keep_writes_the_store_and_deliveries(tmp_path: Path) -> None:
    """--keep DIR leaves the SQLite file and the fake's deliveries in DIR."""
    kept = tmp_path / "kept"
    assert main(["demo", "--quiet", "--keep", str(kept)], environ={}, stdout=io.StringIO()) == 0
    assert (kept / "fmc.db").is_file()
    assert '"text": "Breaking' in (kept / "deliveries.json").read_text(encoding="utf-8")


def test_demo_ignores_the_real_configuration(tmp_path: Path) -> None:
    """FMC_ variables (a real Page, a real db) are not used by the demo."""
    real_db = tmp_path / "real.db"
    environ = {"FMC_DB": str(real_db), "FMC_GRAPH_URL": "http://127.0.0.1:9"}
    assert main(["demo", "--quiet"], environ=environ, stdout=io.StringIO()) == 0
    assert not real_db.exists()


def test_shows_the_2026_rules_for_updates(tmp_path: Path) -> None:
    """An update outside the window goes as a utility message where a template exists,
    and is refused with the 2026 reason where none does."""
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert "post-purchase update: sent as a utility message (template order_shipped)" in text
    assert "account update: PolicyRefused: " in text
    assert "reported returning error 100 since 27 April 2026" in text
