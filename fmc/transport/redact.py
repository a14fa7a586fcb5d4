"""Keep secrets out of every URL and text fmc logs or puts in an exception.

Graph calls carry the page access token and its ``appsecret_proof`` as query
parameters, and Graph sometimes quotes the token back ("Malformed access token
EAAB…"). Anything that may reach a log line, an exception, a report or a store
goes through a :class:`Redactor` (or :func:`redact_url` / :func:`redact_text`)
first: the transport scrubs every answer's body before it is decoded, so no
error is ever built from text that holds a secret.

urllib3 logs each request line, query string and so the token included, at
DEBUG level on its own loggers, which fmc does not own. Masking those lines
means adding a filter to loggers every library in the process shares, so fmc
does it only when asked: :func:`install_log_redaction` (and
:func:`remove_log_redaction`).

Secrets are replaced only as *whole values*: where the secret is not part of a
longer run of letters and digits. A secret shorter than
:data:`MIN_SECRET_LENGTH` is not treated as one at all (a three-letter "token"
would otherwise turn ordinary words into ``REDACTED``); such values cannot be
real Meta tokens or app secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Redactor",
    "appsecret_proof",
    "install_log_redaction",
    "redact_text",
    "redact_url",
    "remove_log_redaction",
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


#: Values shorter than this are never treated as secrets to mask (see the module docstring).
MIN_SECRET_LENGTH = 8

# Letters and digits: a secret is masked only where neither side continues such a run.
_WORD = "A-Za-z0-9"


class Redactor:
    """Masks a fixed set of secret values, as whole values, in any text.

    Built once per client (the regular expression is compiled once); calling
    it on a text that holds none of the secrets costs one substring check per
    secret.

    Args:
        secrets: Literal secret values (token, app secret, ``appsecret_proof``).
            ``None``, empty values and values shorter than
            :data:`MIN_SECRET_LENGTH` are ignored.
    """

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        kept = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so that a secret containing another is masked whole.
        self._secrets: tuple[str, ...] = tuple(sorted(kept, key=len, reverse=True))
        self._pattern = (
            re.compile(
                f"(?<![{_WORD}])(?:"
                + "|".join(re.escape(s) for s in self._secrets)
                + f")(?![{_WORD}])"
            )
            if self._secrets
            else None
        )

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._secrets)} secrets>)"

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        """Mask secret parameters (see :func:`redact_url`) and the secret values in ``text``.

        Args:
            text: Any text: a URL, an exception message, a response body.

        Returns:
            The text with each whole occurrence of a secret replaced by
            ``REDACTED``; everything else is unchanged.
        """
        return self.values(redact_url(text))

    def values(self, text: str) -> str:
        """Mask only the secret values (not ``*_token=`` parameters) in ``text``.

        Args:
            text: Any text.

        Returns:
            The text with each whole occurrence of a secret replaced.
        """
        pattern = self._pattern
        if pattern is None or not any(secret in text for secret in self._secrets):
            return text
        return pattern.sub(REDACTED, text)

    def body(self, content: bytes) -> bytes:
        """Mask the secret values in a raw (UTF-8 or ASCII) response body.

        Args:
            content: The body as received.

        Returns:
            The same bytes when no secret occurs in them, else the masked body.
        """
        if self._pattern is None or not any(
            secret.encode("utf-8") in content for secret in self._secrets
        ):
            return content
        return self.values(content.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask secret URL parameters and any of the given secret values in a text.

    Args:
        text: Free text, e.g. an exception message from requests or urllib3.
        secrets: Literal secret values (tokens, app secrets) to mask wherever
            they appear as a whole value; ``None``, empty values and values
            shorter than :data:`MIN_SECRET_LENGTH` are ignored.

    Returns:
        The text with secret parameter values and whole secret values replaced
        by ``REDACTED``.
    """
    return Redactor(secrets)(text)


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


def install_log_redaction() -> bool:
    """Mask token values in the URLs urllib3 logs at DEBUG level, for the whole process.

    urllib3 logs every request line, query string included, on its
    ``urllib3.connectionpool`` logger, so a program that logs urllib3 at DEBUG
    would write the Page's access token and ``appsecret_proof``. This adds one
    filter to each of urllib3's URL-logging loggers (once; calling it again
    changes nothing). It changes no level and no handler: records still flow
    as the application configured them, only with ``access_token=REDACTED``.

    fmc never calls it itself: the loggers belong to the whole process, so the
    application decides, typically once at start-up, next to its logging
    configuration. fmc's own log lines are masked without it.

    Returns:
        ``True`` when it added the filters, ``False`` when they were already there.
    """
    added = False
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())
            added = True
    return added


def remove_log_redaction() -> None:
    """Take the filters of :func:`install_log_redaction` off urllib3's loggers again.

    Other filters on those loggers are left alone; calling it when nothing is
    installed changes nothing.
    """
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        for installed in [f for f in logger.filters if isinstance(f, _RedactingFilter)]:
            logger.removeFilter(installed)
