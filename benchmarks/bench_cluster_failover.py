"""Errors surfaced and time to recover during a cluster master ``kill -9``: toolkit vs raw redis-py.

First, for reference, SET/GET throughput on the cluster: sync vs async 50 tasks, with and
without auto-pipelining (grouped per node).

python benchmarks/bench_cluster_failover.py [--writers 4] [--runs 1] [--quick]

Starts a private 6-node cluster (cluster-node-timeout 1 s) on loopback ports, then for each
client: ``--writers`` asyncio tasks SET random keys spread over every master; one master is
killed (``kill -9``); the run goes on until the dead master's keys are written again, plus one
second. Printed per client: errors that reached the caller, time from the kill to the first
success on the dead master's keys, the slowest call, and healthy masters' calls during the
outage. Both clients use their default settings (the toolkit: ``cluster_mode=True`` and the
startup nodes; redis-py: ``RedisCluster(startup_nodes=...)``). The killed node is restarted
(it rejoins as a replica) before the next run. Nothing is asserted: figures vary run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redis.asyncio.cluster import ClusterNode, RedisCluster  # noqa: E402
from redis.crc import key_slot  # noqa: E402

from redis_toolkit import RedisConnectionConfig, async_pool_manager  # noqa: E402
from redis_toolkit.asyncio import RedisToolkit  # noqa: E402
from tests.servers import RedisClusterNodes  # noqa: E402


def owners(cluster: RedisClusterNodes) -> list[tuple[int, int, int]]:
    with cluster.masters()[0].admin() as c:
        return [(s, e, m[1]) for s, e, m, *_ in c.execute_command("CLUSTER SLOTS")]


async def run_once(kind: str, cluster: RedisClusterNodes, writers: int) -> dict[str, Any]:
    ranges = owners(cluster)
    keys = [f"bench:failover:{i}" for i in range(3000)]
    port_of = {k: next(p for s, e, p in ranges if s <= key_slot(k.encode()) <= e) for k in keys}
    victim_port = ranges[0][2]
    victim = next(n for n in cluster.nodes if n.port == victim_port)
    if kind == "toolkit":
        toolkit = RedisToolkit(
            config=RedisConnectionConfig(cluster_mode=True, startup_nodes=cluster.startup_nodes)
        )

        async def write(key: str) -> Any:
            return await toolkit.setter(key, 1)

        async def close() -> None:
            await toolkit.aclose()
            await async_pool_manager.close_all_pools()
    else:
        raw = RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in cluster.startup_nodes])

        async def write(key: str) -> Any:
            return await raw.set(key, 1)

        async def close() -> None:
            await raw.aclose()

    calls: list[tuple[int, float, float, bool]] = []
    errors: list[str] = []
    stop = asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            key = random.choice(keys)
            began = time.monotonic()
            try:
                await write(key)
                ok = True
            except Exception as e:
                errors.append(type(e).__name__)
                ok = False
            calls.append((port_of[key], began, time.monotonic(), ok))

    tasks = [asyncio.create_task(writer()) for _ in range(writers)]
    await asyncio.sleep(1.0)
    t_kill = time.monotonic()
    victim.kill()
    deadline = t_kill + 40
    first: float | None = None
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        back = [e for p, s, e, ok in list(calls) if p == victim_port and ok and s >= t_kill]
        if back:
            first = min(back)
            break
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*tasks)
    await close()
    outage_end = first if first is not None else time.monotonic()
    healthy_during = sum(
        1 for p, s, e, ok in calls if p != victim_port and ok and t_kill <= e <= outage_end
    )
    slowest = max(e - s for p, s, e, ok in calls)
    victim.start()
    cluster.wait_ready(60)
    return {
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "recover_s": (first - t_kill) if first is not None else None,
        "slowest_s": slowest,
        "healthy_calls_during_outage": healthy_during,
        "calls": len(calls),
    }


def sync_rate(cluster: RedisClusterNodes, n: int) -> float:
    from redis_toolkit import RedisToolkit as SyncToolkit

    config = RedisConnectionConfig(cluster_mode=True, startup_nodes=cluster.startup_nodes)
    toolkit = SyncToolkit(config=config)
    began = time.perf_counter()
    for i in range(n):
        toolkit.setter(f"bench:tp:{i}", i)
        toolkit.getter(f"bench:tp:{i}")
    rate = 2 * n / (time.perf_counter() - began)
    toolkit.cleanup()
    return rate


async def async_rate(cluster: RedisClusterNodes, n: int, tasks: int, pipelined: bool) -> float:
    from redis_toolkit import RedisOptions

    config = RedisConnectionConfig(cluster_mode=True, startup_nodes=cluster.startup_nodes)
    toolkit = RedisToolkit(config=config, options=RedisOptions(auto_pipeline=pipelined))

    async def worker(w: int) -> None:
        for i in range(w, n, tasks):
            await toolkit.setter(f"bench:tp:{i}", i)
            await toolkit.getter(f"bench:tp:{i}")

    await toolkit.getter("bench:tp:warm-up")
    began = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(tasks)))
    rate = 2 * n / (time.perf_counter() - began)
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()
    return rate


async def throughput(cluster: RedisClusterNodes, n: int) -> None:
    """SET+GET of distinct keys: sync (one thread) vs async 50 tasks, with and without
    auto-pipelining (one pipeline per node)."""
    sync = await asyncio.to_thread(sync_rate, cluster, n)
    plain = await async_rate(cluster, n, 50, pipelined=False)
    piped = await async_rate(cluster, n, 50, pipelined=True)
    print(
        f"throughput on the cluster, {2 * n} SET/GET: sync {sync:,.0f} ops/s; async 50 tasks "
        f"{plain:,.0f} ops/s without auto-pipelining ({plain / sync:.2f}x sync), "
        f"{piped:,.0f} ops/s with it ({piped / sync:.2f}x sync)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one run (the default)")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    cluster = RedisClusterNodes(Path(tempfile.mkdtemp(prefix="bench-failover-"))).start()
    try:
        print(
            f"cluster master kill -9, {args.writers} writers, cluster-node-timeout "
            f"{cluster.NODE_TIMEOUT_MS} ms, default settings, {runs} run(s) per client"
        )
        await throughput(cluster, 1000 if args.quick else 4000)
        results: dict[str, list[dict[str, Any]]] = {"toolkit": [], "redis-py": []}
        for _ in range(runs):
            for kind in results:
                results[kind].append(await run_once(kind, cluster, args.writers))
        for kind, rows in results.items():
            for row in rows:
                recover = f"{row['recover_s']:.2f}s" if row["recover_s"] is not None else "never"
                print(
                    f"{kind:9} errors surfaced {row['errors']:5}  first success on the dead "
                    f"master's keys after {recover:>6}  slowest call {row['slowest_s']:.2f}s  "
                    f"healthy-master calls during the outage {row['healthy_calls_during_outage']:6}"
                    f"  calls {row['calls']}  {' '.join(row['error_kinds'])}"
                )
        tk = sum(r["errors"] for r in results["toolkit"])
        raw = sum(r["errors"] for r in results["redis-py"])
        print(f"errors surfaced, toolkit vs redis-py: {tk} vs {raw}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())
