"""Secrets: appsecret_proof, and masking tokens in URLs, texts and urllib3's log lines."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import string
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fmc.errors import graph_error_from_response
from fmc.transport import appsecret_proof, redact_text, redact_url
from fmc.transport.redact import (
    MIN_SECRET_LENGTH,
    REDACTED,
    Redactor,
    install_log_redaction,
    remove_log_redaction,
)

#: The loggers the opt-in filters.
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")


def _fmc_filters(name: str) -> int:
    return sum(type(f).__name__ == "_RedactingFilter" for f in logging.getLogger(name).filters)


class TestAppsecretProof:
    def test_known_vector(self) -> None:
        """The proof matches `printf EAAGtoken123 | openssl dgst -sha256 -hmac app-secret-xyz`."""
        assert (
            appsecret_proof("EAAGtoken123", "app-secret-xyz")
            == "31b4b0b6599175218fc06a209ae1b37f6890cbbb7a64fc585d973f679327cb67"
        )

    @given(token=st.text(min_size=1), secret=st.text(min_size=1))
    def test_is_hmac_sha256_of_token_keyed_by_secret(self, token: str, secret: str) -> None:
        """For any token and secret the proof is lowercase hex HMAC-SHA256(secret, token)."""
        expected = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        assert appsecret_proof(token, secret) == expected


REDACT_TABLE = [
    (
        "https://g.test/v25.0/1/messages?access_token=EAAG123&appsecret_proof=abc",
        "https://g.test/v25.0/1/messages?access_token=REDACTED&appsecret_proof=REDACTED",
    ),
    (
        "https://g.test/debug_token?input_token=XYZ&x=1",
        "https://g.test/debug_token?input_token=REDACTED&x=1",
    ),
    ("client_secret=s3cr3t&grant_type=x", "client_secret=REDACTED&grant_type=x"),
    ("/path?fields=name&ACCESS_TOKEN=abc#frag", "/path?fields=name&ACCESS_TOKEN=REDACTED#frag"),
    ("url=%2Fx%3Faccess_token%3DEAAG", "url=%2Fx%3Faccess_token%3DREDACTED"),
    (
        "Max retries exceeded with url: /v25.0/1/messages?access_token=EAAG9 (Caused by X)",
        "Max retries exceeded with url: /v25.0/1/messages?access_token=REDACTED (Caused by X)",
    ),
    ("https://g.test/v25.0/1/messages?fields=a", "https://g.test/v25.0/1/messages?fields=a"),
]


class TestRedaction:
    @pytest.mark.parametrize(
        ("url", "expected"),
        REDACT_TABLE,
        ids=[
            "token-and-proof",
            "input-token",
            "client-secret",
            "upper-case",
            "percent-encoded",
            "in-error-text",
            "nothing-secret",
        ],
    )
    def test_redact_url(self, url: str, expected: str) -> None:
        """Secret parameter values become REDACTED; everything else is kept."""
        assert redact_url(url) == expected

    @given(token=st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1))
    def test_no_token_value_survives(self, token: str) -> None:
        """Whatever the token, it is gone from the redacted URL."""
        url = f"https://g.test/v1/x?a=1&access_token={token}&b=2"
        assert f"access_token={token}&" not in redact_url(url)

    def test_redact_text_masks_literal_secrets(self) -> None:
        """Known secret values are masked wherever they appear as whole values in a text."""
        text = "token EAAGpage0123456789 in body, secret 0f1e2d3c4b5a6978"
        secrets = ["EAAGpage0123456789", "0f1e2d3c4b5a6978", None, ""]
        assert redact_text(text, secrets) == "token REDACTED in body, secret REDACTED"

    def test_malformed_token_message_is_scrubbed(self) -> None:
        """Graph's "Malformed access token <token>" loses the token and keeps the rest."""
        token = "EAAB" + "x1Y2z3" * 20
        text = f"Malformed access token {token}"
        assert Redactor([token])(text) == "Malformed access token REDACTED"

    @pytest.mark.parametrize("short", ["any", "x r", "exceed", "1234567"])
    def test_short_values_are_not_secrets(self, short: str) -> None:
        """Values shorter than MIN_SECRET_LENGTH never mangle a text."""
        text = "Max retries exceeded with any url 1234567 (x r)"
        assert redact_text(text, [short]) == text

    def test_secret_inside_a_longer_word_is_kept(self) -> None:
        """Only whole values are replaced: a longer run holding the secret is another value."""
        secret = "abcdef123456"
        assert redact_text(f"x{secret} {secret}9 {secret}", [secret]) == (
            f"x{secret} {secret}9 REDACTED"
        )

    def test_longest_secret_wins(self) -> None:
        """A secret that contains another is masked whole, not in pieces."""
        inner, outer = "abcdefgh1234", "abcdefgh1234-ffffeeee9999"
        assert redact_text(f"[{outer}] [{inner}]", [inner, outer]) == "[REDACTED] [REDACTED]"

    def test_body_bytes_are_scrubbed(self) -> None:
        """A raw JSON body quoting the token is masked and stays valid JSON."""
        token = "EAAGpage0123456789"
        body = b'{"error":{"message":"Malformed access token EAAGpage0123456789","code":190}}'
        assert json.loads(Redactor([token]).body(body))["error"]["message"] == (
            "Malformed access token REDACTED"
        )

    def test_repr_holds_no_secret(self) -> None:
        """A Redactor's repr says how many secrets it holds, never which."""
        assert "EAAGpage0123456789" not in repr(Redactor(["EAAGpage0123456789"]))


