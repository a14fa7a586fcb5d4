"""Reading a webhook request: query values and the signature headers, repeats made visible.

A value repeated in the query or the headers is :data:`AMBIGUOUS`, never one
of its copies picked at random: the handler refuses what it cannot read one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union, cast
from urllib.parse import parse_qs

from fmc.webhook.signature import SIGNATURE_HEADER, SIGNATURE_HEADER_SHA1

__all__ = ["AMBIGUOUS", "Headers", "Query", "one", "query_value", "signature_headers"]

#: Stands for a value given more than once.
AMBIGUOUS = object()

#: Headers as a mapping (case-insensitive lookup is done by the handler) or as
#: ``(name, value)`` pairs, which keeps repeated headers visible.
Headers = Union[Mapping[str, Any], Iterable[tuple[str, str]]]  # noqa: UP007
_SIGNATURE = SIGNATURE_HEADER.lower()
_SIGNATURE_SHA1 = SIGNATURE_HEADER_SHA1.lower()
_CONTENT_TYPE = "content-type"
#: The lengths of the only header names read: any other header is skipped on its
#: length alone, before paying for ``lower()`` (a request carries a dozen or so).
_READ_LENGTHS = frozenset(map(len, (_SIGNATURE, _SIGNATURE_SHA1, _CONTENT_TYPE)))

#: A query as a mapping of names to a value or a list of values, or the raw query string.
Query = Union[Mapping[str, Any], str, None]  # noqa: UP007


def one(value: Any) -> Any:
    """A single query or header value; ``AMBIGUOUS`` when repeated."""
    if type(value) is str:
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            return AMBIGUOUS
        return one(value[0])
    return AMBIGUOUS if value is not None else None


def query_value(query: Query, name: str) -> Any:
    """The single value of ``name`` in the query; ``None`` if absent, ``AMBIGUOUS`` if repeated."""
    if query is None:
        return None
    if isinstance(query, str):
        query = parse_qs(query.lstrip("?"), keep_blank_values=True)
    return one(query.get(name))


def signature_headers(headers: Headers) -> tuple[Any, Any, Any]:
    """The ``X-Hub-Signature-256``, ``X-Hub-Signature`` and ``Content-Type`` values.

    Each is ``None`` when absent and :data:`AMBIGUOUS` when repeated.
    """
    signature = sha1 = content_type = None
    items = getattr(headers, "items", None)
    pairs = cast("Iterable[tuple[Any, Any]]", items() if items is not None else headers or ())
    lengths = _READ_LENGTHS
    for name, value in pairs:
        if len(name) not in lengths:
            continue
        lowered = name.decode("latin-1").lower() if type(name) is bytes else name.lower()
        if lowered == _SIGNATURE:
            signature = AMBIGUOUS if signature is not None else one(value)
        elif lowered == _SIGNATURE_SHA1:
            sha1 = AMBIGUOUS if sha1 is not None else one(value)
        elif lowered == _CONTENT_TYPE:
            content_type = one(value)
    return signature, sha1, content_type
