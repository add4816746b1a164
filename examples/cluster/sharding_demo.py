"""How keys are sharded over a Redis Cluster, and how hash tags keep related keys together
(async API: batches go to the nodes in parallel).

    docker compose -f docker/docker-compose.cluster.yml up -d
    python examples/cluster/sharding_demo.py
    REDIS_CLUSTER_URL=redis+cluster://10.0.0.5:6379 python examples/cluster/sharding_demo.py
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

from redis_toolkit import RedisOptions
from redis_toolkit.asyncio import RedisToolkit
from redis_toolkit.cluster_utils import hash_tag, same_slot

URL = os.environ.get(
    "REDIS_CLUSTER_URL", "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
)


def owner(slot: int, nodes: list[dict[str, Any]]) -> str:
    for node in nodes:
        if any(first <= slot <= last for first, last in node["slots"]):
            return str(node["name"])
    return "?"


async def main() -> None:
    toolkit = RedisToolkit.from_url(URL, options=RedisOptions(is_logger_info=False))
    async with toolkit:
        ops = toolkit.cluster
        nodes = await ops.get_nodes_info()

        # 1. Plain keys spread over every primary.
        plain = {f"example:shard:item:{i}": i for i in range(600)}
        await ops.mset_cluster(plain)  # one pipelined round trip per node, nodes in parallel
        spread = Counter(owner(ops.keyslot(k), nodes) for k in plain)
        print("600 plain keys per primary:", dict(sorted(spread.items())))

        # 2. A hash tag keeps one user's keys on one slot (and node).
        user = {hash_tag(f"example:shard:{part}", "user:123"): part for part in ("a", "b", "c")}
        print("user 123 keys:", list(user), "same slot:", same_slot(list(user)))
        print("  served by", owner(ops.keyslot(next(iter(user))), nodes))
        await ops.mset_cluster(user, atomic=True)  # all or nothing: one slot
        print("  read back:", list((await ops.mget_cluster(list(user))).values()))

        # 3. Pub/sub: a channel with the same hash tag lives with the user's data.
        received: list[Any] = []
        done = asyncio.Event()

        async def on_event(channel: str, value: Any) -> None:
            received.append((channel, value))
            done.set()

        channel = hash_tag("events", "user:123")  # "{user:123}:events"
        await toolkit.start_subscriber([channel], on_event)
        await toolkit.publish(channel, {"type": "login"})
        await asyncio.wait_for(done.wait(), 10)
        print("event on", received[0][0], "->", received[0][1])
        await toolkit.stop_subscriber()

        found = await ops.scan_cluster("example:shard:*")
        print("scan_cluster:", len(found), "keys,", "complete" if found.complete else "INCOMPLETE")
        print("deleted", await toolkit.batch_delete(list(found)), "keys")


if __name__ == "__main__":
    asyncio.run(main())
