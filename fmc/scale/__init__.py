"""Broadcasts sharded across worker processes on an existing task engine.

fmc brings the journal (the source of truth for who has been sent what) and
shard jobs; an engine (Procrastinate, Celery) schedules the jobs, restarts
them when a worker dies and spreads them over machines. See the "Scaling out"
guide.
"""

from fmc.scale.run import (
    BroadcastRecorder,
    PageOpener,
    PageResources,
    ShardResult,
    begin_distributed,
    run_shard,
)
from fmc.scale.shards import HASH_SPACE, ShardSpec, part_id, plan_shards, psid_hash
from fmc.scale.status import BroadcastStatus, PageStatus, broadcast_status

__all__ = [
    "HASH_SPACE",
    "BroadcastRecorder",
    "BroadcastStatus",
    "PageOpener",
    "PageResources",
    "PageStatus",
    "ShardResult",
    "ShardSpec",
    "begin_distributed",
    "broadcast_status",
    "part_id",
    "plan_shards",
    "psid_hash",
    "run_shard",
]
