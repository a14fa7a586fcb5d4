"""Signature checks: vectors, attacks, rotation, the legacy header and failing closed."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from webhook_support import APP_SECRET, fixture_bytes

from fmc.errors import ConfigurationError, SignatureError
from fmc.webhook import SignatureVerifier, sign, verify_signature

BODY = b'{"object":"page","entry":[]}'


def reference(body: bytes, secret: str = APP_SECRET, algo: str = "sha256") -> str:
    """The signature computed independently of fmc."""
    return f"{algo}=" + hmac.new(secret.encode(), body, getattr(hashlib, algo)).hexdigest()


class TestVectors:
    def test_known_vector(self) -> None:
        """sign() matches a fixed HMAC-SHA256 vector."""
        assert sign(b"hello", "secret") == (
            "sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b"
        )

    @pytest.mark.parametrize(
        "body",
        [BODY, fixture_bytes("message_non_ascii"), fixture_bytes("message_attachments")],
        ids=["ascii", "non-ascii-utf8", "attachments"],
    )
    def test_sign_matches_reference(self, body: bytes) -> None:
        """The signature is the lowercase hex HMAC-SHA256 of the raw bytes."""
        assert sign(body, APP_SECRET) == reference(body)

    def test_escaped_unicode_body_is_verified_as_sent(self) -> None:
        """A body with escaped unicode (as Meta sends it) verifies over its raw bytes."""
        data = json.loads(fixture_bytes("message_non_ascii"))
        body = json.dumps(data).encode()  # ensure_ascii: "\u00e4" escapes, like Meta
        verify_signature(body, reference(body), APP_SECRET)

    def test_reserialised_json_does_not_verify(self) -> None:
        """The signature of the escaped form does not cover the same JSON re-serialised as UTF-8."""
        data = json.loads(fixture_bytes("message_non_ascii"))
        escaped = json.dumps(data).encode()
        utf8 = json.dumps(data, ensure_ascii=False).encode()
        with pytest.raises(SignatureError, match="does not match"):
            verify_signature(utf8, reference(escaped), APP_SECRET)

    def test_verifier_sign_round_trips(self) -> None:
        """A verifier accepts what it signs."""
        verifier = SignatureVerifier(APP_SECRET)
        verifier.verify(BODY, verifier.sign(BODY))
        assert verifier.is_valid(BODY, verifier.sign(BODY))


ATTACKS = [
    ("wrong-secret", BODY, reference(BODY, "other-secret"), "does not match"),
    ("truncated-hex", BODY, reference(BODY)[:-2], "64 lowercase hex"),
    ("uppercase-hex", BODY, "sha256=" + reference(BODY)[7:].upper(), "64 lowercase hex"),
    ("uppercase-prefix", BODY, "SHA256=" + reference(BODY)[7:], "must start with"),
    ("sha1-in-sha256-header", BODY, reference(BODY, algo="sha1"), "must start with"),
    ("other-body", BODY, reference(b'{"object":"page","entry":[{}]}'), "does not match"),
    ("empty-body", b"", reference(b""), "empty body"),
    ("missing", BODY, None, "missing"),
    ("empty-header", BODY, "", "must start with"),
    ("bare-hex", BODY, reference(BODY)[7:], "must start with"),
    ("non-ascii-digest", BODY, "sha256=" + "é" * 64, "64 lowercase hex"),
    ("two-values-joined", BODY, reference(BODY) + "," + reference(BODY), "64 lowercase hex"),
    ("trailing-space", BODY, reference(BODY) + " ", "64 lowercase hex"),
]


class TestAttacks:
    @pytest.mark.parametrize(
        ("body", "header", "reason"),
        [attack[1:] for attack in ATTACKS],
        ids=[attack[0] for attack in ATTACKS],
    )
    def test_refused_with_reason(self, body: bytes, header: str | None, reason: str) -> None:
        """Each forged or malformed signature is refused, naming why."""
        verifier = SignatureVerifier(APP_SECRET)
        with pytest.raises(SignatureError, match=reason):
            verifier.verify(body, header)
        assert not verifier.is_valid(body, header)

    def test_reason_never_shows_expected_digest(self) -> None:
        """The error text never reveals the expected signature."""
        with pytest.raises(SignatureError) as info:
            SignatureVerifier(APP_SECRET).verify(BODY, reference(BODY, "x"))
        assert reference(BODY)[7:] not in str(info.value)


class TestRotation:
    def test_any_secret_verifies(self) -> None:
        """With several secrets, a body signed with any of them verifies."""
        verifier = SignatureVerifier(["new-secret", "old-secret"])
        verifier.verify(BODY, reference(BODY, "old-secret"))
        verifier.verify(BODY, reference(BODY, "new-secret"))

    def test_first_secret_signs(self) -> None:
        """The first secret is the one sign() uses."""
        assert SignatureVerifier(["new-secret", "old-secret"]).sign(BODY) == reference(
            BODY, "new-secret"
        )

    def test_unknown_secret_refused(self) -> None:
        """A body signed with none of the secrets is refused."""
        with pytest.raises(SignatureError):
            SignatureVerifier(["a", "b"]).verify(BODY, reference(BODY, "c"))


class TestLegacySha1:
    def test_sha1_ignored_by_default(self) -> None:
        """Without opting in, a valid sha1 header alone is refused."""
        with pytest.raises(SignatureError, match="missing"):
            SignatureVerifier(APP_SECRET).verify(
                BODY, None, sha1_header=reference(BODY, algo="sha1")
            )

    def test_sha1_accepted_when_opted_in(self) -> None:
        """With accept_sha1, a valid X-Hub-Signature is enough."""
        verifier = SignatureVerifier(APP_SECRET, accept_sha1=True)
        verifier.verify(BODY, None, sha1_header=reference(BODY, algo="sha1"))
        assert verifier.sign_sha1(BODY) == reference(BODY, algo="sha1")

    def test_sha256_wins_over_sha1(self) -> None:
        """When both headers are present the sha256 one decides."""
        verifier = SignatureVerifier(APP_SECRET, accept_sha1=True)
        with pytest.raises(SignatureError):
            verifier.verify(BODY, reference(BODY, "x"), sha1_header=reference(BODY, algo="sha1"))

    def test_wrong_sha1_refused(self) -> None:
        """A wrong sha1 signature is refused even when opted in."""
        verifier = SignatureVerifier(APP_SECRET, accept_sha1=True)
        with pytest.raises(SignatureError, match="does not match"):
            verifier.verify(BODY, None, sha1_header=reference(BODY, "x", algo="sha1"))


class TestFailClosed:
    @pytest.mark.parametrize(
        "secret", ["", b"", [], None], ids=["empty", "empty-bytes", "none-given", "None"]
    )
    def test_no_secret_is_a_configuration_error(self, secret: object) -> None:
        """A verifier without a usable secret cannot be built."""
        with pytest.raises(ConfigurationError):
            SignatureVerifier(secret)  # type: ignore[arg-type]

    def test_module_sign_refuses_empty_secret(self) -> None:
        """sign() refuses an empty secret instead of signing with it."""
        with pytest.raises(ConfigurationError):
            sign(BODY, "")

    def test_repr_hides_secrets(self) -> None:
        """The verifier's repr never shows a secret."""
        assert APP_SECRET not in repr(SignatureVerifier(APP_SECRET))
