"""Pub/sub with the async API: typed messages, an async handler, patterns, dynamic channels.

python examples/async/pubsub_demo.py                # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/async/pubsub_demo.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from redis_toolkit.asyncio import RedisToolkit


async def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    received: list[tuple[str, Any]] = []
    everything_arrived = asyncio.Event()

    async def on_order(channel: str, order: dict[str, Any]) -> None:
        received.append((channel, order))
        print(f"{channel}: {order}")
        if len(received) == 3:
            everything_arrived.set()

    async with RedisToolkit.from_url(url) as toolkit:
        # Returns once Redis confirmed the subscriptions: nothing published after it is missed.
        await toolkit.start_subscriber(["orders:new"], on_order, patterns=["orders:region:*"])
        await toolkit.publisher("orders:new", {"id": 1, "items": ("apple", "pear")})
        await toolkit.publisher("orders:region:eu", {"id": 2, "total": 9.5})

        # A channel with its own callback, added while the listener runs (no restart).
        async def on_alert(channel: str, text: str) -> None:
            print(f"alert on {channel}: {text}")
            received.append((channel, text))
            if len(received) == 3:
                everything_arrived.set()

        await toolkit.subscribe_dynamic("alerts", on_alert)
        await toolkit.publisher("alerts", "stock low")

        await asyncio.wait_for(everything_arrived.wait(), 10)
        await toolkit.unsubscribe_dynamic("alerts")
        await toolkit.stop_subscriber()
    print("received", len(received), "messages")


if __name__ == "__main__":
    asyncio.run(main())
