"""Pub/sub: typed payloads, patterns, dynamic subscriptions, supervision and clean stops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    SubscriptionManager,
    ValidationError,
    async_pool_manager,
)
from redis_toolkit._compat import AsyncEvent, AsyncRuntime
from tests._async._helpers import poll_until
from tests.servers import RedisServer

pytestmark = pytest.mark.cluster_too


class Inbox:
    """Collects (channel, value) pairs; `wait_for(n)` polls with a deadline."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self.arrived = AsyncEvent()

    async def handler(self, channel: str, value: Any) -> None:
        self.items.append((channel, value))
        self.arrived.set()

    def values(self, channel: str | None = None) -> list[Any]:
        return [v for c, v in self.items if channel is None or c == channel]

    async def wait_for(self, count: int, channel: str | None = None, timeout: float = 10) -> None:
        deadline = AsyncRuntime.monotonic() + timeout
        while len(self.values(channel)) < count:
            left = deadline - AsyncRuntime.monotonic()
            assert left > 0, f"only {len(self.values(channel))} of {count} messages arrived"
            self.arrived.clear()
            if len(self.values(channel)) < count:
                await self.arrived.wait(min(left, 0.2))


async def numsub(toolkit: AsyncRedisToolkit, channel: str) -> int:
    return int((await toolkit.client.pubsub_numsub(channel))[0][1])


