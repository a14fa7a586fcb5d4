"""Webhook signatures: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``.

The HMAC is computed over the raw bytes exactly as received, never over
re-serialised JSON, and compared in constant time. Only ``sha256=`` followed by
64 lowercase hex digits is accepted; the legacy ``X-Hub-Signature: sha1=...``
header only when the caller opts in. Several app secrets may be given, so a
secret can be rotated without refusing deliveries signed with the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from fmc.errors import ConfigurationError, SignatureError

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_HEADER_SHA1",
    "SignatureVerifier",
    "sign",
    "verify_signature",
]

#: The header Meta signs deliveries with.
SIGNATURE_HEADER = "X-Hub-Signature-256"
#: The legacy SHA-1 header, checked only when opted in.
SIGNATURE_HEADER_SHA1 = "X-Hub-Signature"

_HEX = frozenset("0123456789abcdef")
_compare = hmac.compare_digest


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ConfigurationError("an app secret must be a non-empty string")
    return secret


def _digest_of(header: str | None, prefix: str, length: int, name: str) -> str:
    """The hex digest from a header value, or SignatureError saying why not."""
    if header is None:
        raise SignatureError(f"missing {name} header")
    if not header.startswith(prefix):
        raise SignatureError(f"{name} must start with {prefix!r}")
    digest = header[len(prefix) :]
    if len(digest) != length or not _HEX.issuperset(digest):
        raise SignatureError(f"{name} must be {prefix}<{length} lowercase hex digits>")
    return digest


class SignatureVerifier:
    """Checks and makes webhook signatures with one or more app secrets.

    Args:
        app_secret: The app secret, or several (the first one signs; any one verifies).
        accept_sha1: Also accept the legacy ``X-Hub-Signature: sha1=...`` header
            when ``X-Hub-Signature-256`` is absent.

    Raises:
        ConfigurationError: no app secret, or an empty one (fmc fails closed).
    """

    __slots__ = ("_macs", "_sha1_macs", "accept_sha1")

    def __init__(
        self,
        app_secret: str | bytes | Iterable[str | bytes],
        *,
        accept_sha1: bool = False,
    ) -> None:
        if app_secret is None:
            raise ConfigurationError("an app secret is required to verify webhook signatures")
        secrets = [app_secret] if isinstance(app_secret, (str, bytes)) else list(app_secret)
        if not secrets:
            raise ConfigurationError("an app secret is required to verify webhook signatures")
        keys = [_key(secret) for secret in secrets]
        # One keyed HMAC per secret, copied per call: keying costs as much as hashing a small body.
        self._macs = tuple(hmac.new(key, digestmod=hashlib.sha256) for key in keys)
        self._sha1_macs = tuple(hmac.new(key, digestmod=hashlib.sha1) for key in keys)
        self.accept_sha1 = accept_sha1

    def __repr__(self) -> str:
        return f"SignatureVerifier(<{len(self._macs)} secret(s)>, accept_sha1={self.accept_sha1})"

    def sign(self, body: bytes) -> str:
        """Sign a body with the first secret.

        Args:
            body: The raw bytes.

        Returns:
            The ``X-Hub-Signature-256`` value, ``sha256=<hex>``.
        """
        mac = self._macs[0].copy()
        mac.update(body)
        return "sha256=" + mac.hexdigest()

    def sign_sha1(self, body: bytes) -> str:
        """Sign a body with the first secret, the legacy way.

        Args:
            body: The raw bytes.

        Returns:
            The ``X-Hub-Signature`` value, ``sha1=<hex>``.
        """
        mac = self._sha1_macs[0].copy()
        mac.update(body)
        return "sha1=" + mac.hexdigest()

    def verify(self, body: bytes, header: str | None, *, sha1_header: str | None = None) -> None:
        """Check a body against its signature header.

        Args:
            body: The raw bytes as received.
            header: The ``X-Hub-Signature-256`` value (``None`` when absent).
            sha1_header: The ``X-Hub-Signature`` value, used only when ``accept_sha1``
                is set and ``header`` is absent.

        Raises:
            SignatureError: the signature is missing, malformed or does not match; the
                message says which (never the expected value).
        """
        value: str | None
        if header is None and sha1_header is not None and self.accept_sha1:
            value, prefix, length, name, macs = (
                sha1_header,
                "sha1=",
                40,
                SIGNATURE_HEADER_SHA1,
                self._sha1_macs,
            )
        else:
            value, prefix, length, name, macs = header, "sha256=", 64, SIGNATURE_HEADER, self._macs
        if (
            value is not None
            and body
            and len(value) == len(prefix) + length
            and value.startswith(prefix)
            and value.isascii()
        ):
            digest = value[len(prefix) :]
            matched = False
            for base in macs:
                mac = base.copy()
                mac.update(body)
                # No early exit: every secret is compared, so timing says nothing about which.
                matched |= _compare(mac.hexdigest(), digest)
            if matched:
                return
        # Refused: work out the most useful reason (this path need not be fast).
        _digest_of(value, prefix, length, name)
        if not body:
            raise SignatureError("empty body")
        raise SignatureError("signature does not match the body")

    def is_valid(self, body: bytes, header: str | None, *, sha1_header: str | None = None) -> bool:
        """Say whether :meth:`verify` would accept the body.

        Args:
            body: The raw bytes as received.
            header: The ``X-Hub-Signature-256`` value.
            sha1_header: The ``X-Hub-Signature`` value (see :meth:`verify`).

        Returns:
            True when the signature matches.
        """
        try:
            self.verify(body, header, sha1_header=sha1_header)
        except SignatureError:
            return False
        return True


def sign(body: bytes, app_secret: str | bytes) -> str:
    """Sign a body as Meta does.

    Args:
        body: The raw bytes.
        app_secret: The app secret.

    Returns:
        The ``X-Hub-Signature-256`` value, ``sha256=<hex>``.

    Raises:
        ConfigurationError: the app secret is empty.
    """
    return "sha256=" + hmac.new(_key(app_secret), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header_value: str | None, app_secret: str | bytes) -> None:
    """Check an ``X-Hub-Signature-256`` value against a body, for example in a forwarding receiver.

    Args:
        body: The raw bytes as received.
        header_value: The header's value.
        app_secret: The app secret.

    Raises:
        SignatureError: the signature is missing, malformed or does not match.
        ConfigurationError: the app secret is empty.
    """
    SignatureVerifier(app_secret).verify(body, header_value)
