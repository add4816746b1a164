"""A quick performance check on a Redis Cluster: single calls, batches and concurrent tasks,
printed as ratios measured in the same run (a cluster's absolute rates depend on the network;
the ratios say what batching and concurrency buy). The full benchmark is
benchmarks/bench_cluster.py.

    docker compose -f docker/docker-compose.cluster.yml up -d     # 3 primaries + 3 replicas
    python examples/cluster/performance_test.py
    REDIS_CLUSTER_URL=redis+cluster://10.0.0.5:6379,10.0.0.6:6379 python \
        examples/cluster/performance_test.py
"""

from __future__ import annotations

import asyncio
import os
import time

from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig, RedisOptions, RedisToolkit

URL = os.environ.get(
    "REDIS_CLUSTER_URL", "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
)
N = int(os.environ.get("EXAMPLE_OPS", "600"))
QUIET = RedisOptions(is_logger_info=False)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def sync_figures(config: RedisConnectionConfig, keys: list[str]) -> tuple[float, float]:
    """Keys/s: one setter per key, then one batch_set of all keys (spread over every node)."""
    with RedisToolkit(config=config, options=QUIET) as toolkit:
        began = time.perf_counter()
        for i, key in enumerate(keys):
            toolkit.setter(key, {"i": i})
        single = rate(len(keys), time.perf_counter() - began)
        began = time.perf_counter()
        toolkit.batch_set({key: {"i": i} for i, key in enumerate(keys)})
        batch = rate(len(keys), time.perf_counter() - began)
        assert toolkit.batch_get(keys[:3]) == {k: {"i": i} for i, k in enumerate(keys[:3])}
        return single, batch


async def async_figure(config: RedisConnectionConfig, keys: list[str], tasks: int = 50) -> float:
    """Keys/s: ``tasks`` concurrent tasks, each setting its share of the keys one by one."""
    async with AsyncRedisToolkit(config=config, options=QUIET) as toolkit:
        shares = [keys[n::tasks] for n in range(tasks)]

        async def worker(share: list[str]) -> None:
            for key in share:
                await toolkit.setter(key, {"async": True})

        began = time.perf_counter()
        await asyncio.gather(*(worker(share) for share in shares))
        elapsed = time.perf_counter() - began
        await toolkit.batch_delete(keys)
        return rate(len(keys), elapsed)


def main() -> None:
    config = RedisConnectionConfig(url=URL)
    keys = [f"example:cluster:perf:{i}" for i in range(N)]
    single, batch = sync_figures(config, keys)
    concurrent = asyncio.run(async_figure(config, keys))
    print(f"{N} keys spread over every primary")
    print(f"  sync setter, one by one   {single:>10,.0f} keys/s")
    print(f"  sync batch_set            {batch:>10,.0f} keys/s   ratio {batch / single:.1f}x")
    print(f"  async setter, 50 tasks    {concurrent:>10,.0f} keys/s   ratio "
          f"{concurrent / single:.1f}x")  # fmt: skip
    print("deleted", N, "keys")


if __name__ == "__main__":
    main()