async def test_typed_payloads_round_trip(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    inbox = Inbox()
    channel = f"{prefix}events"
    assert await atoolkit.start_subscriber([channel], inbox.handler) is True
    payloads = [
        {"user": 1, "tags": ("a", "b"), "raw": b"\x00\xff"},
        None,
        0,
        np.arange(6, dtype=np.int16).reshape(2, 3),
        {1, 2, 3},
    ]
    msgpack = RedisOptions(serializer="msgpack")  # exact tuples, sets and arrays
    for payload in payloads:
        assert await atoolkit.publisher(channel, payload, options=msgpack) == 1
    await inbox.wait_for(len(payloads))
    got = inbox.values()
    assert got[0] == payloads[0] and type(got[0]["tags"]) is tuple
    assert got[1] is None and got[2] == 0 and type(got[2]) is int
    assert got[3].dtype == np.int16 and np.array_equal(got[3], payloads[3])
    assert got[4] == {1, 2, 3}
    assert await atoolkit.stop_subscriber() is True


async def test_publish_alias_and_receiver_count(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    assert await atoolkit.publish(f"{prefix}nobody", "x") == 0


async def test_bad_channel_and_payload_are_refused(atoolkit: AsyncRedisToolkit) -> None:
    with pytest.raises(ValidationError, match="channel"):
        await atoolkit.publisher("", 1)
    with pytest.raises(ValidationError, match="max_value_size"):
        await atoolkit.publisher("c", "x" * 200, options=RedisOptions(max_value_size=100))


async def test_a_bad_channel_is_refused_before_it_reaches_a_running_listener(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    inbox = Inbox()
    channel = f"{prefix}good"
    await atoolkit.start_subscriber([channel], inbox.handler)
    for bad in (None, "", 42):
        with pytest.raises(ValidationError, match="channel"):
            await atoolkit.start_subscriber([bad])  # type: ignore[list-item]
        with pytest.raises(ValidationError, match="channel"):
            await atoolkit.start_subscriber(patterns=[bad])  # type: ignore[list-item]
    assert await atoolkit.publisher(channel, "still listening") == 1
    await inbox.wait_for(1)
    assert atoolkit.subscriber is not None and atoolkit.subscriber.reconnects == 0
    await atoolkit.stop_subscriber()


async def test_patterns_learn_the_real_channel(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    inbox = Inbox()
    assert await atoolkit.start_subscriber(handler=inbox.handler, patterns=[f"{prefix}user:*"])
    await atoolkit.publisher(f"{prefix}user:1", "one")
    await atoolkit.publisher(f"{prefix}other", "ignored")
    await atoolkit.publisher(f"{prefix}user:2", "two")
    await inbox.wait_for(2)
    assert inbox.items == [(f"{prefix}user:1", "one"), (f"{prefix}user:2", "two")]
    await atoolkit.stop_subscriber()


async def test_dynamic_subscriptions_while_messages_flow(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    toolkit = atoolkit_server
    steady, dynamic = f"{prefix}steady", f"{prefix}dynamic"
    inbox = Inbox()
    assert await toolkit.start_subscriber([steady], inbox.handler)
    listener = toolkit.subscriber
    assert listener is not None
    started_task = listener._task
    stop = AsyncEvent()
    sent: list[int] = []

    async def pump() -> None:
        i = 0
        while not stop.is_set():
            await toolkit.publisher(steady, i)
            i += 1
            await AsyncRuntime.sleep(0.001)
        sent.append(i)

    task = AsyncRuntime.spawn(pump, name="pump")
    dyn_inbox = Inbox()
    for round_ in range(5):
        assert await toolkit.subscribe_dynamic(dynamic, dyn_inbox.handler) is True
        assert await numsub(toolkit, dynamic) == 1
        await toolkit.publisher(dynamic, round_)
        await dyn_inbox.wait_for(round_ + 1)
        assert await toolkit.unsubscribe_dynamic(dynamic) is True
        assert await numsub(toolkit, dynamic) == 0  # really unsubscribed in Redis
    stop.set()
    assert await AsyncRuntime.join(task, 10)
    await inbox.wait_for(sent[0], steady)
    assert inbox.values(steady) == list(range(sent[0]))  # nothing lost, nothing repeated
    assert dyn_inbox.values() == list(range(5))
    assert listener._task is started_task  # the listener was never restarted
    assert dynamic in toolkit.get_expired_channels()
    stats = toolkit.get_subscription_stats()
    assert stats["enabled"] is True and stats["listener"]["reconnects"] == 0
    await toolkit.stop_subscriber()


async def test_dynamic_changes_return_once_redis_confirmed_them(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    """subscribe_dynamic / unsubscribe_dynamic return after the listener read Redis'
    confirmation, not merely after sending the command (NUMSUB on another connection could
    otherwise still see the old state)."""
    toolkit = atoolkit_server
    dynamic = f"{prefix}confirmed"
    inbox = Inbox()
    assert await toolkit.start_subscriber([f"{prefix}steady"], inbox.handler)
    listener = toolkit.subscriber
    assert listener is not None
    for _ in range(3):
        assert await toolkit.subscribe_dynamic(dynamic, inbox.handler) is True
        assert dynamic not in listener._unconfirmed
        assert await numsub(toolkit, dynamic) == 1
        assert await toolkit.unsubscribe_dynamic(dynamic) is True
        assert dynamic not in listener._unconfirmed  # the UNSUBSCRIBE reply was read
        assert await numsub(toolkit, dynamic) == 0
    await toolkit.stop_subscriber()


async def test_handler_that_raises_does_not_stop_the_listener(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    channel = f"{prefix}flaky"
    seen: list[int] = []
    errors: list[tuple[BaseException, str | None]] = []

    async def handler(channel: str, value: int) -> None:
        if value == 1:
            raise RuntimeError("boom on 1")
        seen.append(value)

    async def on_error(error: BaseException, where: str | None) -> None:
        errors.append((error, where))

    await atoolkit.start_subscriber([channel], handler, on_error=on_error)
    for i in range(3):
        await atoolkit.publisher(channel, i)
    await poll_until(lambda: len(seen) == 2, what="messages after the failing one")
    assert seen == [0, 2]
    assert len(errors) == 1
    assert isinstance(errors[0][0], RuntimeError) and errors[0][1] == channel
    assert atoolkit.subscriber is not None and atoolkit.subscriber.handler_errors == 1
    await atoolkit.stop_subscriber()


async def test_stop_lets_a_running_handler_finish_and_leaves_nothing_behind(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    channel = f"{prefix}slow"
    entered = AsyncEvent()
    finished: list[str] = []

    async def slow(channel: str, value: Any) -> None:
        entered.set()
        await AsyncRuntime.sleep(0.3)
        finished.append(value)

    await atoolkit.start_subscriber([channel], slow)
    listener = atoolkit.subscriber
    assert listener is not None
    handle = listener._task
    await atoolkit.publisher(channel, "work")
    assert await entered.wait(10)
    assert await atoolkit.stop_subscriber() is True
    assert finished == ["work"]  # the message in progress was not dropped
    assert AsyncRuntime.finished(handle)
    assert not listener.running


async def test_constructor_form_of_0_4_starts_listening(
    redis_server: RedisServer, prefix: str
) -> None:
    channel = f"{prefix}legacy"
    inbox = Inbox()
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    toolkit = AsyncRedisToolkit(config=config, channels=[channel], message_handler=inbox.handler)
    try:
        await poll_until(lambda: toolkit.subscriber is not None and toolkit.subscriber.connected)
        await toolkit.publisher(channel, {"hello": "0.4"})
        await inbox.wait_for(1)
        assert inbox.values() == [{"hello": "0.4"}]
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()
    assert toolkit.subscriber is not None and not toolkit.subscriber.running


async def test_idle_dynamic_channel_expires_and_can_be_resubscribed(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    toolkit = atoolkit_server
    channel = f"{prefix}idle"
    toolkit.set_subscription_manager(SubscriptionManager(expire_minutes=0.002, check_interval=0.05))
    inbox = Inbox()
    assert await toolkit.subscribe_dynamic(channel, inbox.handler)
    assert await numsub(toolkit, channel) == 1

    async def expired() -> bool:
        return channel in toolkit.get_expired_channels() and await numsub(toolkit, channel) == 0

    await poll_until(expired, what="idle expiry")
    manager = toolkit.subscription_manager
    assert manager is not None
    manager.expire_minutes = 5.0  # so that it cannot expire again before the publish below
    assert await toolkit.resubscribe_channel(channel) is True
    assert await numsub(toolkit, channel) == 1
    await toolkit.publisher(channel, "back")
    await inbox.wait_for(1)
    await toolkit.stop_subscriber()


async def test_listener_survives_a_server_restart(server_factory, prefix: str) -> None:
    server = server_factory()
    channel = f"{prefix}survivor"
    inbox = Inbox()
    errors: list[BaseException] = []
    toolkit = AsyncRedisToolkit.from_url(
        server.url, options=RedisOptions(subscriber_retry_delay=1), socket_timeout=2.0
    )
    try:
        await toolkit.start_subscriber(
            [channel], inbox.handler, on_error=lambda e, c: errors.append(e)
        )
        listener = toolkit.subscriber
        assert listener is not None
        await toolkit.publisher(channel, "before")
        await inbox.wait_for(1)

        server.stop()
        await poll_until(lambda: not listener.connected and errors, what="the loss to be seen")
        server.start()
        await poll_until(lambda: listener.connected, what="reconnection")

        assert await numsub(toolkit, channel) == 1  # subscribed again, exactly once
        assert await toolkit.publisher(channel, "after") == 1
        await inbox.wait_for(2)
        assert inbox.values() == ["before", "after"]
        assert listener.reconnects >= 1
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_a_handler_may_stop_and_restart_its_own_listener(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    toolkit = atoolkit_server
    channel = f"{prefix}self"
    inbox = Inbox()

    async def handler(channel_name: str, value: Any) -> None:
        if value == "restart":
            await toolkit.stop_subscriber()
            await toolkit.start_subscriber()
        await inbox.handler(channel_name, value)

    await toolkit.start_subscriber([channel], handler)
    await toolkit.publisher(channel, "restart")
    await toolkit.publisher(channel, "after")
    await inbox.wait_for(2)
    assert inbox.values() == ["restart", "after"]
    assert toolkit.subscriber is not None and toolkit.subscriber.running
    await toolkit.stop_subscriber()
