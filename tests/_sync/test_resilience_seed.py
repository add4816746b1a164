# Generated from tests/_async/test_resilience_seed.py by tools/run_unasync.py. DO NOT EDIT.
"""The earlier resilience design's snippets, run as written there against a private server.

``CircuitBreaker``, ``RetryHandler``, ``HealthChecker`` and ``RedisMetrics`` as the design
calls them (``redis_toolkit.asyncio`` exports the async classes under those names; the sync
copy of this file uses the sync ones). ``operation`` and ``redis_client`` are the snippets' free
names: here a real PING and the toolkit's redis-py client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from redis_toolkit import CircuitBreaker as CircuitBreaker
from redis_toolkit import HealthChecker as HealthChecker
from redis_toolkit import (
    RedisToolkit,
    CircuitOpenError,
    CircuitState,
    RedisConnectionConfig,
    RedisMetrics,
    RedisToolkitError,
    RetryStrategy,
    ValidationError,
    pool_manager,
)
from redis_toolkit import RetryHandler as RetryHandler
from tests._sync._helpers import poll_until
from tests.servers import RedisServer


def make_toolkit(server: RedisServer, **config: Any) -> RedisToolkit:
    settings: dict[str, Any] = {"socket_timeout": 1.0, "connection_timeout": 0.5}
    settings.update(config)
    return RedisToolkit(
        config=RedisConnectionConfig(host=server.host, port=server.port, **settings)
    )


def close(toolkit: RedisToolkit) -> None:
    toolkit.close()
    pool_manager.close_all_pools()


def test_circuit_breaker_snippet(redis_server: RedisServer) -> None:
    toolkit = make_toolkit(redis_server, health_check_enabled=False)
    operation = toolkit.client.ping
    try:
        breaker = CircuitBreaker(
            failure_threshold=5,
            recovery_timeout=60.0,
        )

        result = breaker.execute(operation)

        assert result is True
        assert breaker.state is CircuitState.CLOSED
    finally:
        close(toolkit)


def test_retry_handler_snippet(redis_server: RedisServer, prefix: str) -> None:
    toolkit = make_toolkit(redis_server, health_check_enabled=False)
    calls: list[int] = []

    def operation() -> Any:
        # Two transient failures (the built-in kinds), then the real call.
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("connection reset by peer")
        if len(calls) == 2:
            raise TimeoutError("timed out")
        return toolkit.client.incr(f"{prefix}counter")

    try:
        handler = RetryHandler(
            max_retries=3,
            strategy=RetryStrategy.EXPONENTIAL_BACKOFF,
        )

        result = handler.execute(operation)

        assert result == 1 and len(calls) == 3
    finally:
        close(toolkit)


def test_health_checker_snippet(redis_server: RedisServer) -> None:
    toolkit = make_toolkit(redis_server, health_check_enabled=False)
    redis_client = toolkit.client
    try:
        checker = HealthChecker(
            client=redis_client,
            interval=30.0,
            enabled=True,
        )

        checker.start()
        is_healthy = checker.is_healthy()

        assert is_healthy is True
        assert checker.running
        poll_until(lambda: checker.status()["checks"] >= 1, what="the first check")
        assert checker.status()["connected"] is True and checker.is_healthy()
        assert checker.stop() is True
        assert not checker.running
    finally:
        close(toolkit)


def test_redis_metrics_snippet(redis_server: RedisServer, prefix: str) -> None:
    metrics = RedisMetrics()
    # Nothing ran yet: headline figures are attributes with their snapshot values.
    assert (metrics.success_rate, metrics.avg_latency_ms, metrics.total_operations) == (1.0, 0, 0)

    toolkit = make_toolkit(redis_server, health_check_enabled=False)
    try:
        metrics = toolkit.metrics
        # Operations are tracked automatically
        toolkit.setter(f"{prefix}k", 1)
        toolkit.getter(f"{prefix}k")
        with pytest.raises(RedisToolkitError):
            toolkit.execute_command("NOT-A-COMMAND")
        print(f"Success rate: {metrics.success_rate}")
        print(f"Average latency: {metrics.avg_latency_ms}")

        snapshot = metrics.snapshot()
        assert metrics.total_operations == snapshot["total_operations"] == 3
        assert metrics.successful_operations == 2 and metrics.failed_operations == 1
        assert metrics.success_rate == pytest.approx(2 / 3)
        assert metrics.avg_latency_ms > 0
        for name in ("avg_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms",
                     "max_latency_ms", "retries", "breaker_state", "breaker_opens"):  # fmt: skip
            assert getattr(metrics, name) == snapshot[name], name
        assert metrics.breaker_state == "closed"
        assert metrics.uptime_seconds >= 0
    finally:
        close(toolkit)


@pytest.mark.fault
def test_execute_without_a_command_retries_a_real_timeout(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    """A read timeout may have run the command: the toolkit's own path retries it only for
    idempotent commands, but a caller who wraps an operation in a handler chose to retry it."""
    server = server_factory()
    toolkit = make_toolkit(server, socket_timeout=0.3, health_check_enabled=False)
    client = toolkit.client
    handler = RetryHandler(max_retries=5, delay=0.3, jitter=False)
    try:
        client.set(f"{prefix}k", b"v")
        stall = server.debug_sleep(1.0)
        assert handler.execute(lambda: client.get(f"{prefix}k")) == b"v"
        stall.join(10)

        # Command-aware: an INCR that timed out is not sent again.
        stall = server.debug_sleep(1.0)
        with pytest.raises(redis.TimeoutError):
            handler.execute(lambda: client.incr(f"{prefix}n"), command="INCR")
        stall.join(10)
        assert int(client.get(f"{prefix}n")) == 1

        # retry_on narrows: only the listed types are retried.
        stall = server.debug_sleep(1.0)
        with pytest.raises(redis.TimeoutError):
            handler.execute(lambda: client.get(f"{prefix}k"), retry_on=(KeyError,))
        stall.join(10)
    finally:
        close(toolkit)


def test_retry_on_narrows_and_widens(redis_server: RedisServer) -> None:
    def failing(error: BaseException, times: int) -> Callable[[], Any]:
        calls: list[int] = []

        def operation() -> str:
            calls.append(1)
            if len(calls) <= times:
                raise error
            return "ok"

        return operation

    handler = RetryHandler(max_retries=2, delay=0.001, jitter=False)
    # Not transient: raised at once.
    with pytest.raises(ValueError):
        handler.execute(failing(ValueError("bad"), 1))
    # Wrong credentials are a connection error no retry can fix.
    with pytest.raises(redis.AuthenticationError):
        handler.execute(failing(redis.AuthenticationError("WRONGPASS"), 1))
    # Widened per call, and per handler.
    assert handler.execute(failing(ValueError("bad"), 2), retry_on=(ValueError,)) == "ok"
    widened = RetryHandler(max_retries=2, delay=0.001, retry_on=(ValueError, ConnectionError))
    assert widened.execute(failing(ValueError("bad"), 2)) == "ok"
    # Narrowed: a built-in ConnectionError is not in the handler's tuple.
    narrow = RetryHandler(max_retries=2, delay=0.001, retry_on=(redis.TimeoutError,))
    with pytest.raises(ConnectionError):
        narrow.execute(failing(ConnectionError("reset"), 1))
    # max_retries still bounds it.
    with pytest.raises(TimeoutError):
        handler.execute(failing(TimeoutError("slow"), 3))
    with pytest.raises(ValidationError, match="retry_on"):
        RetryHandler(retry_on=("ConnectionError",))  # type: ignore[arg-type]
    # An open breaker is never retried by a handler: it is not a transient failure.
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=60.0)
    breaker.force_open()
    toolkit = make_toolkit(redis_server, health_check_enabled=False)
    try:
        with pytest.raises(CircuitOpenError):
            handler.execute(lambda: breaker.execute(toolkit.client.ping))
    finally:
        close(toolkit)
