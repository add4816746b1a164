"""Finite defaults (issue 11): with default settings no call waits forever, the whole call is
bounded by ``retry_deadline``, and the pool is bounded: a caller waits ``pool_timeout`` for a
free connection instead of opening more."""

from __future__ import annotations

import threading

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisConnectionConfig,
    async_pool_manager,
)
from redis_toolkit.resilience import CircuitState
from tests.servers import RedisServer, SilentPeer

# On a build without finite defaults the call below would wait forever: the peer then hangs up
# after this long, so the test fails (a ConnectionError, not a timeout) instead of hanging.
WATCHDOG = 40.0


async def test_a_server_that_accepts_and_never_answers_ends_the_call_by_its_timeouts() -> None:
    peer = SilentPeer().start()
    watchdog = threading.Timer(WATCHDOG, peer.close)
    watchdog.daemon = True
    watchdog.start()
    toolkit = AsyncRedisToolkit(config=RedisConnectionConfig(host=peer.host, port=peer.port))
    try:
        with pytest.raises(OperationTimeoutError) as info:
            await toolkit.getter("k")  # idempotent: retried if the deadline allowed it
        assert "timed out" in str(info.value).lower() or "timeout" in str(info.value).lower()
        # One attempt: after a 5 s timeout no retry fits before the 20 s deadline (another
        # attempt may take 15 s), so the call ended after its first attempt.
        assert toolkit.metrics.retries == 0
    finally:
        watchdog.cancel()
        peer.close()
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_the_default_pool_is_bounded_and_a_caller_waits_then_fails_cleanly(
    redis_server: RedisServer, prefix: str
) -> None:
    # The defaults reach the pool: 50 connections, a caller waits 5 s for a free one.
    defaults = AsyncRedisToolkit(
        config=RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    )
    try:
        assert defaults.client.connection_pool.max_connections == 50
        assert defaults.client.connection_pool.timeout == 5.0
    finally:
        await defaults.aclose()
        await async_pool_manager.close_all_pools()
    # The waiting itself, with the default bound but a shorter wait (the 5 s prove nothing more).
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port, pool_timeout=0.3)
    toolkit = AsyncRedisToolkit(config=config)
    pool = toolkit.client.connection_pool
    held = []
    try:
        await toolkit.setter(f"{prefix}k", 1)
        assert pool.max_connections == 50
        assert pool.timeout == 0.3
        # Every connection of the default pool busy (the sync toolkit's lane holds one).
        lane = async_pool_manager.get_pool_stats()[config.address]["lane_connections"]
        for _ in range(50 - lane):
            held.append(await pool.get_connection())
        with pytest.raises(ConnectionFailedError, match="pool is exhausted") as info:
            await toolkit.exists(f"{prefix}k")  # waits pool_timeout for a free one
        assert info.value.key == f"{prefix}k"
        stats = async_pool_manager.get_pool_stats()[config.address]
        assert stats["created_connections"] == 50  # no 51st connection was opened
        # A busy pool is not a failing server: the breaker stays closed.
        assert toolkit.circuit_breaker is not None
        assert toolkit.circuit_breaker.state is CircuitState.CLOSED
        await pool.release(held.pop())
        assert await toolkit.exists(f"{prefix}k") is True
        assert await toolkit.getter(f"{prefix}k") == 1
    finally:
        for connection in held:
            await pool.release(connection)
        await toolkit.deleter(f"{prefix}k")
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()
