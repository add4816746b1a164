"""Executing the resilience state machines: retry loop, circuit breaker, health checker.

The decisions are pure (``redis_toolkit.resilience``: RetryPolicy, CircuitBreakerState,
RedisMetrics); this module runs operations through them, written once for async and generated
for sync. Every toolkit operation goes through the resilience path (``AsyncResiliencePath``):
the breaker first (an OPEN breaker refuses at once, before any socket is touched), then the
retry loop, with each attempt timed into the metrics.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisClusterException, RedisError

from .._compat import AsyncEvent, AsyncRuntime
from ..exceptions import ValidationError, wrap_redis_error
from ..resilience import (
    CircuitBreakerState,
    CircuitState,
    RedisMetrics,
    RetryPolicy,
    RetryStrategy,
    counts_as_failure,
    is_transient,
)
from .pool import async_pool_manager

if TYPE_CHECKING:
    from ..options import RedisConnectionConfig

__all__ = ["AsyncRetryHandler", "AsyncCircuitBreaker", "AsyncHealthChecker", "AsyncResiliencePath"]

logger = logging.getLogger("redis_toolkit.resilience")

_perf_counter = time.perf_counter  # bound once: read twice per operation


#: An exception type, or a tuple of them (as ``except`` takes).
RetryOn = type[BaseException] | tuple[type[BaseException], ...]


def _as_types(retry_on: RetryOn | None) -> tuple[type[BaseException], ...] | None:
    if retry_on is None:
        return None
    types = (retry_on,) if isinstance(retry_on, type) else tuple(retry_on)
    for t in types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise ValidationError(f"retry_on must hold exception types, got {t!r}")
    return types


class AsyncRetryHandler:
    """Retry an operation's failures with backoff, up to ``max_retries`` and ``deadline``.

    ``await handler.execute(operation)`` with no command name retries every transient failure
    (:data:`~redis_toolkit.resilience.TRANSIENT_ERRORS`: redis-py's and the built-in
    ``ConnectionError`` and ``TimeoutError``; not wrong credentials): wrapping an operation in
    a handler is the choice to retry it. ``retry_on`` (a tuple of exception types, here or per
    call) replaces that set, to narrow or widen it.

    Naming the command (``execute(op, command="INCR")``) or passing ``idempotent`` switches to
    the toolkit's own command-aware rules instead: errors raised before the command reached the
    server (connection refused, LOADING, CLUSTERDOWN, ...) are always retried, timeouts and
    broken connections only for idempotent commands, so a timed-out INCR is not sent twice; an
    explicit ``retry_on`` must then match as well.
    """

    def __init__(
        self,
        max_retries: int = 3,
        strategy: RetryStrategy | str = RetryStrategy.EXPONENTIAL_BACKOFF,
        delay: float = 0.1,
        max_delay: float = 10.0,
        jitter: bool | float = True,
        deadline: float | None = None,
        *,
        policy: RetryPolicy | None = None,
        metrics: RedisMetrics | None = None,
        retry_on: RetryOn | None = None,
    ) -> None:
        self.retry_on = _as_types(retry_on)
        self.policy = policy or RetryPolicy(
            max_retries=max_retries,
            strategy=RetryStrategy(strategy),
            delay=delay,
            max_delay=max_delay,
            jitter=jitter,
            deadline=deadline,
        )
        self.metrics = metrics

    async def execute(
        self,
        operation: Callable[[], Any],
        *,
        command: str | None = None,
        idempotent: bool | None = None,
        retry_on: RetryOn | None = None,
    ) -> Any:
        """Run ``await operation()`` and retry it as the policy allows.

        ``retry_on`` overrides the handler's own for this call. The last error is raised
        unchanged when no retry is left or allowed.
        """
        types = _as_types(retry_on) if retry_on is not None else self.retry_on
        command_aware = command is not None or idempotent is not None
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                return await operation()
            except Exception as e:
                elapsed = time.monotonic() - started
                if command_aware:
                    wait = self.policy.decide(
                        e, attempt=attempt, elapsed=elapsed, command=command, idempotent=idempotent
                    )
                    if types is not None and not isinstance(e, types):
                        wait = None
                elif is_transient(e, types):
                    wait = self.policy.next_wait(attempt=attempt, elapsed=elapsed)
                else:
                    wait = None
                if wait is None:
                    raise
                if self.metrics is not None:
                    self.metrics.record_retry(command or "OTHER")
                logger.debug("%s failed (%r); retry %d in %.3fs", command, e, attempt + 1, wait)
                await AsyncRuntime.sleep(wait)
                attempt += 1


class AsyncCircuitBreaker:
    """Stop calling a server that keeps failing; try again after ``recovery_timeout``.

    CLOSED lets calls through and counts consecutive connection failures and timeouts (a
    ``ResponseError`` from a bad command does not count); ``failure_threshold`` of them open it.
    OPEN refuses every call at once with :class:`~redis_toolkit.exceptions.CircuitOpenError`
    (``retry_after`` seconds), without a network round trip. After ``recovery_timeout`` it turns
    HALF_OPEN and lets ``half_open_max_calls`` trial calls through: a success closes it, a
    failure opens it again. ``await breaker.execute(operation)``.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        half_open_max_calls: int = 1,
        success_threshold: int = 1,
        *,
        name: str = "redis",
        clock: Callable[[], float] = time.monotonic,
        state: CircuitBreakerState | None = None,
    ) -> None:
        self._state = state or CircuitBreakerState(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_timeout,
            half_open_max_calls=half_open_max_calls,
            success_threshold=success_threshold,
            clock=clock,
            name=name,
        )

    @property
    def state(self) -> CircuitState:
        """CLOSED, OPEN or HALF_OPEN."""
        return self._state.state

    @property
    def core(self) -> CircuitBreakerState:
        """The pure state machine (snapshots, listeners, health reports)."""
        return self._state

    async def execute(self, operation: Callable[[], Any], *, command: str | None = None) -> Any:
        """Run ``operation()`` if the breaker allows it, and record how it went."""
        permit = self._state.acquire(command)
        try:
            result = await operation()
        except BaseException as e:
            self._state.record_failure(e, permit)
            raise
        self._state.record_success(permit)
        return result

    def add_listener(self, callback: Callable[[CircuitState, CircuitState], Any]) -> None:
        """Call ``callback(old_state, new_state)`` on every transition."""
        self._state.add_listener(callback)

    def remove_listener(self, callback: Callable[[CircuitState, CircuitState], Any]) -> None:
        """Stop calling ``callback`` on transitions."""
        self._state.remove_listener(callback)

    def reset(self) -> None:
        """Close the breaker and forget the failures."""
        self._state.reset()

    def force_open(self) -> None:
        """Open the breaker until :meth:`reset` (maintenance windows, tests)."""
        self._state.force_open()

    def snapshot(self) -> dict[str, Any]:
        """State, failures, timings and transitions as a dict."""
        return self._state.snapshot()


