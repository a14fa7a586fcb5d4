"""The command's configuration: sources, precedence, validation and secret hiding."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import APP_SECRET, PAGE_TOKEN, SECRETS, VERIFY_TOKEN
from hypothesis import given
from hypothesis import strategies as st

from fmc.cli import Config, load_config
from fmc.cli.config import DEFAULT_DB, DEFAULT_GRAPH_URL, read_toml
from fmc.errors import ConfigurationError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fmc.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestPrecedence:
    """Flags win over the environment, which wins over the file."""

    @pytest.mark.parametrize(
        ("flag", "env", "file", "expected"),
        [
            ("from-flag", "from-env", "from-file", "from-flag"),
            (None, "from-env", "from-file", "from-env"),
            (None, None, "from-file", "from-file"),
            (None, None, None, DEFAULT_DB),
            (None, "  ", "from-file", "from-file"),
        ],
        ids=["flag-wins", "env-over-file", "file-only", "default", "blank-env-is-unset"],
    )
    def test_db_precedence(
        self, tmp_path: Path, flag: str | None, env: str | None, file: str | None, expected: str
    ) -> None:
        """The first source that sets ``db`` decides it."""
        path = write(tmp_path, f'db = "{file}"\n' if file else "")
        config = load_config({"db": flag}, {"FMC_DB": env} if env else {}, path)
        assert config.db == expected

    def test_every_setting_from_the_environment(self) -> None:
        """Each FMC_ variable sets its setting."""
        config = load_config(
            {},
            {
                "FMC_PAGE_ID": "42",
                "FMC_PAGE_TOKEN": PAGE_TOKEN,
                "FMC_APP_SECRET": APP_SECRET,
                "FMC_VERIFY_TOKEN": VERIFY_TOKEN,
                "FMC_DB": "x.db",
                "FMC_FORWARD_ALLOW": "bot.example.com, *.example.org",
                "FMC_GRAPH_URL": "http://127.0.0.1:9/",
                "FMC_PERMISSIONS": "pages_messaging,human_agent",
                "FMC_RATE_LIMIT": "12.5",
            },
        )
        assert (config.page_id, config.page_token, config.app_secret, config.verify_token) == (
            "42",
            PAGE_TOKEN,
            APP_SECRET,
            VERIFY_TOKEN,
        )
        assert config.db == "x.db"
        assert config.forward_allow == ("bot.example.com", "*.example.org")
        assert config.graph_url == "http://127.0.0.1:9"
        assert config.permissions == ("pages_messaging", "human_agent")
        assert config.rate_limit == 12.5

    def test_toml_file_with_lists_and_numbers(self, tmp_path: Path) -> None:
        """The file takes TOML lists and numbers, at the top level or in an [fmc] table."""
        path = write(
            tmp_path,
            '[fmc]\npage_id = 42\nforward_allow = ["a.example.com"]\n'
            'permissions = ["pages_messaging"]\nrate_limit = 3\n',
        )
        config = load_config({}, {}, path)
        assert (config.page_id, config.forward_allow, config.rate_limit) == (
            "42",
            ("a.example.com",),
            3.0,
        )

    def test_defaults(self) -> None:
        """With nothing set: ./fmc.db, Meta's Graph URL, pages_messaging, 300 sends/s."""
        config = load_config({}, {})
        assert (config.db, config.graph_url, config.permissions, config.rate_limit) == (
            DEFAULT_DB,
            DEFAULT_GRAPH_URL,
            ("pages_messaging",),
            300.0,
        )


class TestValidation:
    """Bad values are ConfigurationErrors naming the setting."""

    @pytest.mark.parametrize(
        ("environ", "needle"),
        [
            ({"FMC_RATE_LIMIT": "fast"}, "rate_limit"),
            ({"FMC_RATE_LIMIT": "-1"}, "rate_limit"),
            ({"FMC_RATE_LIMIT": "nan"}, "rate_limit"),
            ({"FMC_PERMISSIONS": "pages_everything"}, "pages_everything"),
            ({"FMC_GRAPH_URL": "ftp://graph"}, "graph_url"),
        ],
        ids=["rate-not-number", "rate-negative", "rate-nan", "unknown-permission", "bad-url"],
    )
    def test_bad_values(self, environ: dict[str, str], needle: str) -> None:
        """The message names what is wrong."""
        with pytest.raises(ConfigurationError, match=needle):
            load_config({}, environ)

    def test_unknown_file_key(self, tmp_path: Path) -> None:
        """A typo in the file is reported with the known keys."""
        with pytest.raises(ConfigurationError, match="page_tokn"):
            read_toml(write(tmp_path, 'page_tokn = "x"\n'))

    def test_invalid_toml_does_not_quote_the_file(self, tmp_path: Path) -> None:
        """A syntax error gives a position, not the secret on that line."""
        path = write(tmp_path, f'page_token = "{PAGE_TOKEN}\n')
        with pytest.raises(ConfigurationError, match="not valid TOML") as caught:
            read_toml(path)
        assert PAGE_TOKEN not in str(caught.value)

    def test_missing_file(self, tmp_path: Path) -> None:
        """An unreadable file is a configuration error naming it."""
        with pytest.raises(ConfigurationError, match="cannot read"):
            read_toml(tmp_path / "absent.toml")

    def test_secret_flag_refused(self) -> None:
        """Secrets cannot come from flags."""
        with pytest.raises(ConfigurationError, match="page_token cannot be given as a flag"):
            load_config({"page_token": "x"}, {})

    def test_require_says_where_to_set_it(self) -> None:
        """A missing secret names its variable and the file key, never a flag."""
        with pytest.raises(ConfigurationError, match="FMC_PAGE_TOKEN") as caught:
            Config(page_id="1").page()
        assert "--page-token" not in str(caught.value)

    @given(st.lists(st.from_regex(r"[a-z0-9*][a-z0-9.*-]{0,20}", fullmatch=True), max_size=5))
    def test_forward_allow_round_trip(self, hosts: list[str]) -> None:
        """A comma-separated allowlist reads back as the same hosts."""
        assert load_config({}, {"FMC_FORWARD_ALLOW": ",".join(hosts)}).forward_allow == tuple(hosts)


class TestSecrets:
    """Secret values never show."""

    def test_repr_hides_secrets(self) -> None:
        """repr names no secret value."""
        config = Config(
            page_id="1", page_token=PAGE_TOKEN, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN
        )
        assert not any(secret in repr(config) for secret in SECRETS)

    def test_describe_says_set_not_the_value(self) -> None:
        """describe() says which secrets are set, not what they are."""
        text = Config(page_id="1", page_token=PAGE_TOKEN).describe()
        assert "page_token set" in text
        assert "app_secret not set" in text
        assert PAGE_TOKEN not in text

    def test_page_repr_hides_secrets(self) -> None:
        """The Page built from the configuration hides them too."""
        page = Config(page_id="1", page_token=PAGE_TOKEN, app_secret=APP_SECRET).page()
        assert PAGE_TOKEN not in repr(page)
        assert APP_SECRET not in repr(page)

    def test_secret_whitespace_is_stripped(self) -> None:
        """A trailing newline (a secret read from a file) does not break the Page."""
        config = load_config({}, {"FMC_PAGE_ID": "1", "FMC_PAGE_TOKEN": PAGE_TOKEN + "\n"})
        assert config.page().access_token == PAGE_TOKEN
