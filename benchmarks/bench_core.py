"""Core API figures against a real local redis-server, as ratios measured in one run.

    python benchmarks/bench_core.py            # starts a private redis-server on a free port
    python benchmarks/bench_core.py --url redis://localhost:6379/0
    python benchmarks/bench_core.py --quick    # a smoke run (the test suite uses it)

Each figure compares two ways of doing the same work, run in alternating rounds so that machine
noise hits both alike; the ratio is the median over rounds of (toolkit throughput / baseline
throughput), so higher is better for the toolkit:

1. setter/getter of a small dict vs raw redis-py SET/GET of the same serialized bytes (sync);
2. batch_set / batch_get of 1,000 small dicts vs raw pipelined SETs / raw MGET of the same bytes,
   and batch_get vs raw MGET + json.loads (what a raw client storing JSON pays);
3. AsyncRedisToolkit with 50 concurrent tasks vs RedisToolkit from one thread (same workload),
   beside raw redis-py asyncio vs raw sync for reference;
4. setter+getter with retry + circuit breaker + metrics on (the default) vs all of them off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import redis
import redis.asyncio
from _server import server_url  # benchmarks/_server.py, beside this script

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkit,
    async_pool_manager,
    deserialize_value,
    serialize_value,
)

#: Every figure uses the msgpack format (``serializer="msgpack"``, an explicit choice; the
#: default "json" writes 0.4's format), for the toolkit and for the raw baseline's bytes alike.
SERIALIZER = "msgpack"
OPTIONS = RedisOptions(is_logger_info=False, serializer=SERIALIZER)


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


def median_ratio(pairs: list[tuple[float, float]]) -> float:
    """pairs of (toolkit seconds, baseline seconds) for the same work -> median speed ratio."""
    return statistics.median(base / tk for tk, base in pairs)


def report(label: str, pairs: list[tuple[float, float]], ops: int, target: str) -> float:
    ratio = median_ratio(pairs)
    tk = ops / statistics.median(p[0] for p in pairs)
    base = ops / statistics.median(p[1] for p in pairs)
    print(f"{label:<58} {tk:>10,.0f}/s vs {base:>10,.0f}/s  ratio {ratio:5.2f}x  (target {target})")
    return ratio


def bench_single(url: str, rounds: int, ops: int) -> None:
    toolkit = RedisToolkit(config=RedisConnectionConfig(url=url), options=OPTIONS)
    raw = redis.Redis.from_url(url)
    value = small_dict(1)
    data = serialize_value(value, format=SERIALIZER)
    keys = [f"bench:single:{i}" for i in range(ops)]

    def tk_set() -> None:
        for k in keys:
            toolkit.setter(k, value)

    def raw_set() -> None:
        for k in keys:
            raw.set(k, data)

    def tk_get() -> None:
        for k in keys:
            toolkit.getter(k)

    def raw_get() -> None:
        for k in keys:
            raw.get(k)

    tk_set(), raw_set()  # warm up connections and caches
    sets = [(timed(tk_set), timed(raw_set)) for _ in range(rounds)]
    gets = [(timed(tk_get), timed(raw_get)) for _ in range(rounds)]
    report("setter vs raw SET (small dict, same bytes)", sets, ops, ">= 0.85")
    report("getter vs raw GET (small dict, same bytes)", gets, ops, ">= 0.85")
    raw.delete(*keys)
    toolkit.close()
    raw.close()


def bench_batch(url: str, rounds: int, size: int) -> None:
    toolkit = RedisToolkit(config=RedisConnectionConfig(url=url), options=OPTIONS)
    raw = redis.Redis.from_url(url)
    mapping = {f"bench:batch:{i}": small_dict(i) for i in range(size)}
    encoded = {k: serialize_value(v, format=SERIALIZER) for k, v in mapping.items()}
    as_json = {k: json.dumps(v).encode() for k, v in mapping.items()}
    keys = list(mapping)
    json_keys = [f"bench:batchjson:{i}" for i in range(size)]
    raw.mset(dict(zip(json_keys, as_json.values())))

    def raw_pipelined_sets() -> None:
        pipe = raw.pipeline(transaction=False)
        for k, v in encoded.items():
            pipe.set(k, v)
        pipe.execute()

    def raw_mget_json() -> None:
        [json.loads(v) for v in raw.mget(json_keys)]

    def raw_mget_same_decoder() -> None:
        [deserialize_value(v) for v in raw.mget(keys)]

    toolkit.batch_set(mapping)
    sets = [
        (timed(lambda: toolkit.batch_set(mapping)), timed(raw_pipelined_sets))
        for _ in range(rounds)
    ]
    gets = [
        (timed(lambda: toolkit.batch_get(keys)), timed(lambda: raw.mget(keys)))
        for _ in range(rounds)
    ]
    gets_json = [
        (timed(lambda: toolkit.batch_get(keys)), timed(raw_mget_json)) for _ in range(rounds)
    ]
    gets_same = [
        (timed(lambda: toolkit.batch_get(keys)), timed(raw_mget_same_decoder))
        for _ in range(rounds)
    ]
    report(f"batch_set vs raw pipelined SETs ({size} small dicts)", sets, size, ">= 2")
    report(f"batch_get vs raw MGET, no decoding ({size} small dicts)", gets, size, ">= 0.9")
    report(f"batch_get vs raw MGET + json.loads ({size} small dicts)", gets_json, size, "-")
    report(f"batch_get vs raw MGET + the same decoder ({size})", gets_same, size, "-")
    raw.delete(*keys, *json_keys)
    toolkit.close()
    raw.close()


async def _async_work(toolkit: AsyncRedisToolkit, tasks: int, per_task: int) -> None:
    async def worker(n: int) -> None:
        for i in range(per_task):
            key = f"bench:conc:{n}:{i % 20}"
            await toolkit.setter(key, small_dict(i))
            await toolkit.getter(key)

    await asyncio.gather(*(worker(n) for n in range(tasks)))


async def _raw_async_work(
    client: redis.asyncio.Redis, data: bytes, tasks: int, per_task: int
) -> None:
    async def worker(n: int) -> None:
        for i in range(per_task):
            key = f"bench:conc:{n}:{i % 20}"
            await client.set(key, data)
            await client.get(key)

    await asyncio.gather(*(worker(n) for n in range(tasks)))


def bench_concurrency(url: str, rounds: int, tasks: int, per_task: int) -> None:
    config = RedisConnectionConfig(url=url)
    sync_toolkit = RedisToolkit(config=config, options=OPTIONS)
    raw = redis.Redis.from_url(url)
    data = serialize_value(small_dict(1), format=SERIALIZER)
    ops = tasks * per_task * 2

    def sync_work() -> None:
        for n in range(tasks):
            for i in range(per_task):
                key = f"bench:conc:{n}:{i % 20}"
                sync_toolkit.setter(key, small_dict(i))
                sync_toolkit.getter(key)

    def raw_sync_work() -> None:
        for n in range(tasks):
            for i in range(per_task):
                key = f"bench:conc:{n}:{i % 20}"
                raw.set(key, data)
                raw.get(key)

    async def main() -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        toolkit = AsyncRedisToolkit(config=config, options=OPTIONS)
        client = redis.asyncio.Redis.from_url(url)
        await _async_work(toolkit, tasks, 2)
        await _raw_async_work(client, data, tasks, 2)
        tk_pairs, raw_pairs = [], []
        for _ in range(rounds):
            tk_pairs.append(
                (await atimed(lambda: _async_work(toolkit, tasks, per_task)), timed(sync_work))
            )
            raw_pairs.append(
                (
                    await atimed(lambda: _raw_async_work(client, data, tasks, per_task)),
                    timed(raw_sync_work),
                )
            )
        await toolkit.aclose()
        await client.aclose()
        await async_pool_manager.close_all_pools()
        return tk_pairs, raw_pairs

    tk_pairs, raw_pairs = asyncio.run(main())
    report(f"AsyncRedisToolkit {tasks} tasks vs RedisToolkit 1 thread", tk_pairs, ops, ">= 1.2")
    report(f"raw redis.asyncio {tasks} tasks vs raw redis 1 thread (ref.)", raw_pairs, ops, "-")
    sync_toolkit.close()
    raw.close()


def bench_resilience(url: str, rounds: int, ops: int) -> None:
    on = RedisToolkit(config=RedisConnectionConfig(url=url), options=OPTIONS)
    off = RedisToolkit(
        config=RedisConnectionConfig(
            url=url,
            circuit_breaker_enabled=False,
            max_retries=0,
            metrics_enabled=False,
            health_check_enabled=False,
        ),
        options=OPTIONS,
    )
    value = small_dict(1)
    keys = [f"bench:res:{i}" for i in range(ops)]

    def work(toolkit: RedisToolkit) -> Callable[[], None]:
        def run() -> None:
            for k in keys:
                toolkit.setter(k, value)
                toolkit.getter(k)

        return run

    work(on)(), work(off)()
    pairs = [(timed(work(on)), timed(work(off))) for _ in range(rounds)]
    report("setter+getter, retry+breaker+metrics on vs off", pairs, 2 * ops, ">= 0.9")
    on.batch_delete(keys)
    on.close()
    off.close()


def main(argv: list[str] | None = None) -> int:
    """Run every figure; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server to use (default: a private redis-server)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    rounds, ops, size, per_task = (2, 50, 100, 4) if args.quick else (7, 2000, 1000, 40)

    with server_url(args.url) as url:
        version = redis.Redis.from_url(url).info("server")["redis_version"]
        print(f"redis_toolkit core benchmark: redis-server {version} at {url}, "
              f"redis-py {redis.__version__}, Python {platform.python_version()}, "
              f"{os.cpu_count()} cores, {rounds} alternating rounds, "
              f"serializer={SERIALIZER!r}")  # fmt: skip
        bench_single(url, rounds, ops)
        bench_batch(url, rounds, size)
        bench_concurrency(url, rounds, 50, per_task)
        bench_resilience(url, rounds, ops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
