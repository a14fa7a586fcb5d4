"""fmc send, broadcast and subscribers against the fake Graph API on loopback."""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path

import pytest
from cli_support import (
    APP_SECRET,
    NOW,
    PAGE_ID,
    PAGE_TOKEN,
    SECRETS,
    VERIFY_TOKEN,
    Runner,
    seed,
)

from fmc.cli import ExitCode, main
from fmc.models import JournalState, SubscriberStatus
from fmc.store import SQLiteStore
from fmc.testing import FakeGraphAPI, Fault
from fmc.transport import Client, RetryPolicy

PEOPLE = {"100": 1.0, "200": 2.0, "300": 30.0, "400": 30.0, "500": 48.0}


class TestSend:
    """fmc send: one message through the policy."""

    def test_sends_inside_the_window(self, fmc: Runner, fake: FakeGraphAPI, db: Path) -> None:
        """A reply to someone who wrote an hour ago is sent as RESPONSE."""
        seed(db, {"100": 1.0})
        result = fmc("send", "100", "--text", "Thanks!")
        assert result.code == ExitCode.OK
        assert "sent to 100" in result.out
        [delivery] = fake.delivered_to("100")
        assert (delivery.text, delivery.messaging_type) == ("Thanks!", "RESPONSE")

    def test_policy_refusal_is_one_line_and_exit_3(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path
    ) -> None:
        """Outside the window, the policy's reason is printed on one line; nothing is sent."""
        seed(db, {"300": 30.0})
        result = fmc("send", "300", "--text", "Late reply")
        assert result.code == ExitCode.POLICY_REFUSED == 3
        assert result.err.count("\n") == 1
        assert "refused by the messaging policy" in result.err
        assert "outside the 24 h window" in result.err
        assert fake.deliveries == []

    def test_unknown_person_is_refused(self, fmc: Runner, db: Path) -> None:
        """Someone who never wrote is refused by the policy, not by Meta."""
        seed(db, {"100": 1.0})
        assert fmc("send", "999", "--text", "Hello").code == ExitCode.POLICY_REFUSED

    def test_unavailable_person_is_exit_4_and_marked(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path
    ) -> None:
        """Meta's 551 exits 4 and marks the person unavailable."""
        seed(db, {"100": 1.0})
        fake.faults.add(Fault.unavailable(["100"]))
        result = fmc("send", "100", "--text", "Hi")
        assert result.code == ExitCode.GRAPH_ERROR == 4
        assert "RecipientUnavailableError" in result.err
        with SQLiteStore(db) as store:
            subscriber = store.get(PAGE_ID, "100")
        assert subscriber is not None
        assert subscriber.status is SubscriberStatus.UNAVAILABLE

    def test_wrong_token_is_a_graph_error_without_the_token(
        self, fmc: Runner, environ: dict[str, str], db: Path
    ) -> None:
        """A token Meta rejects exits 4, and no secret shows even with --verbose."""
        seed(db, {"100": 1.0})
        wrong = "EAAwrongTokenThatMustNotShow42"
        result = fmc(
            "send", "100", "--text", "Hi", "-v", environ={**environ, "FMC_PAGE_TOKEN": wrong}
        )
        assert result.code == ExitCode.GRAPH_ERROR
        assert "AuthenticationError" in result.err
        assert "Traceback" in result.err
        for secret in (wrong, APP_SECRET, VERIFY_TOKEN):
            assert secret not in result.err + result.out

    def test_unreachable_graph_is_exit_4(
        self, fmc: Runner, environ: dict[str, str], db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A Graph URL nobody listens on is a one-line network error."""
        seed(db, {"100": 1.0})
        # Connection failures are retried with backoff; this test does not wait for it.
        monkeypatch.setattr(
            "fmc.cli.context.Client", functools.partial(Client, retry=RetryPolicy.none())
        )
        result = fmc(
            "send",
            "100",
            "--text",
            "Hi",
            environ={**environ, "FMC_GRAPH_URL": "http://127.0.0.1:9"},
        )
        assert result.code == ExitCode.GRAPH_ERROR
        assert result.err.startswith("fmc: ")
        assert PAGE_TOKEN not in result.err

    def test_purpose_flag_changes_the_decision(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path
    ) -> None:
        """--purpose account-update outside the window is refused with the 2026 reason."""
        # The ACCOUNT_UPDATE tag is reported removed since 2026-04-27 (issue 15); a
        # response inside the window would have gone out.
        seed(db, {"300": 30.0})
        result = fmc("send", "300", "--text", "Password changed", "--purpose", "account-update")
        assert result.code != 0
        assert "error 100 since 27 April 2026" in result.err + result.out
        assert fake.delivered_to("300") == []


class TestUsage:
    """Usage and configuration errors exit 2 with one line."""

    @pytest.mark.parametrize(
        "argv",
        [
            ["send", "100"],
            ["send", "100", "--text", "x", "--purpose", "gossip"],
            ["broadcast", "--text", "x"],
            ["broadcast", "--text", "x", "--purpose", "news", "--batch-size", "0"],
            ["broadcast", "--text", "x", "--purpose", "news", "--batch-size", "51"],
            ["subscribers", "export", "--format", "xml"],
            ["frobnicate"],
        ],
        ids=[
            "no-text",
            "bad-purpose",
            "no-purpose",
            "batch-zero",
            "batch-over-50",
            "bad-format",
            "bad-command",
        ],
    )
    def test_bad_arguments(self, fmc: Runner, argv: list[str]) -> None:
        """argparse errors exit 2."""
        assert fmc(*argv).code == ExitCode.USAGE

    def test_missing_configuration(self, fmc: Runner, db: Path) -> None:
        """A missing token says which variable to set, on one line, exit 2."""
        result = fmc("send", "100", "--text", "x", environ={"FMC_PAGE_ID": "1", "FMC_DB": str(db)})
        assert result.code == ExitCode.USAGE
        assert "FMC_PAGE_TOKEN" in result.err
        assert result.err.count("\n") == 1

    @pytest.mark.parametrize(
        "argv",
        [
            ["subscribers", "count"],
            ["send", "1", "--text", "x"],
            ["broadcast", "--text", "x", "--purpose", "news"],
        ],
        ids=["subscribers", "send", "broadcast"],
    )
    def test_missing_store_is_not_created(self, fmc: Runner, db: Path, argv: list[str]) -> None:
        """Commands that read subscribers refuse a store file that does not exist (exit 2)."""
        result = fmc(*argv)
        assert result.code == ExitCode.USAGE
        assert "no store at" in result.err
        assert not db.exists()

    def test_closed_pipe_stops_quietly(self, environ: dict[str, str], db: Path) -> None:
        """A reader that goes away (``| head``) ends the command without an error message."""
        seed(db, PEOPLE)

        class ClosedPipe(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError

        err = io.StringIO()
        code = main(["subscribers", "export"], environ=environ, stdout=ClosedPipe(), stderr=err)
        assert code == ExitCode.FAILURE
        assert err.getvalue() == ""

    def test_help_exits_0(self, fmc: Runner, capsys: pytest.CaptureFixture[str]) -> None:
        """--help is not an error."""
        assert fmc("--help").code == 0
        assert "exit codes" in capsys.readouterr().out

    def test_verbose_logs_configuration_without_secrets(self, fmc: Runner, db: Path) -> None:
        """--verbose describes the configuration; secret values never appear."""
        seed(db, {"100": 1.0})
        result = fmc("send", "100", "--text", "Hi", "--verbose")
        assert result.code == 0
        assert "page_token set" in result.err
        assert not any(secret in result.err + result.out for secret in SECRETS)

    def test_config_file_and_flag(
        self, fmc: Runner, environ: dict[str, str], tmp_path: Path
    ) -> None:
        """Settings come from --config, and a flag overrides it."""
        seed(tmp_path / "flag.db", {"100": 1.0})
        config = tmp_path / "fmc.toml"
        config.write_text(
            f'page_id = "{PAGE_ID}"\npage_token = "{PAGE_TOKEN}"\n'
            f'graph_url = "{environ["FMC_GRAPH_URL"]}"\ndb = "{tmp_path / "file.db"}"\n',
            encoding="utf-8",
        )
        result = fmc(
            "subscribers",
            "count",
            "--config",
            str(config),
            "--db",
            str(tmp_path / "flag.db"),
            environ={},
        )
        assert result.code == 0
        assert "total 1" in result.out


class TestBroadcast:
    """fmc broadcast: progress, report, resume, dry run."""

    def test_report_and_id(self, fmc: Runner, fake: FakeGraphAPI, db: Path) -> None:
        """The report says who was sent and skipped; the id to resume with is printed."""
        seed(db, PEOPLE, news_token={"400"})
        result = fmc("broadcast", "--text", "News!", "--purpose", "news")
        assert result.code == 0
        # 400's recurring token is deprecated (2026-02-10) and no longer spent.
        assert "5 subscribers, 2 sent" in result.out
        assert "skipped 3" in result.out
        assert "--resume bc-" in result.out
        assert "--resume bc-" in result.err
        assert sorted(d.recipient_key for d in fake.deliveries) == ["100", "200"]

    def test_progress_is_plain_lines_off_a_terminal(self, fmc: Runner, db: Path) -> None:
        """stderr (not a terminal) gets plain progress lines, no carriage returns."""
        seed(db, PEOPLE)
        result = fmc("broadcast", "--text", "News!", "--purpose", "news")
        assert "\r" not in result.err
        assert "5/5 (100%)" in result.err

    def test_resume_sends_nobody_twice(self, fmc: Runner, fake: FakeGraphAPI, db: Path) -> None:
        """Resuming a finished broadcast sends nothing again."""
        seed(db, PEOPLE)
        first = fmc("broadcast", "--text", "News!", "--purpose", "news")
        broadcast_id = first.out.rsplit("--resume ", 1)[1].strip()
        again = fmc("broadcast", "--text", "News!", "--purpose", "news", "--resume", broadcast_id)
        assert again.code == 0
        assert "already done by an earlier run: 2" in again.out
        assert len(fake.deliveries) == 2

    def test_resume_with_other_text_is_a_usage_error(self, fmc: Runner, db: Path) -> None:
        """A resumed broadcast must send the same message."""
        seed(db, PEOPLE)
        first = fmc("broadcast", "--text", "News!", "--purpose", "news")
        broadcast_id = first.out.rsplit("--resume ", 1)[1].strip()
        result = fmc("broadcast", "--text", "Other", "--purpose", "news", "--resume", broadcast_id)
        assert result.code == ExitCode.USAGE

    def test_unknown_resume_id(self, fmc: Runner, db: Path) -> None:
        """--resume with an id the store never saw is refused before sending."""
        seed(db, PEOPLE)
        result = fmc("broadcast", "--text", "x", "--purpose", "news", "--resume", "bc-nope")
        assert result.code == ExitCode.USAGE
        assert "bc-nope" in result.err

    def test_failed_sends_exit_4(self, fmc: Runner, fake: FakeGraphAPI, db: Path) -> None:
        """Sends Meta refuses (other than unavailable people) make the exit status 4."""
        seed(db, PEOPLE)
        fake.faults.add(Fault.error(100, message="Invalid parameter", psids=["100"]))
        result = fmc("broadcast", "--text", "News!", "--purpose", "news")
        assert result.code == ExitCode.GRAPH_ERROR
        assert "failed 1: InvalidRequestError" in result.out

    def test_unavailable_people_do_not_fail_the_broadcast(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path
    ) -> None:
        """People who blocked the Page are reported and marked, and the exit status stays 0."""
        seed(db, PEOPLE)
        fake.faults.add(Fault.unavailable(["100"]))
        result = fmc("broadcast", "--text", "News!", "--purpose", "news", "--batch-size", "10")
        assert result.code == 0
        assert "marked unavailable: 1" in result.out

    def test_dry_run_counts_per_rule(self, fmc: Runner, fake: FakeGraphAPI, db: Path) -> None:
        """--dry-run sends nothing and counts the policy's answers per rule, with an example."""
        seed(db, PEOPLE, news_token={"400"})
        result = fmc("broadcast", "--text", "News!", "--purpose", "news", "--dry-run")
        assert result.code == 0
        assert fake.deliveries == []
        assert "5 subscribers, 2 would be sent, 3 skipped" in result.out
        lines = result.out.splitlines()[1:]
        sends = [line for line in lines if line.strip().startswith("send")]
        skips = [line for line in lines if line.strip().startswith("skip")]
        assert sum(int(line.split()[1]) for line in sends) == 2
        assert sum(int(line.split()[1]) for line in skips) == 3
        assert all("e.g. " in line for line in lines)
        with SQLiteStore(db) as store:
            assert store.broadcast_get("x") is None
            assert list(store.iter_subscribers(PAGE_ID, status=SubscriberStatus.UNAVAILABLE)) == []

    def test_broadcast_journals_every_subscriber(self, fmc: Runner, db: Path) -> None:
        """Every subscriber ends in the journal, sent or skipped."""
        seed(db, PEOPLE)
        first = fmc("broadcast", "--text", "News!", "--purpose", "news")
        broadcast_id = first.out.rsplit("--resume ", 1)[1].strip()
        with SQLiteStore(db) as store:
            counts = store.journal_counts(broadcast_id)
        assert (counts[JournalState.SENT], counts[JournalState.SKIPPED]) == (2, 3)


class TestSubscribers:
    """fmc subscribers: list, count, export, never a token."""

    def test_count_per_status(self, fmc: Runner, db: Path) -> None:
        """count prints the total and one line per status."""
        seed(db, PEOPLE)
        with SQLiteStore(db) as store:
            store.set_status(PAGE_ID, "500", SubscriberStatus.BLOCKED, at=NOW)
        lines = fmc("subscribers", "count").out.splitlines()
        assert lines[0] == "total 5"
        assert "active 4" in lines
        assert "blocked 1" in lines

    def test_list_is_the_default(self, fmc: Runner, db: Path) -> None:
        """Without an action, a table with one row per subscriber."""
        seed(db, PEOPLE)
        out = fmc("subscribers").out.splitlines()
        assert out[0].split()[:2] == ["psid", "status"]
        assert [line.split()[0] for line in out[1:]] == sorted(PEOPLE)

    def test_export_csv(self, fmc: Runner, db: Path) -> None:
        """CSV has a header and one row per subscriber, token values left out."""
        seed(db, PEOPLE, news_token={"400"})
        result = fmc("subscribers", "export", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(result.out)))
        assert [row["psid"] for row in rows] == sorted(PEOPLE)
        row = next(row for row in rows if row["psid"] == "400")
        assert (row["usable_tokens"], row["token_topics"]) == ("1", "news")
        assert "nm-token" not in result.out

    def test_export_jsonl(self, fmc: Runner, db: Path) -> None:
        """JSON lines: one object per subscriber, token values left out."""
        seed(db, PEOPLE, news_token={"400"})
        result = fmc("subscribers", "export", "--format", "jsonl", "--status", "active")
        rows = [json.loads(line) for line in result.out.splitlines()]
        assert [row["psid"] for row in rows] == sorted(PEOPLE)
        assert rows[0]["last_interaction_at"].endswith("+00:00")
        assert "nm-token" not in result.out

    def test_subscribers_need_no_token(self, fmc: Runner, db: Path) -> None:
        """Reading the store needs only the Page id and the db."""
        seed(db, PEOPLE)
        result = fmc("subscribers", "count", environ={"FMC_PAGE_ID": PAGE_ID, "FMC_DB": str(db)})
        assert result.code == 0


