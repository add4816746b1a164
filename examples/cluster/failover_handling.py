"""Failover on a Redis Cluster: writes go on through a failover, no error reaches the caller.

REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001 python examples/cluster/failover_handling.py

It streams writes while it asks a replica to take over its master (``CLUSTER FAILOVER``, the
graceful kind: the cluster stays whole, master and replica swap roles), then prints the errors
seen (none), the per-node health, the failovers and topology refreshes counted, and shows a
sharded subscriber receiving across the failover. Without REDIS_CLUSTER_NODES it says so and
exits: a failover needs a real cluster.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from redis.asyncio import Redis

from redis_toolkit import RedisConnectionConfig
from redis_toolkit.asyncio import RedisToolkit


async def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def main() -> None:
    nodes = os.environ.get("REDIS_CLUSTER_NODES")
    if not nodes:
        print("set REDIS_CLUSTER_NODES=host:port,host:port to run this against a cluster")
        return
    # Default settings: in cluster mode the retry budget covers a failover (retries keep
    # starting for 2 x cluster_node_timeout + 2 s); set cluster_node_timeout to your servers'.
    config = RedisConnectionConfig(cluster_mode=True, startup_nodes=nodes.split(","))
    async with RedisToolkit(config=config) as toolkit:
        key = "example:failover:{orders}"
        client = toolkit.client
        slot = client.keyslot(key)
        master = client.nodes_manager.get_node_from_slot(slot)
        # The master's replicas, from CLUSTER NODES as the master sees it.
        known = await client.execute_command("CLUSTER NODES", target_nodes=master)
        master_id = next(info["node_id"] for info in known.values() if "myself" in info["flags"])
        replicas = [
            address.split("@")[0]
            for address, info in known.items()
            if info.get("master_id") == master_id
        ]
        received: list[Any] = []
        await toolkit.start_subscriber(
            [key], lambda channel, value: received.append(value), sharded=True
        )

        errors: list[BaseException] = []
        written = 0
        stop = asyncio.Event()

        async def writer() -> None:
            nonlocal written
            while not stop.is_set():
                try:
                    await toolkit.setter(key, {"seq": written})
                    written += 1
                except Exception as e:  # what the example is about: there are none
                    errors.append(e)

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.2)
        if replicas:
            host, port = replicas[0].rsplit(":", 1)
            print(f"asking {replicas[0]} to take over from {master.name}")
            async with Redis(host=host, port=int(port)) as replica:
                await replica.execute_command("CLUSTER FAILOVER")

                async def swapped() -> bool:
                    role = await replica.execute_command("ROLE")
                    return role[0] in (b"master", "master")

                print("failover done:", await wait_for(swapped, 15))
        await asyncio.sleep(0.5)
        stop.set()
        await task
        print(f"writes acknowledged: {written}, errors seen by the caller: {len(errors)}")
        print("value now:", await toolkit.getter(key))

        async def delivered() -> bool:
            await toolkit.publish(key, "after the failover", sharded=True)
            await asyncio.sleep(0.1)
            return "after the failover" in received

        print("sharded subscriber receives after the failover:", await wait_for(delivered, 10))
        metrics = toolkit.get_metrics()
        print(
            f"failovers seen: {metrics['failovers']}, "
            f"topology refreshes: {metrics['topology_refreshes']}"
        )
        await toolkit.health_checker.check()  # the background check, run once now
        for name, node in toolkit.get_health_status()["nodes"].items():
            state = "healthy" if node["healthy"] else f"DOWN ({node['last_error']})"
            print(f"  {name}: {node['role']}, {state}, breaker {node['circuit_breaker']}")
        await toolkit.deleter(key)


if __name__ == "__main__":
    asyncio.run(main())
