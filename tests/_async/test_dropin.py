"""Drop-in behaviour of redis-toolkit 0.4 found by running its tests and README, and misuse.

The stopped listener stays visible as ``sub_thread``; ``_redis_client`` is the client;
``health_check()`` answers False and never raises; a stopped listener restarts with a new
handler; ``from_url`` refuses what is not a URL; a closed toolkit refuses commands.
"""

from __future__ import annotations

from typing import Any

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    ClientClosedError,
    RedisConnectionConfig,
    RedisOptions,
    ValidationError,
    async_pool_manager,
)
from redis_toolkit._compat import AsyncEvent, AsyncRuntime
from tests.servers import RedisServer, free_port


class Inbox:
    """Collects values; `wait_for(n)` waits on an event with a deadline."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.arrived = AsyncEvent()

    async def handler(self, channel: str, value: Any) -> None:
        self.values.append(value)
        self.arrived.set()

    async def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = AsyncRuntime.monotonic() + timeout
        while len(self.values) < count:
            left = deadline - AsyncRuntime.monotonic()
            assert left > 0, f"got {self.values}, expected {count} messages"
            self.arrived.clear()
            if len(self.values) < count:
                await self.arrived.wait(left)


async def test_sub_thread_refers_to_the_stopped_listener(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    assert atoolkit.sub_thread is None  # nothing started yet
    assert await atoolkit.start_subscriber([f"{prefix}ch"], Inbox().handler)
    running = atoolkit.sub_thread
    assert running is not None and not AsyncRuntime.finished(running)
    assert await atoolkit.stop_subscriber() is True
    assert atoolkit.sub_thread is running  # 0.4: still the thread, now finished
    assert AsyncRuntime.finished(atoolkit.sub_thread)
    assert atoolkit.run_subscriber is False


async def test_redis_client_is_the_client(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    assert atoolkit._redis_client is atoolkit.client
    await atoolkit.setter(f"{prefix}k", 1)
    assert await atoolkit._redis_client.exists(f"{prefix}k") == 1


async def test_health_check_is_false_for_any_failure(server_factory, prefix: str) -> None:
    guarded = server_factory()
    with guarded.admin() as admin:
        admin.acl_setuser(
            "app", enabled=True, passwords=["+right-pw"], keys=["*"], commands=["+@all"]
        )
    cases = {
        "wrong password": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, username="app", password="wrong-pw"
        ),
        "unknown user": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, username="nobody", password="pw"
        ),
        "nobody listening": RedisConnectionConfig(
            host="127.0.0.1", port=free_port(), connection_timeout=0.5
        ),
        "missing CA file": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, ssl=True, ssl_ca_certs=f"/nonexistent/{prefix}"
        ),
    }
    for what, config in cases.items():
        toolkit = AsyncRedisToolkit(config=config)
        try:
            assert await toolkit.health_check() is False, what
        finally:
            await toolkit.aclose()
    await async_pool_manager.close_all_pools()


async def test_health_check_of_a_stopped_server_and_a_closed_toolkit(server_factory) -> None:
    server = server_factory()
    toolkit = AsyncRedisToolkit.from_url(server.url, connection_timeout=0.5)
    try:
        assert await toolkit.health_check() is True
        server.stop()
        assert await toolkit.health_check() is False
        server.start()
        assert await toolkit.health_check() is True
    finally:
        await toolkit.aclose()
    assert await toolkit.health_check() is False  # closed: an answer, not an exception
    await async_pool_manager.close_all_pools()


async def test_stopped_listener_restarts_with_a_new_handler(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    channel = f"{prefix}restart"
    first, second = Inbox(), Inbox()
    assert await atoolkit.start_subscriber([channel], first.handler)
    await atoolkit.publisher(channel, "one")
    await first.wait_for(1)
    assert await atoolkit.stop_subscriber() is True

    assert await atoolkit.start_subscriber([channel], second.handler) is True
    # >= 1: fakeredis keeps a closed pub/sub connection counted (a real server says 1).
    assert await atoolkit.publisher(channel, "two") >= 1
    await second.wait_for(1)
    assert first.values == ["one"] and second.values == ["two"]
    # Without channels the new handler takes over the old ones.
    assert await atoolkit.stop_subscriber() is True
    third = Inbox()
    assert await atoolkit.start_subscriber(handler=third.handler) is True
    await atoolkit.publisher(channel, "three")
    await third.wait_for(1)
    assert third.values == ["three"] and second.values == ["two"]
    await atoolkit.stop_subscriber()


async def test_a_running_listener_keeps_refusing_a_new_handler(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    assert await atoolkit.start_subscriber([f"{prefix}busy"], Inbox().handler)
    with pytest.raises(ValidationError, match="stop_subscriber"):
        await atoolkit.start_subscriber([f"{prefix}busy"], Inbox().handler)
    await atoolkit.stop_subscriber()


@pytest.mark.parametrize("url", [None, "", "   ", "garbage", "localhost:6379", 6379])
async def test_from_url_refuses_what_is_not_a_url(url: Any) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncRedisToolkit.from_url(url)
    assert "url" in str(info.value).lower()


async def test_a_closed_toolkit_refuses_every_command(
    redis_server: RedisServer, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit.from_url(redis_server.url)
    key = f"{prefix}after-close"
    await toolkit.setter(key, "before")
    await toolkit.aclose()
    assert toolkit.closed
    calls = {
        "setter": lambda: toolkit.setter(key, "after"),
        "getter": lambda: toolkit.getter(key),
        "deleter": lambda: toolkit.deleter(key),
        "batch_set": lambda: toolkit.batch_set({key: "after"}),
        "batch_get": lambda: toolkit.batch_get([key]),
        "publisher": lambda: toolkit.publisher(f"{prefix}ch", "after"),
        "execute_command": lambda: toolkit.execute_command("GET", key),
        "start_subscriber": lambda: toolkit.start_subscriber([f"{prefix}ch"], Inbox().handler),
        "subscribe_dynamic": lambda: toolkit.subscribe_dynamic(f"{prefix}ch", Inbox().handler),
    }
    for what, call in calls.items():
        with pytest.raises(ClientClosedError, match="closed") as info:
            await call()
        assert "create a new one" in str(info.value), what
    assert toolkit.subscriber is None  # nothing was started
    admin = redis_server.admin()
    try:
        assert admin.get(key) is not None and b"before" in admin.get(key)  # nothing was written
        admin.delete(key)
    finally:
        admin.close()
    await async_pool_manager.close_all_pools()


async def test_entering_a_closed_toolkit_again_reopens_it(
    redis_server: RedisServer, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit.from_url(redis_server.url)
    async with toolkit:
        await toolkit.setter(f"{prefix}k", 1)
    with pytest.raises(ClientClosedError):
        await toolkit.getter(f"{prefix}k")
    async with toolkit:  # the with-block is an explicit lifecycle: it reopens
        assert not toolkit.closed
        assert await toolkit.getter(f"{prefix}k") == 1
        await toolkit.deleter(f"{prefix}k")
    assert toolkit.closed
    await async_pool_manager.close_all_pools()


async def test_embedded_backend_works_with_the_plain_install(prefix: str) -> None:
    toolkit = AsyncRedisToolkit.from_url(f"memory://{prefix}plain", options=RedisOptions())
    try:
        await toolkit.setter("k", {"embedded": True})
        assert await toolkit.getter("k") == {"embedded": True}
    finally:
        await toolkit.aclose()
