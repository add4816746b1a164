"""Sync vs async on the same workload, printed as ratios measured in this run (no absolute claims).

    python examples/async/performance_comparison.py                       # embedded backend
    REDIS_URL=redis://localhost:6379/0 python examples/async/performance_comparison.py --ops 5000

Three workloads, each run by ``RedisToolkit`` from one thread and by ``AsyncRedisToolkit`` with
``--tasks`` concurrent tasks (whose commands share round trips: auto-pipelining):

1. ``setter`` of a small dict, then ``getter`` of it;
2. ``batch_set`` / ``batch_get`` of 100 keys at a time;
3. the async toolkit with 1 task, to show what concurrency (not ``async`` itself) buys.

Values use the default wire format (0.4's JSON); ``RedisOptions(serializer="msgpack")`` is the
faster opt-in. On the embedded backend (no network) async has no round trips to share, so the
ratios say little: run it against a real server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from redis_toolkit import AsyncRedisToolkit, RedisToolkit

VALUE = {"user": "ada", "score": 42, "tags": ["a", "b"], "active": True}


def timed_sync(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


async def timed_async(work: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await work()
    return time.perf_counter() - start


async def run(url: str, ops: int, tasks: int) -> None:
    prefix = f"example:perf:{uuid.uuid4().hex[:6]}:"
    keys = [f"{prefix}{i}" for i in range(ops)]
    sync_toolkit = RedisToolkit.from_url(url)
    async_toolkit = AsyncRedisToolkit.from_url(url)
    try:

        def sync_single() -> None:
            for key in keys:
                sync_toolkit.setter(key, VALUE)
                sync_toolkit.getter(key)

        async def async_single(concurrency: int) -> None:
            async def worker(part: list[str]) -> None:
                for key in part:
                    await async_toolkit.setter(key, VALUE)
                    await async_toolkit.getter(key)

            await asyncio.gather(*(worker(keys[i::concurrency]) for i in range(concurrency)))

        chunks = [keys[i : i + 100] for i in range(0, len(keys), 100)]

        def sync_batches() -> None:
            for chunk in chunks:
                sync_toolkit.batch_set(dict.fromkeys(chunk, VALUE))
                sync_toolkit.batch_get(chunk)

        async def async_batches() -> None:
            async def one(chunk: list[str]) -> None:
                await async_toolkit.batch_set(dict.fromkeys(chunk, VALUE))
                await async_toolkit.batch_get(chunk)

            await asyncio.gather(*(one(chunk) for chunk in chunks))

        # Warm both (connections, code paths) before measuring.
        sync_toolkit.setter(keys[0], VALUE)
        await async_toolkit.setter(keys[0], VALUE)

        rows = []
        s = timed_sync(sync_single)
        a = await timed_async(lambda: async_single(tasks))
        one = await timed_async(lambda: async_single(1))
        rows.append((f"setter+getter, async {tasks} tasks / sync 1 thread", s / a))
        rows.append(("setter+getter, async 1 task / sync 1 thread", s / one))
        s = timed_sync(sync_batches)
        a = await timed_async(async_batches)
        rows.append(("batch_set+batch_get (100 keys), async concurrent / sync", s / a))

        print(f"{ops} keys on {url} (throughput ratios, higher = async faster):")
        for label, ratio in rows:
            print(f"  {label:<58} {ratio:5.2f}x")
        sync_toolkit.batch_delete(keys)
    finally:
        sync_toolkit.close()
        await async_toolkit.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("REDIS_URL", "memory://perf"))
    parser.add_argument("--ops", type=int, default=1000, help="keys per workload")
    parser.add_argument("--tasks", type=int, default=50, help="concurrent async tasks")
    args = parser.parse_args()
    asyncio.run(run(args.url, args.ops, args.tasks))


if __name__ == "__main__":
    main()
