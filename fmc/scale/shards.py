"""Shards: one distributed broadcast split per Page and by a stable hash range of the PSID.

A distributed broadcast has one id. Each of its Pages keeps its own journal
under the *part* id ``f"{broadcast_id}.{page_id}"`` (PSIDs are scoped to a
Page, and a journal's broadcast belongs to one Page). Within a Page, a PSID
belongs to exactly one of ``count`` shards, chosen by a CRC-32 of its UTF-8
bytes: the same in every process, on every machine and in every Python
version (unlike :func:`hash`), so two workers agree on who is whose without
asking each other.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from fmc.errors import ConfigurationError

__all__ = [
    "HASH_SPACE",
    "ShardSpec",
    "part_id",
    "plan_shards",
    "psid_hash",
]

#: The hash of a PSID is an integer in ``range(HASH_SPACE)``.
HASH_SPACE = 2**32

#: At most this many shards per Page (one shard per few thousand subscribers is plenty).
MAX_SHARDS_PER_PAGE = 4096

_PAGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def psid_hash(psid: str) -> int:
    """The stable hash of a PSID, in ``range(HASH_SPACE)``."""
    return zlib.crc32(psid.encode("utf-8"))


def part_id(broadcast_id: str, page_id: str) -> str:
    """The id under which one Page's part of a distributed broadcast is journaled."""
    return f"{broadcast_id}.{page_id}"


def _page_id(_instance: object, _attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not _PAGE_ID.match(value):
        raise ValueError(f"a shard's page_id must be a Page id (digits), got {value!r}")


def _count(_instance: object, _attribute: Any, value: int) -> None:
    if not isinstance(value, int) or not 1 <= value <= MAX_SHARDS_PER_PAGE:
        raise ValueError(f"a Page is split into 1 to {MAX_SHARDS_PER_PAGE} shards, got {value!r}")


@attrs.frozen
class ShardSpec:
    """One shard: the PSIDs of one Page whose hash falls in one range.

    Attributes:
        page_id: The Page.
        index: Which shard of the Page, from 0.
        count: Into how many shards the Page is split.
    """

    page_id: str = attrs.field(validator=_page_id)
    index: int = attrs.field()
    count: int = attrs.field(validator=_count)

    @index.validator
    def _check_index(self, _attribute: Any, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"a shard's index must be 0 or more, got {value!r}")

    def __attrs_post_init__(self) -> None:
        if self.index >= self.count:
            raise ValueError(
                f"shard index {self.index} is out of range for {self.count} shards "
                f"(0 to {self.count - 1})"
            )

    @property
    def low(self) -> int:
        """The smallest hash in this shard."""
        return self.index * HASH_SPACE // self.count

    @property
    def high(self) -> int:
        """One past the largest hash in this shard."""
        return (self.index + 1) * HASH_SPACE // self.count

    @property
    def key(self) -> str:
        """A short stable name, e.g. ``"1234:2/8"`` (engines use it in job locks and logs)."""
        return f"{self.page_id}:{self.index}/{self.count}"

    def contains(self, psid: str) -> bool:
        """Whether ``psid`` belongs to this shard."""
        return self.low <= psid_hash(psid) < self.high

    def to_payload(self) -> dict[str, Any]:
        """The shard as JSON-ready data, for a job's arguments."""
        return {"page_id": self.page_id, "index": self.index, "count": self.count}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ShardSpec:
        """The shard described by :meth:`to_payload`'s data.

        Raises:
            ConfigurationError: The data is not a shard description.
        """
        try:
            return cls(str(data["page_id"]), int(data["index"]), int(data["count"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"not a shard description ({exc}); expected page_id, index and count"
            ) from exc


def plan_shards(page_ids: Iterable[str], *, shards_per_page: int = 1) -> list[ShardSpec]:
    """Every shard of a broadcast to ``page_ids``, each Page split ``shards_per_page`` ways.

    Raises:
        ConfigurationError: No Page, a Page twice, or a bad shard count.
    """
    pages = list(page_ids)
    if not pages:
        raise ConfigurationError("a distributed broadcast needs at least one Page")
    if len(set(pages)) != len(pages):
        raise ConfigurationError(f"a Page is listed twice in {pages!r}")
    try:
        _count(None, None, shards_per_page)
        return [ShardSpec(p, i, shards_per_page) for p in pages for i in range(shards_per_page)]
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
