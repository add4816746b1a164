"""Pub/sub delivery rate against a real local redis-server, toolkit vs raw redis-py, one run.

    python benchmarks/bench_pubsub.py             # starts a private redis-server
    python benchmarks/bench_pubsub.py --url redis://localhost:6379/0 --messages 50000
    python benchmarks/bench_pubsub.py --quick     # smoke run

A publisher thread sends N small dicts (already serialized) with pipelined PUBLISH. Each listener
counts what it receives; the rate is N / (time from the first publish to the last delivery):

- AsyncRedisToolkit subscriber, async handler (payload decoded to a dict);
- RedisToolkit subscriber, sync handler (payload decoded to a dict);
- raw redis.asyncio PubSub.get_message loop and raw redis PubSub.get_message loop (bytes only,
  nothing decoded): the ceiling of redis-py itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import threading
import time

import redis
import redis.asyncio
from _server import server_url  # benchmarks/_server.py, beside this script

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisOptions,
    RedisToolkit,
    async_pool_manager,
    serialize_value,
)

#: Messages use the msgpack format (an explicit choice; the default "json" writes 0.4's format).
SERIALIZER = "msgpack"
OPTIONS = RedisOptions(
    is_logger_info=False, enable_dynamic_subscription=False, serializer=SERIALIZER
)


def publish_all(url: str, channel: str, payloads: list[bytes], started: list[float]) -> None:
    client = redis.Redis.from_url(url)
    started.append(time.perf_counter())
    for start in range(0, len(payloads), 500):
        pipe = client.pipeline(transaction=False)
        for payload in payloads[start : start + 500]:
            pipe.publish(channel, payload)
        pipe.execute()
    client.close()


def publisher_thread(
    url: str, channel: str, payloads: list[bytes], started: list[float]
) -> threading.Thread:
    thread = threading.Thread(target=publish_all, args=(url, channel, payloads, started))
    thread.start()
    return thread


def payloads(n: int) -> list[bytes]:
    return [
        serialize_value({"seq": i, "kind": "tick", "value": i * 0.5}, format=SERIALIZER)
        for i in range(n)
    ]


async def async_toolkit_rate(url: str, n: int) -> float:
    toolkit = AsyncRedisToolkit.from_url(url, options=OPTIONS)
    done = asyncio.Event()
    count = 0
    finished_at = 0.0

    async def handler(channel: str, value: dict[str, object]) -> None:
        nonlocal count, finished_at
        count += 1
        if count == n:
            finished_at = time.perf_counter()
            done.set()

    await toolkit.start_subscriber(["bench:ps:async"], handler)
    started: list[float] = []
    thread = publisher_thread(url, "bench:ps:async", payloads(n), started)
    await asyncio.wait_for(done.wait(), 120)
    thread.join()
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()
    return n / (finished_at - started[0])


def sync_toolkit_rate(url: str, n: int) -> float:
    toolkit = RedisToolkit.from_url(url, options=OPTIONS)
    done = threading.Event()
    state = {"count": 0, "finished_at": 0.0}

    def handler(channel: str, value: dict[str, object]) -> None:
        state["count"] += 1
        if state["count"] == n:
            state["finished_at"] = time.perf_counter()
            done.set()

    toolkit.start_subscriber(["bench:ps:sync"], handler)
    started: list[float] = []
    thread = publisher_thread(url, "bench:ps:sync", payloads(n), started)
    assert done.wait(120), "sync subscriber did not receive everything"
    thread.join()
    toolkit.close()
    return n / (state["finished_at"] - started[0])


async def raw_async_rate(url: str, n: int) -> float:
    client = redis.asyncio.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("bench:ps:rawasync")
    await pubsub.get_message(timeout=1)  # the confirmation
    started: list[float] = []
    thread = publisher_thread(url, "bench:ps:rawasync", payloads(n), started)
    count = 0
    while count < n:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is not None:
            count += 1
    finished_at = time.perf_counter()
    thread.join()
    await pubsub.aclose()
    await client.aclose()
    return n / (finished_at - started[0])


def raw_sync_rate(url: str, n: int) -> float:
    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("bench:ps:rawsync")
    pubsub.get_message(timeout=1)
    started: list[float] = []
    thread = publisher_thread(url, "bench:ps:rawsync", payloads(n), started)
    count = 0
    while count < n:
        if pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05) is not None:
            count += 1
    finished_at = time.perf_counter()
    thread.join()
    pubsub.close()
    client.close()
    return n / (finished_at - started[0])


def main(argv: list[str] | None = None) -> int:
    """Run the four listeners in turn (twice, best kept); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server to use (default: a private redis-server)")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--quick", action="store_true", help="a few messages, for a smoke test")
    args = parser.parse_args(argv)
    n = 200 if args.quick else args.messages

    with server_url(args.url) as url:
        print(
            f"pub/sub delivery, {n} messages of a small dict, redis-py {redis.__version__}, "
            f"Python {platform.python_version()}, {os.cpu_count()} cores; best of 2 runs"
        )
        rates = {
            "AsyncRedisToolkit, async handler (decoded)": max(
                asyncio.run(async_toolkit_rate(url, n)) for _ in range(2)
            ),
            "raw redis.asyncio get_message loop (bytes)": max(
                asyncio.run(raw_async_rate(url, n)) for _ in range(2)
            ),
            "RedisToolkit, sync handler (decoded)": max(
                sync_toolkit_rate(url, n) for _ in range(2)
            ),
            "raw redis get_message loop (bytes)": max(raw_sync_rate(url, n) for _ in range(2)),
        }
        for label, rate in rates.items():
            print(f"{label:<46} {rate:>10,.0f} msg/s")
        names = list(rates)
        print(f"async toolkit / raw async: {rates[names[0]] / rates[names[1]]:.2f}x; "
              f"sync toolkit / raw sync: {rates[names[2]] / rates[names[3]]:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