_SECRET_CHARS = string.ascii_letters + string.digits
_secrets = st.text(alphabet=_SECRET_CHARS, min_size=MIN_SECRET_LENGTH, max_size=64)
_words = st.text(alphabet=_SECRET_CHARS, min_size=1, max_size=12)
_seps = st.sampled_from([" ", ": ", "=", "&", "\n", '"', "(", ")", ", ", "/", "?"])


class TestWholeValueRedaction:
    @given(secret=_secrets, before=st.lists(_words, max_size=5), after=st.lists(_words, max_size=5))
    def test_secret_never_survives_as_a_word(
        self, secret: str, before: list[str], after: list[str]
    ) -> None:
        """Wherever the secret stands as a whole word, it is gone from the redacted text."""
        words = [*before, secret, *after, secret]
        text = " ".join(words)
        redacted = redact_text(text, [secret])
        assert secret not in redacted.split(" ")
        assert redacted.count(REDACTED) >= 2

    @given(secret=_secrets, words=st.lists(_words, max_size=12), seps=st.lists(_seps, max_size=12))
    def test_text_without_the_secret_is_unchanged(
        self, secret: str, words: list[str], seps: list[str]
    ) -> None:
        """A text in which the secret is not a whole word comes back exactly as it was."""
        text = "".join(
            w + s for w, s in zip(words, seps + [" "] * (len(words) - len(seps)), strict=False)
        )
        assume(not any(w == secret for w in re.split(r"[^A-Za-z0-9]+", text)))
        assume("_token" not in text and "_secret" not in text)
        assert Redactor([secret])(text) == text

    @given(secret=st.text(alphabet=_SECRET_CHARS, min_size=1, max_size=MIN_SECRET_LENGTH - 1))
    def test_short_values_change_nothing(self, secret: str) -> None:
        """A value too short to be a real secret never changes a text."""
        text = f"Max retries exceeded: {secret} and {secret}x any"
        assert redact_text(text, [secret]) == text

    @given(
        secret=_secrets,
        sep=_seps,
        prefix=st.sampled_from(["", "Malformed access token ", "Invalid OAuth "]),
    )
    def test_graph_error_from_a_scrubbed_body_holds_no_secret(
        self, secret: str, sep: str, prefix: str
    ) -> None:
        """An error decoded from a scrubbed body has the secret in neither str nor repr."""
        bare = json.dumps({"error": {"message": "", "code": 190}}).encode()
        skeleton = graph_error_from_response(400, bare, {})
        # A "secret" that is part of fmc's own words (e.g. "Authenti") proves nothing.
        assume(secret not in str(skeleton) and secret not in repr(skeleton))
        body = json.dumps({"error": {"message": f"{prefix}{secret}{sep}", "code": 190}}).encode()
        error = graph_error_from_response(400, Redactor([secret]).body(body), {})
        assert secret not in str(error)
        assert secret not in repr(error)

    def test_urllib3_request_lines_are_redacted(
        self, caplog: pytest.LogCaptureFixture, log_redaction: None
    ) -> None:
        """The opt-in filter masks tokens in urllib3's own DEBUG request line."""
        caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
        logging.getLogger("urllib3.connectionpool").debug(
            '%s://%s:%s "%s %s %s" %s %s',
            "https",
            "graph.facebook.com",
            443,
            "POST",
            "/v25.0/1/messages?access_token=EAAGsecret&appsecret_proof=beef",
            "HTTP/1.1",
            200,
            None,
        )
        (record,) = caplog.records
        assert "EAAGsecret" not in record.getMessage()
        assert "beef" not in record.getMessage()


class TestLogRedactionOptIn:
    @pytest.fixture(autouse=True)
    def _restore(self) -> Iterator[None]:
        # The filters are process-wide: leave them as the test found them.
        was_installed = _fmc_filters(URL_LOGGERS[0]) > 0
        yield
        if was_installed:
            install_log_redaction()
        else:
            remove_log_redaction()

    def test_install_adds_one_filter_to_each_url_logger(self) -> None:
        """Installing puts exactly one filter on each of urllib3's URL-logging loggers."""
        remove_log_redaction()
        assert install_log_redaction() is True
        assert [_fmc_filters(name) for name in URL_LOGGERS] == [1, 1, 1]

    def test_install_is_idempotent(self) -> None:
        """Installing twice leaves one filter per logger, and says the second added nothing."""
        install_log_redaction()
        assert install_log_redaction() is False
        assert _fmc_filters("urllib3.connectionpool") == 1

    def test_remove_takes_off_only_fmc_filters(self) -> None:
        """Removing leaves the application's own filters on urllib3's loggers."""
        logger = logging.getLogger("urllib3.connectionpool")
        own = logging.Filter("urllib3")
        logger.addFilter(own)
        try:
            install_log_redaction()
            remove_log_redaction()
            assert [_fmc_filters(name) for name in URL_LOGGERS] == [0, 0, 0]
            assert own in logger.filters
        finally:
            logger.removeFilter(own)
