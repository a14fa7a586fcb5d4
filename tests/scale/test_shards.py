"""Shards: every PSID of a Page in exactly one shard, stable hashes, validated specs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc.errors import ConfigurationError
from fmc.scale import HASH_SPACE, ShardSpec, part_id, plan_shards, psid_hash


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=64))
def test_every_psid_belongs_to_exactly_one_shard(psid: str, count: int) -> None:
    owners = [s for s in plan_shards(["1"], shards_per_page=count) if s.contains(psid)]
    assert len(owners) == 1


@given(st.integers(min_value=1, max_value=4096))
def test_shard_ranges_tile_the_hash_space(count: int) -> None:
    shards = plan_shards(["1"], shards_per_page=count)
    assert shards[0].low == 0
    assert shards[-1].high == HASH_SPACE
    assert all(a.high == b.low for a, b in itertools.pairwise(shards))


@pytest.mark.parametrize(
    ("psid", "expected"), [("p000001", 2391251846), ("1254459154682919", 3864141665)]
)
def test_psid_hash_is_the_same_in_every_process(psid: str, expected: int) -> None:
    assert psid_hash(psid) == expected


def test_part_id_joins_broadcast_and_page() -> None:
    assert part_id("bc-1", "1234") == "bc-1.1234"


@pytest.mark.parametrize(
    ("page_id", "index", "count", "message"),
    [
        ("", 0, 1, "page_id"),
        ("12 34", 0, 1, "page_id"),
        ("1", -1, 2, "index"),
        ("1", 2, 2, "out of range"),
        ("1", 0, 0, "1 to 4096"),
        ("1", 0, 5000, "1 to 4096"),
    ],
)
def test_bad_shard_specs_are_refused_with_the_reason(
    page_id: str, index: int, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ShardSpec(page_id, index, count)


def test_a_shard_survives_a_job_payload() -> None:
    shard = ShardSpec("1234", 3, 8)
    assert ShardSpec.from_payload(shard.to_payload()) == shard
    assert shard.key == "1234:3/8"


@pytest.mark.parametrize("payload", [{}, {"page_id": "1", "index": "x", "count": 2}])
def test_a_bad_payload_is_a_configuration_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="not a shard description"):
        ShardSpec.from_payload(payload)


@pytest.mark.parametrize(
    ("pages", "count", "message"),
    [([], 1, "at least one Page"), (["1", "1"], 1, "listed twice"), (["1"], 0, "1 to 4096")],
)
def test_bad_plans_are_refused(pages: list[str], count: int, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        plan_shards(pages, shards_per_page=count)


def test_a_plan_lists_each_page_split_into_its_shards() -> None:
    keys = [s.key for s in plan_shards(["1", "2"], shards_per_page=2)]
    assert keys == ["1:0/2", "1:1/2", "2:0/2", "2:1/2"]