class TestSendUtilityTemplate:
    """fmc send on the utility-template route (--utility-templates, --template-value)."""

    ROUTE = ("--purpose", "post_purchase_update")
    TEMPLATES = ("--utility-templates", "post_purchase_update=order_shipped")

    def approve(self, environ: dict[str, str]) -> None:
        from fmc.models import Page
        from fmc.transport.templates import create_page_template

        page = Page(id=PAGE_ID, access_token=PAGE_TOKEN, app_secret=APP_SECRET)
        with Client(page, base_url=environ["FMC_GRAPH_URL"]) as client:
            create_page_template(client, "order_shipped", "Hi {{1}}, order {{2}} shipped.")

    def test_template_values_send_the_template(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path, environ: dict[str, str]
    ) -> None:
        """Outside the window the configured template goes as UTILITY with the values."""
        seed(db, {"300": 30.0})
        self.approve(environ)
        values = ("--template-value", "Ann", "--template-value", "A-1042")
        result = fmc("send", "300", "--text", "Shipped", *self.ROUTE, *self.TEMPLATES, *values)
        assert result.code == ExitCode.OK, result.err
        [delivery] = fake.delivered_to("300")
        assert delivery.messaging_type == "UTILITY"
        assert delivery.message is not None
        assert delivery.message["template"]["name"] == "order_shipped"

    def test_without_values_it_is_refused_and_says_which_flag(
        self, fmc: Runner, fake: FakeGraphAPI, db: Path
    ) -> None:
        """Without --template-value the send is refused (exit 3) naming the flag."""
        seed(db, {"300": 30.0})
        result = fmc("send", "300", "--text", "Shipped", *self.ROUTE, *self.TEMPLATES)
        assert result.code == ExitCode.POLICY_REFUSED
        assert "--template-value VALUE" in result.err
        assert fake.deliveries == []
