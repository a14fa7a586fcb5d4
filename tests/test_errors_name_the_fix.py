"""Plausible first-hour mistakes get an error that names the fix (issue 16)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import fmc
from fmc.cli import main as fmc_main
from fmc.errors import ConfigurationError, StoreError

PAGE = fmc.Page(id="1234567890", access_token="EAAGfirstHourToken0123456789", app_secret="a" * 32)


class TestWebhookHandler:
    def test_a_page_instead_of_the_app_secret_says_what_to_pass(self) -> None:
        """WebhookHandler(page, token) says to pass page.app_secret, not 'not iterable'."""
        with pytest.raises(ConfigurationError, match=r"not a Page.*page\.app_secret") as caught:
            fmc.WebhookHandler(PAGE, "verify-token-value")  # type: ignore[arg-type]
        assert PAGE.access_token not in str(caught.value)
        assert "a" * 32 not in str(caught.value)


class TestSingleItemWhereAListIsExpected:
    @pytest.mark.parametrize(
        ("build", "expected"),
        [
            (
                lambda: fmc.Text("q", quick_replies=fmc.QuickReply.text("Yes", "YES")),
                r"quick_replies=\[QuickReply\.text\(\.\.\.\)\]",
            ),
            (
                lambda: fmc.ButtonTemplate("Pick", buttons=fmc.PostbackButton("Go", "GO")),
                r"buttons=\[PostbackButton\(\.\.\.\)\]",
            ),
        ],
        ids=["quick-reply", "button"],
    )
    def test_one_item_says_to_wrap_it_in_a_list(self, build: object, expected: str) -> None:
        """One QuickReply or button where a list is expected shows the list to write."""
        with pytest.raises(TypeError, match=expected):
            build()  # type: ignore[operator]

    @pytest.mark.parametrize(
        ("build", "expected"),
        [
            (lambda: fmc.Text("q", quick_replies=5), "quick_replies takes a list"),
            (lambda: fmc.ButtonTemplate("Pick", buttons=5), "buttons takes a list"),
        ],
        ids=["quick-replies", "buttons"],
    )
    def test_a_non_iterable_names_the_field(self, build: object, expected: str) -> None:
        """A value that is not a list at all names the field, not 'int is not iterable'."""
        with pytest.raises(TypeError, match=expected):
            build()  # type: ignore[operator]


class TestPurpose:
    def test_a_misspelt_purpose_lists_the_valid_ones(self) -> None:
        """Purpose('nwes') suggests 'news' and lists every valid purpose."""
        with pytest.raises(ValueError, match="did you mean 'news'") as caught:
            fmc.Purpose("nwes")
        assert isinstance(caught.value, ConfigurationError)
        for purpose in fmc.Purpose:
            assert purpose.value in str(caught.value)

    @pytest.mark.parametrize(
        ("text", "purpose"),
        [("NEWS", fmc.Purpose.NEWS), ("personal-follow-up", fmc.Purpose.PERSONAL_FOLLOW_UP)],
    )
    def test_the_constructor_accepts_what_parse_accepts(
        self, text: str, purpose: fmc.Purpose
    ) -> None:
        """Purpose(text) reads the spellings Purpose.parse reads."""
        assert fmc.Purpose(text) is purpose


class TestSQLiteStorePath:
    def test_a_missing_directory_is_named(self, tmp_path: Path) -> None:
        """SQLiteStore in a directory that does not exist names the directory to create."""
        missing = tmp_path / "missing" / "dir"
        with pytest.raises(StoreError, match=re.escape(f"mkdir -p {missing}")):
            fmc.SQLiteStore(missing / "fmc.db")

    def test_none_suggests_an_unset_environment_variable(self) -> None:
        """SQLiteStore(None) says the environment variable holding the path is unset."""
        with pytest.raises(ConfigurationError, match=r"got None.*not set"):
            fmc.SQLiteStore(None)  # type: ignore[arg-type]

    def test_a_non_path_is_named_by_type(self) -> None:
        """SQLiteStore(42) names what it got, not a TypeError from os.fspath."""
        with pytest.raises(ConfigurationError, match="got int"):
            fmc.SQLiteStore(42)  # type: ignore[arg-type]


class TestPostgresStoreDsn:
    @pytest.mark.parametrize(
        ("dsn", "fix"),
        [
            ("postgresql+psycopg://fmc:pw-9f2a@127.0.0.1:1/fmc", r"'\+psycopg'.*'postgresql://'"),
            ("postgres+psycopg2://fmc:pw-9f2a@127.0.0.1:1/fmc", r"'\+psycopg2'.*'postgres://'"),
        ],
        ids=["psycopg", "psycopg2"],
    )
    def test_an_sqlalchemy_url_says_to_drop_the_driver(self, dsn: str, fix: str) -> None:
        """An SQLAlchemy URL says which suffix to drop, before any connection, and hides the DSN."""
        with pytest.raises(ConfigurationError, match=f"SQLAlchemy URL.*{fix}") as caught:
            fmc.PostgresStore(dsn)
        assert "pw-9f2a" not in str(caught.value)

    def test_none_suggests_an_unset_environment_variable(self) -> None:
        """PostgresStore(None) says the environment variable holding the DSN is unset."""
        with pytest.raises(ConfigurationError, match=r"got None.*not set"):
            fmc.PostgresStore(None)  # type: ignore[arg-type]


def run(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = fmc_main(argv, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


class TestCommandLine:
    @pytest.mark.parametrize("action", ["list", "export", "count"])
    def test_a_missing_store_prints_nothing_before_the_error(
        self, tmp_path: Path, action: str
    ) -> None:
        """fmc subscribers --db missing writes no table header, only the error."""
        environ = {"FMC_PAGE_ID": "1234567890"}
        code, out, err = run(["subscribers", action, "--db", str(tmp_path / "missing")], environ)
        assert code == 2
        assert out == ""
        assert "no store at" in err

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("FMC_PAGE_TOKEN", "any"),
            ("FMC_APP_SECRET", "abc123"),
            ("FMC_VERIFY_TOKEN", "tok"),
        ],
    )
    def test_a_secret_too_short_to_be_real_is_refused(self, variable: str, value: str) -> None:
        """A three-letter token is refused with what a real one looks like, not sent or masked."""
        environ = {"FMC_PAGE_ID": "1234567890", variable: value}
        code, out, err = run(["subscribers", "count"], environ)
        assert code == 2
        assert f"({variable}) is {len(value)} characters, too short to be real" in err
        assert out == ""


class TestForwardingRefusal:
    @pytest.mark.parametrize(
        "url",
        ["http://127.0.0.1:8081/bot", "https://127.0.0.1:8081/bot", "https://10.0.0.5/bot"],
        ids=["http-loopback", "https-loopback", "https-private"],
    )
    def test_a_local_receiver_is_told_how_to_allow_it(self, url: str) -> None:
        """A refused http or private redirect_to names --allow-private-forwarding."""
        from fmc.webhook.addresses import check_url

        with pytest.raises(fmc.ForwardingRefused, match="--allow-private-forwarding"):
            check_url(url, allow_hosts=["127.0.0.1", "10.0.0.5"])

    def test_a_metadata_address_is_not_offered_the_switch(self) -> None:
        """The cloud metadata address, never allowed, does not suggest the switch."""
        from fmc.webhook.addresses import check_url

        with pytest.raises(fmc.ForwardingRefused) as caught:
            check_url("https://169.254.169.254/", allow_hosts=["169.254.169.254"])
        assert "allow-private" not in str(caught.value)
