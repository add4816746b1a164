"""update() under contention vs uncontended, against a real local redis-server, one run.

    python benchmarks/bench_transactions.py            # starts a private redis-server
    python benchmarks/bench_transactions.py --url redis://localhost:6379/0 --updates 400
    python benchmarks/bench_transactions.py --quick    # smoke run (the test suite uses it)

Each figure is completed update() calls per second (WATCH/GET, fn, MULTI/SET/EXEC, retried on
conflict), with 20 writers (tasks in the async API, threads in the sync one):

- contended: the 20 writers increment ONE key;
- uncontended: the 20 writers increment a key each (same concurrency, no conflicts);
- and a single writer on one key, for reference.

Rounds alternate between the contended and the uncontended run so that machine noise hits
both alike; the ratio is the median over rounds of contended / uncontended throughput.
Conflicts per update come from the toolkit's metrics (``get_metrics()["conflicts"]``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import threading
import time

import redis
from _server import server_url  # benchmarks/_server.py, beside this script

from redis_toolkit import AsyncRedisToolkit, RedisOptions, RedisToolkit, async_pool_manager

OPTIONS = RedisOptions(is_logger_info=False)
WRITERS = 20


def increment(n: int) -> int:
    return n + 1


async def async_round(url: str, keys: list[str], each: int) -> tuple[float, int]:
    """(updates/s, conflicts) with one task per key in ``keys`` doing ``each`` updates."""
    async with AsyncRedisToolkit.from_url(url, options=OPTIONS) as toolkit:
        await toolkit.batch_delete(sorted(set(keys)))
        toolkit.metrics.reset()

        async def writer(key: str) -> None:
            for _ in range(each):
                await toolkit.update(key, increment, default=0, retries=1_000_000)

        start = time.perf_counter()
        await asyncio.gather(*(writer(k) for k in keys))
        elapsed = time.perf_counter() - start
        total = sum(v for v in (await toolkit.batch_get(sorted(set(keys)))).values())
        assert total == len(keys) * each, (total, len(keys) * each)
        conflicts = toolkit.get_metrics()["conflicts"]
        await toolkit.batch_delete(sorted(set(keys)))
    await async_pool_manager.close_all_pools()
    return len(keys) * each / elapsed, conflicts


def sync_round(url: str, keys: list[str], each: int) -> tuple[float, int]:
    """(updates/s, conflicts) with one thread per key in ``keys`` doing ``each`` updates."""
    with RedisToolkit.from_url(url, options=OPTIONS) as toolkit:
        toolkit.batch_delete(sorted(set(keys)))
        toolkit.metrics.reset()

        def writer(key: str) -> None:
            for _ in range(each):
                toolkit.update(key, increment, default=0, retries=1_000_000)

        threads = [threading.Thread(target=writer, args=(k,)) for k in keys]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        total = sum(v for v in toolkit.batch_get(sorted(set(keys))).values())
        assert total == len(keys) * each, (total, len(keys) * each)
        conflicts = toolkit.get_metrics()["conflicts"]
        toolkit.batch_delete(sorted(set(keys)))
    return len(keys) * each / elapsed, conflicts


def run_api(label: str, run: object, url: str, rounds: int, each: int) -> None:
    one_key = ["bench:tx:hot"] * WRITERS
    own_keys = [f"bench:tx:own:{i}" for i in range(WRITERS)]
    contended: list[tuple[float, int]] = []
    uncontended: list[tuple[float, int]] = []
    single: list[tuple[float, int]] = []
    for _ in range(rounds):
        contended.append(run(url, one_key, each))  # type: ignore[operator]
        uncontended.append(run(url, own_keys, each))  # type: ignore[operator]
        single.append(run(url, ["bench:tx:alone"], each))  # type: ignore[operator]
    ratio = statistics.median(c[0] / u[0] for c, u in zip(contended, uncontended))
    hot = statistics.median(c[0] for c in contended)
    cold = statistics.median(u[0] for u in uncontended)
    alone = statistics.median(s[0] for s in single)
    per_update = statistics.median(c[1] / (WRITERS * each) for c in contended)
    print(
        f"{label:<6} 20 writers, one key {hot:>9,.0f} updates/s ({per_update:.2f} conflicts per "
        f"update) | 20 writers, own keys {cold:>9,.0f}/s | 1 writer {alone:>8,.0f}/s | "
        f"contended / uncontended {ratio:.2f}x"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the async and the sync API in turn; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server to use (default: a private redis-server)")
    parser.add_argument("--updates", type=int, default=250, help="updates per writer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a few updates, for a smoke test")
    args = parser.parse_args(argv)
    each = 10 if args.quick else args.updates
    rounds = 1 if args.quick else args.rounds

    with server_url(args.url) as url:
        print(
            f"update() increments, {WRITERS} writers x {each}, {rounds} alternating round(s), "
            f"median; redis-py {redis.__version__}, Python {platform.python_version()}, "
            f"{os.cpu_count()} cores"
        )
        run_api("async", lambda u, k, e: asyncio.run(async_round(u, k, e)), url, rounds, each)
        run_api("sync", sync_round, url, rounds, each)
    return 0


if __name__ == "__main__":
    sys.exit(main())
