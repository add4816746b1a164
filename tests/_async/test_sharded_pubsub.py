"""Sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7) on one server: same API as on a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from redis_toolkit import AsyncRedisToolkit, ValidationError
from tests._async._helpers import poll_until


async def test_sharded_publish_reaches_a_sharded_subscriber_with_its_count(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    received: list[tuple[str, Any]] = []
    classic: list[Any] = []
    channel = f"{prefix}{{user:1}}:events"
    assert await atoolkit_server.start_subscriber(
        [channel], lambda c, v: received.append((c, v)), sharded=True
    )
    # A classic subscriber of the same name is another namespace: it hears nothing sharded.
    assert await atoolkit_server.start_subscriber([channel], lambda c, v: classic.append(v))
    # The default serializer writes 0.4's JSON, where a nested tuple reads back as a list
    # (exact types need serializer="msgpack", tested in test_values.py): send what it keeps.
    assert await atoolkit_server.publish(channel, {"n": [1, 2], "s": "x"}, sharded=True) == 1
    await poll_until(lambda: received, 5, "the sharded message")
    assert received == [(channel, {"n": [1, 2], "s": "x"})]
    assert await atoolkit_server.publish(channel, "classic") == 1  # the classic subscriber only
    await poll_until(lambda: classic, 5, "the classic message")
    assert classic == ["classic"] and len(received) == 1
    assert atoolkit_server.shard_subscriber is not None
    assert atoolkit_server.shard_subscriber.stats()["sharded"] is True
    assert await atoolkit_server.stop_subscriber() is True
    assert await atoolkit_server.publish(channel, "late", sharded=True) == 0


async def test_sharded_subscriber_refuses_patterns(atoolkit_server: AsyncRedisToolkit) -> None:
    with pytest.raises(ValidationError, match="no patterns"):
        await atoolkit_server.start_subscriber(
            ["a"], lambda c, v: None, patterns=["a*"], sharded=True
        )
