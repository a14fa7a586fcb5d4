"""Secrets: appsecret_proof, and masking tokens in URLs, texts and urllib3's log lines."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.transport import appsecret_proof, redact_text, redact_url
from fmc.transport.redact import install_log_redaction


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
        """Known secret values are masked wherever they appear in a text."""
        assert redact_text("token EAAG in body, secret s3", ["EAAG", "s3", None, ""]) == (
            "token REDACTED in body, secret REDACTED"
        )

    def test_urllib3_request_lines_are_redacted(self, caplog: pytest.LogCaptureFixture) -> None:
        """The filter masks tokens in urllib3's own DEBUG request line."""
        install_log_redaction()
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

    def test_install_is_idempotent(self) -> None:
        """Installing twice leaves one filter per logger."""
        install_log_redaction()
        install_log_redaction()
        filters = logging.getLogger("urllib3.connectionpool").filters
        assert sum(type(f).__name__ == "_RedactingFilter" for f in filters) == 1
