"""Pub/sub with the sync API: the listener runs in a background thread.

python examples/sync/pubsub_demo.py                 # embedded in-process backend
REDIS_URL=redis://localhost:6379/0 python examples/sync/pubsub_demo.py
"""

from __future__ import annotations

import os
import threading
from typing import Any

from redis_toolkit import RedisToolkit


def main() -> None:
    url = os.environ.get("REDIS_URL", "memory://examples")
    received: list[tuple[str, Any]] = []
    done = threading.Event()

    def on_message(channel: str, value: Any) -> None:
        print(f"{channel}: {value!r}")
        received.append((channel, value))
        if len(received) == 3:
            done.set()

    def on_error(error: BaseException, channel: str | None) -> None:
        print(f"listener error on {channel}: {error}")

    with RedisToolkit.from_url(url) as toolkit:
        toolkit.start_subscriber(["sensors:temp"], on_message, on_error=on_error)
        toolkit.publisher("sensors:temp", {"celsius": 21.5, "sensor": ("hall", 3)})
        toolkit.publisher("sensors:temp", None)
        toolkit.publisher("sensors:temp", b"\x00raw bytes")
        if not done.wait(10):
            raise SystemExit("messages did not arrive")
        toolkit.stop_subscriber()
    print("received", len(received), "messages")


if __name__ == "__main__":
    main()
