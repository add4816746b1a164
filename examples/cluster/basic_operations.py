"""Basic operations on a Redis Cluster: the same toolkit calls as on one server, plus
``toolkit.cluster`` for what only makes sense on a cluster.

    docker compose -f docker/docker-compose.cluster.yml up -d     # 3 primaries + 3 replicas
    python examples/cluster/basic_operations.py
    REDIS_CLUSTER_URL=redis+cluster://10.0.0.5:6379,10.0.0.6:6379 python \
        examples/cluster/basic_operations.py
"""

from __future__ import annotations

import os

from redis_toolkit import CrossSlotError, RedisConnectionConfig, RedisOptions, RedisToolkit
from redis_toolkit.cluster_utils import hash_tag

URL = os.environ.get(
    "REDIS_CLUSTER_URL", "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
)


def main() -> None:
    # The URL form and the explicit form are the same config.
    nodes = RedisConnectionConfig(url=URL).startup_nodes
    config = RedisConnectionConfig(
        cluster_mode=True,
        startup_nodes=nodes,  # [{"host": ..., "port": ...}, ...]; any one reachable node will do
        skip_full_coverage_check=False,
        max_connections_per_node=32,
        readonly_mode=False,  # True: reads also go to replicas (they may lag: stale reads)
    )
    config.validate_cluster_config()
    with RedisToolkit(config=config, options=RedisOptions(is_logger_info=False)) as toolkit:
        # Values and batches: exactly as on one server.
        toolkit.setter("example:cluster:user:1", {"name": "Ada", "langs": ["python"]}, ttl=300)
        print("user 1:", toolkit.getter("example:cluster:user:1"))
        items = {f"example:cluster:item:{i}": {"i": i} for i in range(100)}
        toolkit.batch_set(items)  # split per slot and node behind the scenes
        print("batch_get:", len(toolkit.batch_get(list(items))), "values")

        ops = toolkit.cluster
        for key in ("example:cluster:item:1", "example:cluster:item:2"):
            print(f"{key} lives in slot {ops.keyslot(key)}")

        found = ops.scan_cluster("example:cluster:*", count=500)
        print(f"scan_cluster found {len(found)} keys on {len(found.nodes)} primaries;",
              "complete" if found.complete else f"INCOMPLETE: {found.failed_nodes}")  # fmt: skip

        for node in ops.get_nodes_info():
            print(f"  {node['name']:<22} {node['role']:<8} slots={node['slot_count']:<5} "
                  f"keys={node['keys']} link={node['link_state']}")  # fmt: skip

        # A multi-key atomic write needs every key in one slot: refused before anything is sent.
        try:
            ops.mset_cluster({"example:cluster:a": 1, "example:cluster:b": 2}, atomic=True)
        except CrossSlotError as e:
            print("refused:", str(e).split(";")[0])
        # The fix: a common hash tag puts the keys in one slot.
        cart = {hash_tag(f"example:cluster:{part}", "user:1"): part for part in ("cart", "bill")}
        ops.mset_cluster(cart, atomic=True, ttl=60)
        print("atomic write of", list(cart))

        deleted = toolkit.batch_delete([*items, *cart, "example:cluster:user:1"])
        print("deleted", deleted, "keys")


if __name__ == "__main__":
    main()
