"""Reading a webhook request: query values and the signature headers, repeats made visible.

A value repeated in the query or the headers is :data:`AMBIGUOUS`, never one
of its copies picked at random: the handler refuses what it cannot read one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union, cast
from urllib.parse import parse_qs

__all__ = ["AMBIGUOUS", "Headers", "Query", "one", "query_value", "signature_headers"]

#: Stands for a value given more than once.
AMBIGUOUS = object()

#: Headers as a mapping (case-insensitive lookup is done by the handler) or as
#: ``(name, value)`` pairs, which keeps repeated headers visible.
Headers = Union[Mapping[str, Any], Iterable[tuple[str, str]]]  # noqa: UP007
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
    for name, value in pairs:
        size = len(name)
        # Only three header names matter; skip the rest before paying for lower().
        if size != 19 and size != 15 and size != 12:
            continue
        lowered = name.decode("latin-1").lower() if type(name) is bytes else name.lower()
        if lowered == "x-hub-signature-256":
            signature = AMBIGUOUS if signature is not None else one(value)
        elif lowered == "x-hub-signature":
            sha1 = AMBIGUOUS if sha1 is not None else one(value)
        elif lowered == "content-type":
            content_type = one(value)
    return signature, sha1, content_type
