"""``python -m redis_toolkit demo``: a short, readable tour of both APIs.

Runs on the embedded backend (in-process fakeredis, nothing to install or start) unless
``REDIS_URL`` points at a server, e.g. ``REDIS_URL=redis://localhost:6379/0``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np

from . import AsyncRedisToolkit, RedisOptions, RedisToolkit, SerializationError, __version__


def _say(text: str) -> None:
    print(text, flush=True)


#: The typed format is an explicit choice: only redis-toolkit 0.5 reads it.
MSGPACK = RedisOptions(serializer="msgpack")


def demo_default_format(url: str, prefix: str) -> None:
    """The default writer: redis-toolkit 0.4's JSON format, so 0.4 readers keep working."""
    _say('\n== default serializer "json" (0.4\'s wire format, byte for byte) ==')
    with RedisToolkit.from_url(url) as toolkit:
        toolkit.setter(f"{prefix}plain", {"name": "Ada", "scores": [9.5, 8.0]})
        _say(f"stored bytes    -> {toolkit.client.get(f'{prefix}plain')!r}")
        try:
            toolkit.setter(f"{prefix}when", datetime(2024, 5, 1, tzinfo=timezone.utc))
        except SerializationError as e:
            _say(f"datetime        -> refused: ...{str(e).split(').', 1)[-1][:90].strip()}...")
        toolkit.deleter(f"{prefix}plain")


def demo_sync(url: str, prefix: str) -> None:
    """The sync API with serializer="msgpack": typed values in, the same types out."""
    _say('\n== RedisToolkit (sync), serializer="msgpack" (exact types; readers run 0.5) ==')
    with RedisToolkit.from_url(url, options=MSGPACK) as toolkit:
        profile = {
            "name": "Ada",
            "visits": 1,
            "scores": (9.5, 8.0),
            "joined": datetime(2024, 5, 1, tzinfo=timezone.utc),
            "balance": Decimal("12.30"),
        }
        toolkit.setter(f"{prefix}profile", profile)
        back = toolkit.getter(f"{prefix}profile")
        _say(f"setter/getter   -> {back}")
        _say(
            f"  same types    -> scores is {type(back['scores']).__name__}, "
            f"visits is {type(back['visits']).__name__}, "
            f"balance is {type(back['balance']).__name__}"
        )

        embedding = np.random.default_rng(0).random((2, 4), dtype=np.float32)
        toolkit.setter(f"{prefix}embedding", embedding)
        arr = toolkit.getter(f"{prefix}embedding")
        _say(
            f"numpy array     -> {arr.dtype} {arr.shape}, "
            f"equal: {bool(np.array_equal(arr, embedding))}"
        )

        toolkit.setter(f"{prefix}nothing", None)
        _say(
            f"stored None     -> {toolkit.getter(f'{prefix}nothing', default='missing')!r}; "
            f"missing key -> {toolkit.getter(f'{prefix}absent', default='missing')!r}"
        )

        toolkit.batch_set({f"{prefix}item:{i}": {"n": i} for i in range(3)}, ttl=60)
        items = toolkit.batch_get([f"{prefix}item:{i}" for i in range(4)])
        _say(f"batch_set/get   -> {items}")

        received = threading.Event()

        def on_message(channel: str, value: object) -> None:
            _say(f"pub/sub         -> {channel}: {value!r}")
            received.set()

        toolkit.start_subscriber([f"{prefix}news"], on_message)
        toolkit.publisher(f"{prefix}news", {"headline": "typed messages", "tags": ("a", "b")})
        received.wait(5)
        toolkit.stop_subscriber()

        metrics = toolkit.get_metrics()
        _say(f"metrics         -> {metrics['total_operations']} operations, success rate "
             f"{metrics['success_rate']:.0%}, p95 {metrics['p95_latency_ms']:.3f} ms; "
             f"breaker {toolkit.get_health_status()['state']}")  # fmt: skip

        toolkit.batch_delete([f"{prefix}{k}" for k in ("profile", "embedding", "nothing")])
        toolkit.batch_delete(list(items))


async def demo_async(url: str, prefix: str) -> None:
    """The async API: the same calls, awaited (serializer="msgpack" for the set)."""
    _say('\n== AsyncRedisToolkit (async), serializer="msgpack" ==')
    async with AsyncRedisToolkit.from_url(url, options=MSGPACK) as toolkit:
        await toolkit.setter(f"{prefix}counter", {"hits": 0, "tags": {"a", "b"}})
        back = await toolkit.getter(f"{prefix}counter")
        _say(f"await setter/getter -> {back}")
        results = await asyncio.gather(*(toolkit.setter(f"{prefix}n{i}", i) for i in range(5)))
        _say(f"5 concurrent setters -> {results}")
        values = [await toolkit.getter(f"{prefix}n{i}") for i in range(5)]
        _say(f"read back            -> {values}")
        for i in range(5):
            await toolkit.deleter(f"{prefix}n{i}")
        await toolkit.deleter(f"{prefix}counter")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m redis_toolkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a short tour of both APIs")
    demo.add_argument(
        "--url",
        default=os.environ.get("REDIS_URL") or "memory://demo",
        help="server URL (default: $REDIS_URL, else the embedded memory://demo)",
    )
    args = parser.parse_args(argv)

    if args.command == "demo":
        prefix = f"demo:{uuid.uuid4().hex[:6]}:"
        where = "embedded in-process fakeredis" if args.url.startswith("memory://") else args.url
        _say(f"redis_toolkit {__version__} demo on {where} (keys under {prefix!r})")
        demo_default_format(args.url, prefix)
        demo_sync(args.url, prefix)
        asyncio.run(demo_async(args.url, prefix))
        _say("\ndone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
