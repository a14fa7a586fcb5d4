"""Keep secrets out of every URL and text fmc logs or puts in an exception.

Graph calls carry the page access token and its ``appsecret_proof`` as query
parameters. Anything that may reach a log line or an exception message goes
through :func:`redact_url` or :func:`redact_text` first, and
:func:`install_log_redaction` masks the URLs that urllib3 itself logs at
DEBUG level.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "appsecret_proof",
    "install_log_redaction",
    "redact_text",
    "redact_url",
]

#: What a secret value is replaced with.
REDACTED = "REDACTED"

# access_token, appsecret_proof, and any other *_token / *_secret parameter
# (input_token, one_time_notif_token, client_secret ...), in a query string or
# a form body, percent-encoded or not.
_SECRET_PARAM = re.compile(
    r"(?P<name>(?:[A-Za-z0-9_.\-]*_token|access_token|appsecret_proof|[A-Za-z0-9_.\-]*_secret)"
    r"(?:=|%3D))(?P<value>[^&#\s'\"<>]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """Mask the values of secret parameters in a URL or form-encoded string.

    Args:
        url: A URL, query string or ``application/x-www-form-urlencoded`` body.

    Returns:
        The same text with every ``access_token``, ``appsecret_proof``,
        ``*_token`` and ``*_secret`` value replaced by ``REDACTED``.
    """
    return _SECRET_PARAM.sub(lambda m: m.group("name") + REDACTED, url)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask secret URL parameters and any of the given secret strings in a text.

    Args:
        text: Free text, e.g. an exception message from requests or urllib3.
        secrets: Literal secret values (tokens, app secrets) to mask wherever
            they appear; empty and ``None`` values are ignored.

    Returns:
        The text with secret parameter values and secret literals replaced by
        ``REDACTED``.
    """
    text = redact_url(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Compute Meta's ``appsecret_proof`` for an access token.

    Args:
        access_token: The page access token sent with the call.
        app_secret: The app secret of the app the token belongs to.

    Returns:
        The lowercase hex HMAC-SHA256 of the token, keyed with the app secret.
    """
    return hmac.new(
        app_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256
    ).hexdigest()


class _RedactingFilter(logging.Filter):
    """Rewrites a record's message arguments so that no token value survives."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact_url(record.msg)
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in args)
        return True


#: Loggers of the HTTP stack that write request URLs, query string included.
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")


def install_log_redaction() -> None:
    """Mask token values in the URLs urllib3 logs at DEBUG level.

    urllib3 logs every request line, query string included, on its
    ``urllib3.connectionpool`` logger. This adds one filter to each of
    urllib3's URL-logging loggers (once; calling it again changes nothing). It
    changes no level and no handler: records still flow as the application
    configured them, only with ``access_token=REDACTED``.
    """
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())
