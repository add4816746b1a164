"""Cluster vs standalone: batch_get of 1,000 keys spread over all slots, as ratios in one run.

    python benchmarks/bench_cluster.py          # starts a private server and a 6-node cluster
    python benchmarks/bench_cluster.py --url redis://h:6379/0 --cluster-url redis+cluster://h:7000
    python benchmarks/bench_cluster.py --quick  # a smoke run (the test suite uses it)

Both sides read the same 1,000 small dicts (same serializer, same toolkit settings). Rounds
alternate cluster and standalone so that machine noise hits both alike. Each line prints the
cluster's throughput over the standalone server's (higher is better for the cluster; the target
for batch_get is >= 0.8x) as the median over rounds with the range [min - max]. On one server a
batch is one MGET; on a cluster MGET only takes keys of one slot, so 1,000 keys spread over ~970
slots become ~970 single-slot MGETs, pipelined per node. A second line reads 1,000 keys under
three hash tags (three slots, one per primary): three MGETs, one per node.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _server import server_url  # benchmarks/_server.py, beside this script

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkit,
    async_pool_manager,
)
from redis_toolkit.cluster_utils import SLOT_COUNT, group_by_slot, keyslot

OPTIONS = RedisOptions(is_logger_info=False)


@contextmanager
def cluster_url(url: str | None) -> Iterator[str]:
    """Yield ``url``, or start a private 6-node cluster and yield its ``redis+cluster://`` URL."""
    if url is not None:
        yield url
        return
    from tests.servers import RedisClusterNodes

    cluster = RedisClusterNodes(Path(tempfile.mkdtemp(prefix="bench-cluster-"))).start()
    try:
        yield "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in cluster.startup_nodes)
    finally:
        cluster.stop()


def small_dict(i: int) -> dict[str, object]:
    return {"id": i, "name": f"user-{i}", "score": i * 1.5, "tags": ["a", "b"], "active": True}


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def atimed(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


def report(label: str, pairs: list[tuple[float, float]], target: str) -> float:
    """``pairs`` of (cluster seconds, standalone seconds) for the same work."""
    ratios = [single / cluster for cluster, single in pairs]
    ratio = statistics.median(ratios)
    print(
        f"{label:<52} ratio {ratio:5.2f}x  [{min(ratios):.2f} - {max(ratios):.2f}]  "
        f"(cluster {statistics.median(p[0] for p in pairs) * 1000:6.1f} ms, standalone "
        f"{statistics.median(p[1] for p in pairs) * 1000:6.1f} ms; target {target})"
    )
    return ratio


def tagged_keys(count: int) -> list[str]:
    """``count`` keys under three hash tags whose slots lie in different thirds of the slot
    range (on different primaries of a cluster created by ``redis-cli --cluster create``)."""
    tags: list[str] = []
    for third in range(3):
        low, high = third * SLOT_COUNT // 3, (third + 1) * SLOT_COUNT // 3 - 1
        tags.append(next(f"t{n}" for n in range(10_000) if low <= keyslot(f"t{n}") <= high))
    return [f"{{{tags[i % 3]}}}:bench:cluster:{i}" for i in range(count)]


def bench_sync(url: str, curl: str, rounds: int, keys: list[str], tagged: list[str]) -> None:
    single = RedisToolkit(config=RedisConnectionConfig(url=url), options=OPTIONS)
    cluster = RedisToolkit(config=RedisConnectionConfig(url=curl), options=OPTIONS)
    for names in (keys, tagged):
        mapping = {k: small_dict(i) for i, k in enumerate(names)}
        single.batch_set(mapping)
        cluster.batch_set(mapping)
        assert cluster.batch_get(names) == single.batch_get(names) == mapping
        assert cluster.cluster.mget_cluster(names) == mapping
    spread, grouped = [], []
    for _ in range(rounds):
        spread.append(
            (timed(lambda: cluster.batch_get(keys)), timed(lambda: single.batch_get(keys)))
        )
        grouped.append(
            (timed(lambda: cluster.batch_get(tagged)), timed(lambda: single.batch_get(tagged)))
        )  # fmt: skip
    report(f"sync batch_get, {len(keys)} keys over all slots", spread, ">= 0.8")
    report(f"sync batch_get, {len(tagged)} keys under 3 hash tags", grouped, "-")
    for toolkit in (single, cluster):
        toolkit.batch_delete(keys + tagged)
        toolkit.close()


async def bench_async(url: str, curl: str, rounds: int, keys: list[str], tagged: list[str]) -> None:
    single = AsyncRedisToolkit(config=RedisConnectionConfig(url=url), options=OPTIONS)
    cluster = AsyncRedisToolkit(config=RedisConnectionConfig(url=curl), options=OPTIONS)
    for names in (keys, tagged):
        mapping = {k: small_dict(i) for i, k in enumerate(names)}
        await single.batch_set(mapping)
        await cluster.batch_set(mapping)
        assert await cluster.batch_get(names) == mapping
        assert await cluster.cluster.mget_cluster(names) == mapping
    spread, grouped = [], []
    for _ in range(rounds):
        c = await atimed(lambda: cluster.batch_get(keys))
        spread.append((c, await atimed(lambda: single.batch_get(keys))))
        c = await atimed(lambda: cluster.batch_get(tagged))
        grouped.append((c, await atimed(lambda: single.batch_get(tagged))))
    report(f"async batch_get, {len(keys)} keys over all slots", spread, ">= 0.8")
    report(f"async batch_get, {len(tagged)} keys under 3 hash tags", grouped, "-")
    for toolkit in (single, cluster):
        await toolkit.batch_delete(keys + tagged)
        await toolkit.aclose()
    await async_pool_manager.close_all_pools()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="standalone server (default: start a private one)")
    parser.add_argument("--cluster-url", help="redis+cluster:// URL (default: a private cluster)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 100 keys")
    args = parser.parse_args(argv)
    rounds, count = (3, 100) if args.quick else (args.rounds, args.keys)
    keys = [f"bench:cluster:{i}" for i in range(count)]
    print(
        f"python {platform.python_version()}, {count} keys over {len(group_by_slot(keys))} slots, "
        f"{rounds} interleaved rounds; ratio = cluster throughput / standalone throughput"
    )
    with server_url(args.url) as url, cluster_url(args.cluster_url) as curl:
        tagged = tagged_keys(count)
        bench_sync(url, curl, rounds, keys, tagged)
        asyncio.run(bench_async(url, curl, rounds, keys, tagged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
