# Generated from tests/_async/test_sharded_pubsub.py by tools/run_unasync.py. DO NOT EDIT.
"""Sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7) on one server: same API as on a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from redis_toolkit import RedisToolkit, ValidationError
from tests._sync._helpers import poll_until


def test_sharded_publish_reaches_a_sharded_subscriber_with_its_count(
    toolkit_server: RedisToolkit, prefix: str
) -> None:
    received: list[tuple[str, Any]] = []
    classic: list[Any] = []
    channel = f"{prefix}{{user:1}}:events"
    assert toolkit_server.start_subscriber(
        [channel], lambda c, v: received.append((c, v)), sharded=True
    )
    # A classic subscriber of the same name is another namespace: it hears nothing sharded.
    assert toolkit_server.start_subscriber([channel], lambda c, v: classic.append(v))
    # The default serializer writes 0.4's JSON, where a nested tuple reads back as a list
    # (exact types need serializer="msgpack", tested in test_values.py): send what it keeps.
    assert toolkit_server.publish(channel, {"n": [1, 2], "s": "x"}, sharded=True) == 1
    poll_until(lambda: received, 5, "the sharded message")
    assert received == [(channel, {"n": [1, 2], "s": "x"})]
    assert toolkit_server.publish(channel, "classic") == 1  # the classic subscriber only
    poll_until(lambda: classic, 5, "the classic message")
    assert classic == ["classic"] and len(received) == 1
    assert toolkit_server.shard_subscriber is not None
    assert toolkit_server.shard_subscriber.stats()["sharded"] is True
    assert toolkit_server.stop_subscriber() is True
    assert toolkit_server.publish(channel, "late", sharded=True) == 0


def test_sharded_subscriber_refuses_patterns(toolkit_server: RedisToolkit) -> None:
    with pytest.raises(ValidationError, match="no patterns"):
        toolkit_server.start_subscriber(
            ["a"], lambda c, v: None, patterns=["a*"], sharded=True
        )
