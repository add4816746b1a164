"""Resilience against real faults: a stopped server, a stalled server, a killed server.

Each test starts its own private server (server_factory) and really stops, stalls or kills it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from redis_toolkit import (
    AsyncCircuitBreaker,
    AsyncRedisToolkit,
    AsyncRetryHandler,
    CircuitOpenError,
    CircuitState,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisConnectionConfig,
    RedisToolkitError,
    RetryStrategy,
    async_pool_manager,
)
from redis_toolkit._compat import AsyncRuntime
from tests._async._helpers import poll_until
from tests.servers import RedisServer

pytestmark = pytest.mark.fault


def make_toolkit(server: RedisServer, **config: Any) -> AsyncRedisToolkit:
    settings: dict[str, Any] = {
        "socket_timeout": 1.0,
        "connection_timeout": 0.5,
        "retry_jitter": False,
        "retry_delay": 0.01,
    }
    settings.update(config)
    return AsyncRedisToolkit.from_url(server.url, **settings)


async def close(toolkit: AsyncRedisToolkit) -> None:
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()


async def test_breaker_opens_fails_fast_and_recovers_through_health_checks(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = make_toolkit(
        server,
        failure_threshold=3,
        recovery_timeout=60.0,  # recovery must come from the health checker, not this timer
        health_checker_interval=0.2,
        max_retries=1,
    )
    transitions: list[tuple[CircuitState, CircuitState]] = []
    breaker = toolkit.circuit_breaker
    assert breaker is not None
    breaker.add_listener(lambda old, new: transitions.append((old, new)))
    try:
        await toolkit.setter(f"{prefix}k", "before")
        server.stop()

        outcomes: list[str] = []
        for i in range(20):
            try:
                await toolkit.setter(f"{prefix}{i}", i)
                outcomes.append("ok")
            except CircuitOpenError as e:
                assert e.retry_after > 0
                outcomes.append("open")
                break
            except ConnectionFailedError:
                outcomes.append("down")
        assert outcomes[-1] == "open", outcomes
        assert "ok" not in outcomes
        assert breaker.state is CircuitState.OPEN

        # While OPEN, calls fail at once, without touching the network: no SET attempt is
        # recorded (the metrics count every attempt that reached redis-py).
        sets_before = toolkit.get_metrics()["commands"]["SET"]["total"]
        started = AsyncRuntime.monotonic()
        for i in range(200):
            with pytest.raises(CircuitOpenError):
                await toolkit.setter(f"{prefix}fast{i}", i)
        per_call_ms = (AsyncRuntime.monotonic() - started) / 200 * 1000
        assert toolkit.get_metrics()["commands"]["SET"]["total"] == sets_before
        print(f"fail-fast while OPEN: {per_call_ms:.4f} ms per call")

        server.start()
        # recovery_timeout is 60 s: reaching HALF_OPEN within the deadline below proves the
        # background health check saw the server come back.
        await poll_until(lambda: breaker.state is not CircuitState.OPEN, what="health check")
        assert await toolkit.setter(f"{prefix}k", "after") is True
        assert breaker.state is CircuitState.CLOSED
        assert (CircuitState.CLOSED, CircuitState.OPEN) in transitions
        assert (CircuitState.OPEN, CircuitState.HALF_OPEN) in transitions
        assert transitions[-1] == (CircuitState.HALF_OPEN, CircuitState.CLOSED)
        status = toolkit.get_health_status()
        assert status["state"] == "closed" and status["connected"] is True
        metrics = toolkit.get_metrics()
        assert metrics["failed_operations"] >= 3 and metrics["breaker_transitions"] >= 3
    finally:
        await close(toolkit)


async def test_timeouts_are_retried_only_for_idempotent_commands(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = make_toolkit(
        server, socket_timeout=0.3, max_retries=4, retry_delay=0.25, failure_threshold=50
    )
    counter, key = f"{prefix}counter", f"{prefix}value"
    try:
        await toolkit.setter(key, {"v": 1})
        # An open pooled connection for the INCR (the sync setter used the lane): sent at once,
        # not held up in a connection handshake that the stalled server would not answer.
        await toolkit.execute_command("PING")
        stall = server.debug_sleep(1.0)
        with pytest.raises(OperationTimeoutError, match="INCR"):
            await toolkit.execute_command("INCR", counter)
        stall.join(10)
        # The INCR reached the server before it stalled and ran once when it woke up; a retry
        # would have made it 2.
        assert int(await toolkit.execute_command("GET", counter)) == 1

        stall = server.debug_sleep(1.0)
        assert await toolkit.getter(key) == {"v": 1}  # GET timed out, was retried, succeeded
        stall.join(10)
        assert toolkit.get_metrics()["commands"]["GET"]["retries"] >= 1
        assert toolkit.get_metrics()["commands"]["INCR"]["retries"] == 0
    finally:
        await close(toolkit)


async def test_no_acknowledged_write_is_lost(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory(extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    toolkit = make_toolkit(
        server,
        failure_threshold=3,
        recovery_timeout=0.5,
        health_checker_interval=0.2,
        max_retries=2,
    )
    acked: list[int] = []
    failed: list[int] = []

    async def write(i: int) -> None:
        try:
            if await toolkit.setter(f"{prefix}{i}", {"i": i}):
                acked.append(i)
        except RedisToolkitError:
            failed.append(i)

    try:
        for i in range(0, 50):
            await write(i)
        server.kill()
        for i in range(50, 80):
            await write(i)
        server.start()
        breaker = toolkit.circuit_breaker
        assert breaker is not None
        await poll_until(lambda: breaker.state is not CircuitState.OPEN, what="recovery")
        for i in range(80, 150):
            await write(i)

        assert set(range(50)) <= set(acked)  # before the kill, everything was acknowledged
        assert set(range(50, 80)) <= set(failed)  # server down: every write raised
        assert any(i >= 80 for i in acked)  # and writes succeed again
        assert sorted(acked + failed) == list(range(150))  # each write either landed or raised
        stored = await toolkit.batch_get([f"{prefix}{i}" for i in acked])
        missing = [i for i in acked if stored[f"{prefix}{i}"] != {"i": i}]
        assert missing == []
    finally:
        await close(toolkit)


async def test_retry_handler_strategies_and_breaker_on_a_real_server(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    """The standalone executors, as users of the earlier design call them."""
    server = server_factory()
    toolkit = make_toolkit(server)
    try:
        handler = AsyncRetryHandler(
            max_retries=2, strategy=RetryStrategy.LINEAR_BACKOFF, delay=0.01, jitter=False
        )
        breaker = AsyncCircuitBreaker(failure_threshold=2, recovery_timeout=60.0)
        client = toolkit.client
        assert await breaker.execute(lambda: handler.execute(client.ping, command="PING"))
        server.stop()
        for _ in range(2):
            with pytest.raises(Exception) as info:
                await breaker.execute(lambda: handler.execute(client.ping, command="PING"))
            assert not isinstance(info.value, CircuitOpenError)
        assert breaker.state is CircuitState.OPEN
        with pytest.raises(CircuitOpenError):
            await breaker.execute(lambda: handler.execute(client.ping, command="PING"))
    finally:
        await close(toolkit)


async def test_toolkits_sharing_a_config_do_not_fail_each_others_health_checks(
    server_factory: Callable[..., RedisServer],
) -> None:
    server = server_factory()
    first = make_toolkit(server, health_checker_interval=0.05, failure_threshold=2)
    second = make_toolkit(server, health_checker_interval=0.05, failure_threshold=2)
    try:
        checkers = [t.health_checker for t in (first, second)]
        assert all(c is not None for c in checkers)
        for checker in checkers:
            assert checker is not None
            await checker.start()
        await poll_until(
            lambda: all(c is not None and c.status()["checks"] >= 10 for c in checkers),
            what="ten checks each",
        )
        for toolkit in (first, second):
            status = toolkit.get_health_status()
            assert status["state"] == "closed", status
            assert status["consecutive_failures"] == 0
    finally:
        await close(first)
        await close(second)


async def test_an_unreachable_cluster_is_a_connection_failure() -> None:
    """Sync discovers the topology when the client is made, async on first use: either way the
    caller gets a ConnectionFailedError (not a raw redis-py RedisClusterException)."""
    from tests.servers import free_port

    config = RedisConnectionConfig(
        cluster_mode=True,
        startup_nodes=[("127.0.0.1", free_port())],
        connection_timeout=0.5,
        max_retries=0,
        health_check_enabled=False,
    )
    toolkit = None
    try:
        with pytest.raises(ConnectionFailedError, match="cluster"):
            toolkit = AsyncRedisToolkit(config=config)
            await toolkit.getter("k")
    finally:
        if toolkit is not None:
            await close(toolkit)


async def test_a_check_failing_for_the_checkers_own_reasons_leaves_the_breaker_closed(
    server_factory: Callable[..., RedisServer],
) -> None:
    """Pool exhaustion says nothing about the server: it must not open the breaker."""
    from redis_toolkit import AsyncCircuitBreaker, AsyncHealthChecker

    server = server_factory()
    toolkit = make_toolkit(server)
    try:
        checker_client = async_pool_manager.create_client(
            # pool_timeout: the check waits this long for the held connection before it fails
            RedisConnectionConfig(
                host=server.host, port=server.port, max_connections=1, pool_timeout=0.2
            ),
            shared=False,
        )
        held = await checker_client.connection_pool.get_connection()  # the one connection
        breaker = AsyncCircuitBreaker(failure_threshold=1)
        checker = AsyncHealthChecker(checker_client, interval=60, breaker=breaker)
        assert await checker.check() is False  # MaxConnectionsError from its own pool
        assert breaker.state is CircuitState.CLOSED
        await checker_client.connection_pool.release(held)
        server.stop()
        assert await checker.check() is False  # now the server is really gone
        assert breaker.state is CircuitState.OPEN
        await checker_client.aclose()
    finally:
        await close(toolkit)


async def test_closing_a_toolkit_closes_its_health_check_connection(
    server_factory: Callable[..., RedisServer],
) -> None:
    server = server_factory()
    toolkit = make_toolkit(server, health_checker_interval=0.05)
    checker = toolkit.health_checker
    assert checker is not None
    await checker.start()
    await poll_until(lambda: checker.status()["checks"] >= 2, what="health checks")

    def health_clients() -> int:
        with server.admin() as admin:
            return sum(1 for c in admin.client_list() if c.get("name") == "redis_toolkit-health")

    assert health_clients() == 1
    await close(toolkit)
    await poll_until(lambda: health_clients() == 0, what="the health connection to close")


async def test_a_failed_enter_leaves_nothing_running_and_can_be_retried(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = make_toolkit(server, health_checker_interval=0.05)
    server.stop()
    with pytest.raises(ConnectionFailedError):
        async with toolkit:
            pass
    assert toolkit.health_checker is not None and not toolkit.health_checker.running
    server.start()
    async with toolkit:
        assert toolkit.health_checker.running
        assert await toolkit.setter(f"{prefix}k", 1) is True
    assert not toolkit.health_checker.running
    await async_pool_manager.close_all_pools()
