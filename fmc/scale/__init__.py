"""Broadcasts sharded across worker processes on an existing task engine.

fmc brings the journal (the source of truth for who has been sent what) and
shard jobs; an engine (Procrastinate, Celery) schedules the jobs, restarts
them when a worker dies and spreads them over machines. See the "Scaling out"
guide.
"""

from fmc.scale.ledger import (
    JobOutcome,
    ShardJob,
    mark_published,
    record_distributed,
    run_shard_job,
    sweep_shards,
)
from fmc.scale.run import (
    RATE_WINDOW,
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
    "RATE_WINDOW",
    "BroadcastRecorder",
    "BroadcastStatus",
    "JobOutcome",
    "PageOpener",
    "PageResources",
    "PageStatus",
    "ShardJob",
    "ShardResult",
    "ShardSpec",
    "begin_distributed",
    "broadcast_status",
    "mark_published",
    "part_id",
    "plan_shards",
    "psid_hash",
    "record_distributed",
    "run_shard",
    "run_shard_job",
    "sweep_shards",
]