class AsyncResiliencePath:
    """The one path every toolkit operation takes: breaker, retries, metrics, error wrapping.

    It holds the retry ``policy`` (``None`` or ``max_retries=0``: no retries) and the breaker
    directly and applies the command-aware retry rules (see :class:`RetryPolicy`).
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy | None,
        breaker: AsyncCircuitBreaker | None,
        metrics: RedisMetrics | None,
        address: str = "",
    ) -> None:
        self.policy = policy if policy is not None and policy.max_retries > 0 else None
        self.breaker = breaker
        # Bound once: the hot path talks to the pure state machine directly.
        self._core = breaker.core if breaker is not None else None
        self.metrics = metrics
        self.address = address
        if breaker is not None and metrics is not None:
            metrics.set_breaker_state(breaker.state)
            breaker.add_listener(metrics.record_breaker_transition)

    async def run(
        self,
        command: str,
        fn: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        channel: str | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """``await fn(*args, **kwargs)`` through the breaker and the retry policy.

        A redis-py error that ends the operation is raised as the toolkit error naming
        ``command`` and ``key`` (its cause kept); ``CircuitOpenError`` when the breaker refuses.
        """
        breaker = self._core
        permit = None
        if breaker is not None:
            # CLOSED with no failure counted (nearly always): the shared idle permit, no call.
            permit = breaker.idle_permit or breaker.acquire(command)
        metrics = self.metrics
        attempt = 0
        started = began = _perf_counter()
        while True:
            try:
                result = await fn(*args, **kwargs)
            except (RedisError, RedisClusterException) as e:
                wait = self._failed(
                    e, command, key, channel, idempotent, breaker, permit, attempt, started, began
                )
            except BaseException as e:
                if breaker is not None:
                    breaker.record_failure(e, permit)  # does not count: frees a trial slot
                raise
            else:
                if metrics is not None:
                    metrics.record(command, _perf_counter() - began, True)
                # Success with the idle permit still current changes nothing: no call.
                if breaker is not None and permit is not breaker.idle_permit:
                    breaker.record_success(permit)
                return result
            await self._backoff(wait, breaker, permit)
            attempt += 1
            began = _perf_counter()

    # The rare paths of ``run``, shared with the cluster path (one place for the retry rules).

    def _failed(
        self,
        error: BaseException,
        command: str,
        key: str | None,
        channel: str | None,
        idempotent: bool | None,
        breaker: CircuitBreakerState | None,
        permit: Any,
        attempt: int,
        started: float,
        began: float,
    ) -> float:
        """Record a failed attempt; return the wait before the next one, or raise the toolkit
        error (the breaker told) when the policy allows no retry."""
        now = _perf_counter()
        metrics = self.metrics
        if metrics is not None:
            metrics.record(command, now - began, False, error)
        policy = self.policy
        wait = None
        if policy is not None:
            wait = policy.decide(
                error,
                attempt=attempt,
                elapsed=now - started,
                command=command,
                idempotent=idempotent,
            )
        if wait is None:
            if breaker is not None:
                breaker.record_failure(error, permit)
            raise wrap_redis_error(
                error, command, key=key, channel=channel, address=self.address
            ) from error
        if metrics is not None:
            metrics.record_retry(command)
        return wait

    @staticmethod
    async def _backoff(wait: float, breaker: CircuitBreakerState | None, permit: Any) -> None:
        """Sleep before a retry. It happens outside ``run``'s handlers, so that a cancellation
        (or Ctrl-C) during the backoff still hands the permit back: a HALF_OPEN trial slot held
        by a cancelled call would otherwise stay taken forever."""
        try:
            await AsyncRuntime.sleep(wait)
        except BaseException as e:
            if breaker is not None:
                breaker.record_failure(e, permit)
            raise


class AsyncHealthChecker:
    """PING the server every ``interval`` seconds in the background; feed the breaker and metrics.

    ``await checker.start()`` starts the loop as an asyncio task; ``await checker.stop()`` ends
    it within one PING timeout. :meth:`for_config` builds the checker a toolkit uses, with a
    small client of its own. A failed check counts against the breaker while it is CLOSED; a
    good check while it is OPEN lets it try HALF_OPEN at once instead of waiting out
    ``recovery_timeout``. While the breaker is not CLOSED (or, without a breaker, while the last
    check failed) the loop probes every ``probe_interval`` seconds (1 by default) instead of
    ``interval``, and the breaker opening wakes it at once: callers get through again about a
    second after the server is back. ``on_error(error)`` and the logger hear about failed checks.
    """

    def __init__(
        self,
        client: Any,
        interval: float = 30.0,
        enabled: bool = True,
        *,
        breaker: AsyncCircuitBreaker | None = None,
        metrics: RedisMetrics | None = None,
        timeout: float | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        address: str = "",
        owns_client: bool = False,
        probe_interval: float = 1.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"health check interval must be > 0 seconds, got {interval!r}")
        if probe_interval <= 0:
            raise ValueError(f"probe_interval must be > 0 seconds, got {probe_interval!r}")
        self.probe_interval = min(float(probe_interval), float(interval))
        self._client = client
        self.interval = float(interval)
        self.enabled = enabled
        self._breaker = breaker
        self._metrics = metrics
        self._timeout = timeout if timeout is not None else min(self.interval, 5.0)
        self._on_error = on_error
        self._address = address
        self._owns_client = owns_client
        self._stop = AsyncEvent()  # set to stop the loop, and to wake it early (breaker opened)
        self._stopping = False
        self._task: Any = None
        self._healthy: bool | None = None
        self._last_check: float | None = None
        self._last_latency_ms: float | None = None
        self._consecutive_failures = 0
        self._checks = 0
        self._last_error: BaseException | None = None

    @classmethod
    def for_config(
        cls,
        config: RedisConnectionConfig,
        *,
        breaker: AsyncCircuitBreaker | None = None,
        metrics: RedisMetrics | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> AsyncHealthChecker | None:
        """The checker for ``config``, or ``None`` when ``health_check_enabled`` is off or the
        backend is embedded (``memory://``: nothing to check).

        It PINGs every ``health_checker_interval`` seconds through a one-connection client of
        its own (closed by :meth:`stop`), with a timeout of ``min(interval, 5)`` seconds: a
        stalled server fails the check, and the checker never waits behind application traffic
        for a connection, nor competes with another toolkit's checker. Not started.
        """
        if not config.health_check_enabled or config.is_embedded:
            return None
        interval = float(config.health_checker_interval)
        timeout = min(interval, 5.0)
        check_config = dataclasses.replace(
            config,
            socket_timeout=timeout,
            connection_timeout=timeout,
            max_connections=1,
            min_connections=0,
            health_check_interval=0,
            client_name="redis_toolkit-health",
        )
        return cls(
            async_pool_manager.create_client(check_config, shared=False),
            interval=interval,
            breaker=breaker,
            metrics=metrics,
            timeout=timeout,
            on_error=on_error,
            address=config.address,
            owns_client=True,
        )

    @property
    def running(self) -> bool:
        """Whether the background loop is running."""
        return self._task is not None and not AsyncRuntime.finished(self._task)

    async def start(self) -> None:
        """Start the background loop (no-op when disabled or already running)."""
        self._spawn()

    def _spawn(self) -> None:
        if not self.enabled or self.running:
            return
        self._stop = AsyncEvent()
        self._stopping = False
        if self._breaker is not None:
            self._breaker.remove_listener(self._on_transition)
            self._breaker.add_listener(self._on_transition)
        self._task = AsyncRuntime.spawn(self._run, name=f"redis_toolkit-health-{id(self)}")

    def _on_transition(self, old: CircuitState, new: CircuitState) -> None:
        # The breaker opened: start probing now rather than after the rest of `interval`.
        if new is CircuitState.OPEN:
            self._wake()

    def _wake(self) -> None:
        if True:  # ASYNC
            try:
                self._stop.set()
            except RuntimeError:  # the event loop is gone: the task went with it
                pass
        else:
            self._stop.set()

    def signal_stop(self) -> None:
        """Ask the loop to end, without waiting for it (safe from ``__del__``)."""
        self._stopping = True
        if self._breaker is not None:
            self._breaker.remove_listener(self._on_transition)
        self._wake()

    async def stop(self, timeout: float | None = None) -> bool:
        """Stop the loop; return whether it ended within ``timeout`` (default: a PING timeout).

        A client the checker owns (``owns_client=True``) is closed too.
        """
        finished = True
        self._stopping = True
        if self._breaker is not None:
            self._breaker.remove_listener(self._on_transition)
        if self._task is not None:
            self._stop.set()
            finished = await AsyncRuntime.join(
                self._task, timeout if timeout is not None else 2 * self._timeout + 1.0
            )
            finished = finished or AsyncRuntime.finished(self._task)
            self._task = None
        if self._owns_client and finished:
            await self._client.aclose()
        return finished

    async def check(self) -> bool:
        """Run one check now: PING, record the outcome, tell the breaker; return whether healthy."""
        began = time.perf_counter()
        try:
            await self._client.ping()
        except (RedisError, RedisClusterException, OSError) as e:
            self._record(False, time.perf_counter() - began, e)
            return False
        self._record(True, time.perf_counter() - began, None)
        return True

    def _record(self, ok: bool, latency: float, error: BaseException | None) -> None:
        self._checks += 1
        self._healthy = ok
        self._last_check = time.time()
        self._last_latency_ms = latency * 1000
        self._consecutive_failures = 0 if ok else self._consecutive_failures + 1
        if error is not None:
            self._last_error = error
        if self._metrics is not None:
            self._metrics.record("HEALTH_CHECK", latency, ok, error)
        # A check that failed for a reason that is not the server's (the checker's own pool
        # exhausted, say) must not push the breaker open.
        if self._breaker is not None and (ok or error is None or counts_as_failure(error)):
            self._breaker.core.report_health(ok)

    def _probing(self) -> bool:
        """Whether the loop probes at the short cadence: the server is (believed) down."""
        if self._breaker is not None:
            return self._breaker.state is not CircuitState.CLOSED
        return self._healthy is False

    async def _run(self) -> None:
        while not self._stopping:
            ok = await self.check()
            if AsyncRuntime.being_cancelled():
                # The event loop shuts down (an unclosed toolkit at the end of asyncio.run):
                # end now, even if what was awaited above swallowed the cancellation.
                return
            if not ok and self._last_error is not None:
                error = wrap_redis_error(self._last_error, "health check", address=self._address)
                logger.warning("%s (%d in a row)", error, self._consecutive_failures)
                if self._on_error is not None:
                    try:
                        await AsyncRuntime.call(self._on_error, error)
                    except Exception:
                        logger.exception("health check on_error callback raised")
            if self._stopping:
                return
            self._stop.clear()
            if self._stopping:  # asked to stop just before the clear
                return
            await self._stop.wait(self.probe_interval if self._probing() else self.interval)
            if AsyncRuntime.being_cancelled():
                return

    def is_healthy(self) -> bool:
        """The outcome of the last check (True before the first one: nothing failed yet)."""
        return self._healthy is not False

    def status(self) -> dict[str, Any]:
        """State, connected, last check time and latency, consecutive failures."""
        breaker_state = self._breaker.state.value if self._breaker is not None else None
        return {
            "state": breaker_state or ("healthy" if self.is_healthy() else "unhealthy"),
            "connected": self._healthy,
            "healthy": self.is_healthy(),
            "running": self.running,
            "interval": self.interval,
            "checks": self._checks,
            "last_check": self._last_check,
            "latency_ms": self._last_latency_ms,
            "consecutive_failures": self._consecutive_failures,
            "last_error": repr(self._last_error) if self._last_error is not None else None,
            "address": self._address,
        }
