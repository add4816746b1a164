"""What only the async API can show: cancellation, event loops, toolkits made outside a loop,
and the coalescer's in-flight bookkeeping (tests/test_coalescing.py has the rest of it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    CircuitState,
    ConnectionFailedError,
    RedisConnectionConfig,
    async_pool_manager,
)
from tests.servers import RedisServer


async def test_a_cancelled_trial_call_hands_its_half_open_slot_back(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = AsyncRedisToolkit.from_url(
        server.url,
        failure_threshold=1,
        recovery_timeout=0.05,
        health_check_enabled=False,
        max_retries=3,
        retry_delay=5.0,  # the trial call will sit in its backoff when it is cancelled
        retry_jitter=False,
        connection_timeout=0.5,
    )
    breaker = toolkit.circuit_breaker
    assert breaker is not None
    try:
        server.stop()
        breaker.core.report_health(False)  # a failed check opens it (threshold 1)
        assert breaker.core.snapshot()["state"] == "open"
        deadline = asyncio.get_running_loop().time() + 5
        while breaker.state is not CircuitState.HALF_OPEN:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        # The trial: connection refused (safe to retry), then cancelled during the 5 s wait.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(toolkit.getter(f"{prefix}k"), 0.3)
        assert toolkit.get_metrics()["retries"] == 1  # it was cancelled in its backoff
        assert breaker.core.snapshot()["half_open_in_flight"] == 0
        server.start()
        assert await toolkit.setter(f"{prefix}k", "back") is True  # a new trial got through
        assert breaker.state is CircuitState.CLOSED
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_a_queued_command_whose_caller_was_cancelled_is_never_sent(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = AsyncRedisToolkit.from_url(server.url, socket_timeout=5.0)
    lock = f"{prefix}lock"
    try:
        stall = server.debug_sleep(0.5)
        in_flight = asyncio.ensure_future(toolkit.getter(f"{prefix}other"))  # goes out directly
        await asyncio.sleep(0)  # lets it start: it is in flight from its first step on
        assert toolkit._commands._in_flight == 1
        # Queued behind the stalled call, then abandoned: a lock nobody would ever hold.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(toolkit.setter(lock, "me", nx=True, ttl=30), 0.05)
        assert await in_flight is None
        stall.join(5)
        assert await toolkit.exists(lock) is False
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


def test_an_async_toolkit_can_be_created_outside_an_event_loop(
    redis_server: RedisServer, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit(
        config=RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    )  # e.g. at module level, before the web framework starts its loop

    async def use() -> object:
        async with toolkit:
            await toolkit.setter(f"{prefix}k", {"made": "outside"})
            value = await toolkit.getter(f"{prefix}k")
            await toolkit.deleter(f"{prefix}k")
            return value

    assert asyncio.run(use()) == {"made": "outside"}


def test_async_pools_are_per_event_loop(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    pools = []

    async def use() -> None:
        toolkit = AsyncRedisToolkit(config=config)
        assert await toolkit.health_check()
        pools.append(toolkit.client.connection_pool)
        assert toolkit.client.connection_pool is async_pool_manager.get_pool(config)
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()

    asyncio.run(use())
    asyncio.run(use())  # would fail with "attached to a different loop" if the pool were shared
    assert pools[0] is not pools[1]


def test_pools_of_closed_loops_are_forgotten(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)

    async def use() -> None:
        async with AsyncRedisToolkit(config=config) as toolkit:
            await toolkit.health_check()

    for _ in range(5):
        asyncio.run(use())
    assert len(async_pool_manager._pools) <= 1  # only the last loop's pools remain


async def test_an_unreachable_cluster_counts_against_the_breaker() -> None:
    from tests.servers import free_port

    toolkit = AsyncRedisToolkit(
        config=RedisConnectionConfig(
            cluster_mode=True,
            startup_nodes=[("127.0.0.1", free_port())],
            connection_timeout=0.5,
            max_retries=0,
            health_check_enabled=False,
        )
    )
    try:
        with pytest.raises(ConnectionFailedError):
            await toolkit.getter("k")
        assert toolkit.get_metrics()["failed_operations"] == 1
        assert toolkit.circuit_breaker is not None
        assert toolkit.circuit_breaker.core.failures == 1
        assert await toolkit.health_check() is False
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_a_stalled_connection_does_not_hold_back_the_other_callers(
    redis_server: RedisServer, prefix: str
) -> None:
    """With no socket timeout, a silently dead connection never ends its round trip: the
    commands queued behind it must go out on another connection instead of waiting forever."""
    from tests.servers import TcpProxy

    proxy = TcpProxy(redis_server.port).start()
    toolkit = AsyncRedisToolkit.from_url(
        f"redis://127.0.0.1:{proxy.port}", health_check_enabled=False, socket_timeout=None
    )
    key = f"{prefix}k"
    try:
        await toolkit.setter(key, "v")
        proxy.freeze_existing()
        stuck = asyncio.ensure_future(toolkit.getter(key))  # goes out on the frozen connection
        await asyncio.sleep(0)  # lets it start: it is in flight from its first step on
        assert toolkit._commands._in_flight == 1
        others = await asyncio.wait_for(
            asyncio.gather(*(toolkit.getter(key) for _ in range(20))), timeout=10
        )
        assert others == ["v"] * 20
        assert proxy.connections >= 2
        assert not stuck.done()  # that one is still waiting: nothing ends it
        stuck.cancel()
    finally:
        proxy.close()
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


def test_the_design_resilience_names_are_the_async_flavours() -> None:
    """The earlier design's snippets (``await handler.execute(operation)``, ``await
    checker.start()``) import these names from the async module."""
    import inspect

    from redis_toolkit import AsyncCircuitBreaker, AsyncHealthChecker, AsyncRetryHandler
    from redis_toolkit.asyncio import CircuitBreaker, HealthChecker, RetryHandler

    assert (CircuitBreaker, HealthChecker, RetryHandler) == (
        AsyncCircuitBreaker,
        AsyncHealthChecker,
        AsyncRetryHandler,
    )
    for method in (CircuitBreaker.execute, RetryHandler.execute, HealthChecker.start):
        assert inspect.iscoroutinefunction(method), method
