"""CircuitBreakerState: every transition, with a fake clock."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import redis

from redis_toolkit.exceptions import (
    CircuitOpenError,
    ConnectionFailedError,
    SerializationError,
    ValidationError,
)
from redis_toolkit.resilience import (
    CircuitBreakerState,
    CircuitState,
    Permit,
    RedisMetrics,
)
from tests.clock import FakeClock

CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN
DOWN = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
SLOW = redis.TimeoutError("Timeout reading from 127.0.0.1:6379")
BAD_COMMAND = redis.ResponseError("ERR unknown command 'NOPE'")


def make(clock: FakeClock, **kw: Any) -> tuple[CircuitBreakerState, list[tuple[Any, Any]]]:
    breaker = CircuitBreakerState(clock=clock, **kw)
    seen: list[tuple[Any, Any]] = []
    breaker.add_listener(lambda old, new: seen.append((old, new)))
    return breaker, seen


def fail(breaker: CircuitBreakerState, error: BaseException = DOWN, times: int = 1) -> None:
    for _ in range(times):
        breaker.record_failure(error, breaker.acquire("GET"))


def succeed(breaker: CircuitBreakerState, times: int = 1) -> None:
    for _ in range(times):
        breaker.record_success(breaker.acquire("GET"))


def execute(
    breaker: CircuitBreakerState, operation: Callable[[], Any], command: str = "GET"
) -> Any:
    """The breaker executor of _async, in sync form."""
    permit = breaker.acquire(command)
    try:
        result = operation()
    except BaseException as e:
        breaker.record_failure(e, permit)
        raise
    breaker.record_success(permit)
    return result


def opened(clock: FakeClock, **kw: Any) -> tuple[CircuitBreakerState, list[tuple[Any, Any]]]:
    kw.setdefault("failure_threshold", 2)
    kw.setdefault("recovery_timeout", 30.0)
    breaker, seen = make(clock, **kw)
    fail(breaker, times=kw["failure_threshold"])
    assert breaker.state is OPEN
    return breaker, seen


def half_opened(clock: FakeClock, **kw: Any) -> tuple[CircuitBreakerState, list[tuple[Any, Any]]]:
    breaker, seen = opened(clock, **kw)
    clock.advance(breaker.recovery_timeout)
    assert breaker.state is HALF_OPEN
    return breaker, seen


# -- CLOSED ------------------------------------------------------------------------------------


def test_starts_closed_and_lets_calls_through() -> None:
    clock = FakeClock()
    breaker, seen = make(clock)
    assert breaker.state is CLOSED
    permit = breaker.acquire("GET")
    assert isinstance(permit, Permit) and permit.state is CLOSED and not permit.trial
    assert permit.command == "GET"
    breaker.record_success(permit)
    assert execute(breaker, lambda: 42) == 42
    assert seen == [] and breaker.transitions == 0
    assert CircuitState.HALF_OPEN.value == "half_open"


def test_opens_at_the_failure_threshold() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=5)
    fail(breaker, times=4)
    assert breaker.state is CLOSED and breaker.failures == 4
    fail(breaker, SLOW)
    assert breaker.state is OPEN
    assert seen == [(CLOSED, OPEN)]
    assert breaker.transitions == 1
    snap = breaker.snapshot()
    assert snap["state"] == "open" and snap["opened_at"] == clock.now
    assert snap["last_failure_at"] == clock.now


def test_wrapped_connection_errors_count() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=2)
    for _ in range(2):
        try:
            raise ConnectionFailedError("GET failed") from DOWN
        except ConnectionFailedError as e:
            breaker.record_failure(e, breaker.acquire())
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    "error",
    [
        BAD_COMMAND,
        redis.exceptions.NoScriptError("NOSCRIPT"),
        ValidationError("key too long"),
        SerializationError("bad bytes"),
        CircuitOpenError("open", retry_after=1),
        asyncio.CancelledError(),
        KeyboardInterrupt(),
        ValueError("a bug in the caller"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_that_do_not_count_never_open_it(error: BaseException) -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=3)
    fail(breaker, error, times=50)
    assert breaker.state is CLOSED
    assert breaker.failures == 0
    assert seen == []


def test_a_success_resets_the_consecutive_count() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=5)
    fail(breaker, times=4)
    succeed(breaker)
    assert breaker.failures == 0
    fail(breaker, times=4)
    assert breaker.state is CLOSED
    fail(breaker)
    assert breaker.state is OPEN


def test_a_non_counting_error_does_not_reset_the_count() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=3)
    fail(breaker, times=2)
    fail(breaker, BAD_COMMAND)
    fail(breaker)
    assert breaker.state is OPEN


# -- OPEN --------------------------------------------------------------------------------------


def test_open_rejects_at_once_without_calling() -> None:
    clock = FakeClock()
    breaker, _ = opened(clock, recovery_timeout=30.0, name="cache")
    clock.advance(10.0)
    calls = []
    with pytest.raises(CircuitOpenError) as info:
        execute(breaker, lambda: calls.append(1))
    assert calls == []
    assert info.value.retry_after == pytest.approx(20.0)
    message = str(info.value)
    assert "'cache'" in message and "open" in message and "GET" in message
    assert breaker.snapshot()["retry_after"] == pytest.approx(20.0)
    assert breaker.snapshot()["rejected_calls"] == 1


def test_open_turns_half_open_after_recovery_timeout() -> None:
    clock = FakeClock()
    breaker, seen = opened(clock, recovery_timeout=30.0)
    clock.advance(29.9)
    assert breaker.state is OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert info.value.retry_after == pytest.approx(0.1)
    clock.advance(0.1)
    assert breaker.state is HALF_OPEN
    assert seen == [(CLOSED, OPEN), (OPEN, HALF_OPEN)]


def test_acquire_itself_moves_open_to_half_open() -> None:
    clock = FakeClock()
    breaker, seen = opened(clock, recovery_timeout=5.0)
    clock.advance(6.0)
    permit = breaker.acquire("PING")  # no read of .state first
    assert permit.trial and permit.state is HALF_OPEN
    assert seen[-1] == (OPEN, HALF_OPEN)


def test_zero_recovery_timeout_half_opens_immediately() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=1, recovery_timeout=0)
    fail(breaker)
    assert breaker.state is HALF_OPEN


# -- HALF_OPEN ---------------------------------------------------------------------------------


def test_half_open_bounds_concurrent_trial_calls() -> None:
    clock = FakeClock()
    breaker, _ = half_opened(clock, half_open_max_calls=2, success_threshold=3)
    first, second = breaker.acquire(), breaker.acquire()
    assert first.trial and second.trial
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire("SET")
    assert 0 < info.value.retry_after <= 0.1
    assert "half_open" in str(info.value)
    breaker.record_success(first)
    assert breaker.state is HALF_OPEN
    third = breaker.acquire()  # the slot freed by the success
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    breaker.record_success(second)
    breaker.record_success(third)
    assert breaker.state is CLOSED


def test_half_open_closes_after_success_threshold() -> None:
    clock = FakeClock()
    breaker, seen = half_opened(clock, success_threshold=2)
    succeed(breaker)
    assert breaker.state is HALF_OPEN
    succeed(breaker)
    assert breaker.state is CLOSED
    assert seen == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    assert breaker.failures == 0
    assert breaker.snapshot()["opened_at"] is None


def test_half_open_failure_reopens_and_restarts_the_timer() -> None:
    clock = FakeClock()
    breaker, seen = half_opened(clock, recovery_timeout=30.0)
    permit = breaker.acquire()
    clock.advance(5.0)  # a slow trial call
    breaker.record_failure(SLOW, permit)
    assert breaker.state is OPEN
    assert seen[-1] == (HALF_OPEN, OPEN)
    assert breaker.snapshot()["opened_at"] == clock.now
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert info.value.retry_after == pytest.approx(30.0)  # not 25: the timer restarted
    clock.advance(29.0)
    assert breaker.state is OPEN
    clock.advance(1.0)
    assert breaker.state is HALF_OPEN


def test_non_counting_error_in_half_open_frees_the_slot() -> None:
    clock = FakeClock()
    breaker, _ = half_opened(clock, half_open_max_calls=1)
    permit = breaker.acquire()
    with pytest.raises(CircuitOpenError):
        breaker.acquire()
    breaker.record_failure(BAD_COMMAND, permit)
    assert breaker.state is HALF_OPEN
    again = breaker.acquire()
    breaker.record_failure(asyncio.CancelledError(), again)  # a cancelled trial frees it too
    assert breaker.state is HALF_OPEN
    breaker.record_success(breaker.acquire())
    assert breaker.state is CLOSED


def test_results_of_calls_started_in_an_older_state_are_ignored() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=2, recovery_timeout=10.0)
    slow_call = breaker.acquire()  # started while CLOSED
    fail(breaker, times=2)
    assert breaker.state is OPEN
    breaker.record_success(slow_call)  # an old success does not close the breaker
    assert breaker.state is OPEN
    clock.advance(10.0)
    assert breaker.state is HALF_OPEN
    breaker.record_failure(SLOW, slow_call)  # an old failure does not re-open it
    assert breaker.state is HALF_OPEN
    assert breaker.snapshot()["half_open_in_flight"] == 0


def test_permit_none_applies_to_the_current_state() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=2)
    breaker.record_failure(DOWN)
    breaker.record_failure(DOWN)
    assert breaker.state is OPEN
    clock.advance(60)
    assert breaker.state is HALF_OPEN
    breaker.record_success()
    assert breaker.state is CLOSED


# -- listeners ---------------------------------------------------------------------------------


def test_listeners_run_outside_the_lock() -> None:
    clock = FakeClock()
    breaker = CircuitBreakerState(clock=clock, failure_threshold=1)
    observed: list[Any] = []

    def listener(old: CircuitState, new: CircuitState) -> None:
        free = breaker._lock.acquire(blocking=False)
        if free:
            breaker._lock.release()
        observed.append((old, new, free, breaker.snapshot()["state"]))

    breaker.add_listener(listener)
    fail(breaker)
    assert observed == [(CLOSED, OPEN, True, "open")]


def test_a_raising_listener_is_logged_and_does_not_break_the_breaker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    breaker = CircuitBreakerState(clock=clock, failure_threshold=1, recovery_timeout=1.0)
    after: list[Any] = []

    def broken(old: CircuitState, new: CircuitState) -> None:
        raise RuntimeError("listener bug")

    breaker.add_listener(broken)
    breaker.add_listener(lambda old, new: after.append((old, new)))
    with caplog.at_level(logging.ERROR, logger="redis_toolkit.resilience"):
        fail(breaker)
    assert breaker.state is OPEN
    assert after == [(CLOSED, OPEN)]
    records = [r for r in caplog.records if r.name == "redis_toolkit.resilience"]
    assert any("listener" in r.getMessage() and r.exc_info for r in records)
    clock.advance(1.0)
    succeed(breaker)
    assert breaker.state is CLOSED
    assert after == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


def test_remove_listener() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=1)
    other: list[Any] = []

    def listener(old: CircuitState, new: CircuitState) -> None:
        other.append(new)

    breaker.add_listener(listener)
    breaker.remove_listener(listener)
    breaker.remove_listener(listener)  # unknown: ignored
    fail(breaker)
    assert other == [] and seen == [(CLOSED, OPEN)]
    with pytest.raises(ValidationError):
        breaker.add_listener("not callable")  # type: ignore[arg-type]


def test_a_coroutine_listener_is_refused_without_a_never_awaited_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    breaker = CircuitBreakerState(clock=clock, failure_threshold=1)

    async def async_listener(old: CircuitState, new: CircuitState) -> None:
        pass  # pragma: no cover

    breaker.add_listener(async_listener)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.ERROR):
        warnings.simplefilter("always")
        fail(breaker)
        gc.collect()
    assert breaker.state is OPEN
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert any("coroutine" in r.getMessage() for r in caplog.records)


def test_metrics_as_a_listener() -> None:
    clock = FakeClock()
    metrics = RedisMetrics(clock=clock)
    breaker = CircuitBreakerState(clock=clock, failure_threshold=1, recovery_timeout=1.0)
    breaker.add_listener(metrics.record_breaker_transition)
    fail(breaker)
    clock.advance(1.0)
    succeed(breaker)
    snap = metrics.snapshot()
    assert snap["breaker_state"] == "closed"
    assert snap["breaker_transitions"] == 3 == breaker.transitions
    assert snap["breaker_opens"] == 1


# -- manual control and health checks --------------------------------------------------------


def test_force_open_holds_until_reset() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, recovery_timeout=5.0)
    breaker.force_open()
    assert breaker.state is OPEN
    clock.advance(1000.0)
    assert breaker.state is OPEN  # no recovery while forced
    breaker.report_health(True)
    assert breaker.state is OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.acquire()
    assert "forced" in str(info.value) and "reset()" in str(info.value)
    assert breaker.snapshot()["forced"] is True
    breaker.reset()
    assert breaker.state is CLOSED
    assert seen == [(CLOSED, OPEN), (OPEN, CLOSED)]
    succeed(breaker)


def test_reset_and_force_closed_clear_counters() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=3)
    fail(breaker, times=2)
    breaker.reset()
    assert breaker.failures == 0 and seen == []  # already closed: no transition
    fail(breaker, times=2)
    assert breaker.state is CLOSED
    fail(breaker)
    assert breaker.state is OPEN
    breaker.force_closed()
    assert breaker.state is CLOSED
    assert seen == [(CLOSED, OPEN), (OPEN, CLOSED)]
    snap = breaker.snapshot()
    assert snap["failures"] == 0 and snap["last_failure_at"] is None and snap["retry_after"] == 0


def test_force_open_while_half_open_invalidates_trials() -> None:
    clock = FakeClock()
    breaker, _ = half_opened(clock)
    trial = breaker.acquire()
    breaker.force_open()
    breaker.record_success(trial)
    assert breaker.state is OPEN


def test_report_health() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=3, recovery_timeout=60.0)
    # CLOSED: failed checks count like failed calls; a good check does not erase them.
    breaker.report_health(False)
    breaker.report_health(False)
    breaker.report_health(True)
    assert breaker.failures == 2 and breaker.state is CLOSED
    breaker.report_health(False)
    assert breaker.state is OPEN
    # OPEN: a failed check changes nothing (the timer is not extended)...
    clock.advance(10.0)
    breaker.report_health(False)
    assert breaker.snapshot()["retry_after"] == pytest.approx(50.0)
    # ...and a good one means the server is back: HALF_OPEN without waiting.
    breaker.report_health(True)
    assert breaker.state is HALF_OPEN
    # HALF_OPEN: a failed check re-opens and restarts the timer.
    clock.advance(1.0)
    breaker.report_health(False)
    assert breaker.state is OPEN
    assert breaker.snapshot()["retry_after"] == pytest.approx(60.0)
    breaker.report_health(True)
    succeed(breaker)
    assert breaker.state is CLOSED
    assert seen == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]


# -- construction, snapshot, threads ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": 2.5}, "failure_threshold"),
        ({"recovery_timeout": -1}, "recovery_timeout"),
        ({"recovery_timeout": float("inf")}, "recovery_timeout"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"success_threshold": 0}, "success_threshold"),
        ({"clock": 3}, "clock"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CircuitBreakerState(**kwargs)


def test_snapshot_keys() -> None:
    clock = FakeClock()
    breaker = CircuitBreakerState(clock=clock, name="sessions")
    snap = breaker.snapshot()
    assert {
        "state",
        "failures",
        "last_failure_at",
        "opened_at",
        "retry_after",
        "transitions",
    } <= set(snap)
    assert snap["name"] == "sessions" and snap["state"] == "closed" and snap["retry_after"] == 0
    assert "sessions" in repr(breaker)


def test_custom_failure_predicate() -> None:
    clock = FakeClock()
    breaker, _ = make(
        clock, failure_threshold=1, failure_predicate=lambda e: isinstance(e, KeyError)
    )
    fail(breaker, DOWN)
    assert breaker.state is CLOSED
    fail(breaker, KeyError("x"))
    assert breaker.state is OPEN


def test_only_half_open_max_calls_threads_get_a_trial_permit() -> None:
    clock = FakeClock()
    breaker, _ = half_opened(clock, half_open_max_calls=3)
    barrier = threading.Barrier(16)
    granted: list[Permit] = []
    rejected: list[CircuitOpenError] = []

    def worker() -> None:
        barrier.wait()
        try:
            granted.append(breaker.acquire())
        except CircuitOpenError as e:
            rejected.append(e)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 3 and len(rejected) == 13


def test_concurrent_failures_open_exactly_once() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=100)

    def worker() -> None:
        for _ in range(1000):
            try:
                permit = breaker.acquire()
            except CircuitOpenError:
                continue
            breaker.record_failure(DOWN, permit)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert breaker.state is OPEN
    assert seen == [(CLOSED, OPEN)]


# -- the idle permit (the executors' hot path) -------------------------------------------------


def test_idle_permit_exists_only_while_closed_with_no_failure_counted() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=2, recovery_timeout=10.0)
    first = breaker.idle_permit
    assert isinstance(first, Permit) and first.state is CLOSED and not first.trial
    breaker.record_success(first)
    assert breaker.idle_permit is first and breaker.failures == 0
    breaker.record_failure(DOWN, first)  # counted: the idle permit promises no failure
    assert breaker.failures == 1 and breaker.idle_permit is None
    breaker.record_success(breaker.acquire())  # resets the count: idle again
    restored = breaker.idle_permit
    assert breaker.failures == 0 and restored is not None
    assert restored.generation == first.generation
    breaker.record_failure(BAD_COMMAND, restored)  # does not count: still idle
    assert breaker.idle_permit is restored
    fail(breaker, times=2)
    assert breaker.state is OPEN and breaker.idle_permit is None
    clock.advance(10.0)
    assert breaker.state is HALF_OPEN and breaker.idle_permit is None
    succeed(breaker)
    closed_again = breaker.idle_permit
    assert breaker.state is CLOSED and closed_again is not None
    assert closed_again.generation > restored.generation
    fail(breaker)
    breaker.reset()  # reset from CLOSED with a failure counted: idle again
    assert breaker.failures == 0 and breaker.idle_permit is not None
    breaker.force_open()
    assert breaker.idle_permit is None
    breaker.reset()
    assert breaker.idle_permit is not None and breaker.idle_permit.state is CLOSED


def test_a_stale_idle_permit_is_ignored() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failure_threshold=2, recovery_timeout=10.0)
    slow_call = breaker.idle_permit  # a call started while CLOSED and clean
    assert slow_call is not None
    fail(breaker, times=2)
    assert breaker.state is OPEN
    breaker.record_success(slow_call)  # an old success does not close the breaker
    assert breaker.state is OPEN
    breaker.reset()
    breaker.record_failure(DOWN, slow_call)  # an old failure counts in no later state
    breaker.record_failure(DOWN, slow_call)
    assert breaker.state is CLOSED and breaker.failures == 0
    assert breaker.idle_permit is not None and breaker.idle_permit is not slow_call


def test_resilience_path_counts_with_the_idle_permit() -> None:
    """The sync executor takes the idle permit and skips record_success while it is current:
    failures still count, a success still resets the count, every call is in the metrics."""
    from redis_toolkit._sync.resilience import CircuitBreaker, ResiliencePath

    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=10.0, clock=clock)
    metrics = RedisMetrics(clock=clock)
    path = ResiliencePath(policy=None, breaker=breaker, metrics=metrics)
    core = breaker.core

    def down() -> None:
        raise redis.ConnectionError("Connection refused")

    for _ in range(2):
        with pytest.raises(ConnectionFailedError):
            path.run("GET", down, key="k")
    assert core.failures == 2 and core.idle_permit is None
    assert path.run("GET", lambda: b"v", key="k") == b"v"  # acquired, not idle: resets
    assert core.failures == 0 and core.idle_permit is not None
    assert path.run("GET", lambda: b"v", key="k") == b"v"  # idle: nothing to change
    for _ in range(3):
        with pytest.raises(ConnectionFailedError):
            path.run("GET", down, key="k")
    assert core.state is OPEN
    with pytest.raises(CircuitOpenError):
        path.run("GET", lambda: b"v", key="k")
    snap = metrics.snapshot()
    assert snap["total_operations"] == 7  # the refused call never ran
    assert snap["failed_operations"] == 5 and snap["successful_operations"] == 2


def test_idle_permit_under_threads_opens_exactly_once_and_recovers() -> None:
    clock = FakeClock()
    breaker, seen = make(clock, failure_threshold=50)
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(2000):
            permit = breaker.idle_permit or breaker.acquire()
            if n % 2 == 0 and i % 10 == 0:
                breaker.record_failure(DOWN, permit)
            elif permit is not breaker.idle_permit:
                breaker.record_success(permit)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Successes in between keep resetting the count: the breaker never opened.
    assert seen == [] and breaker.state is CLOSED
    breaker.record_success(breaker.acquire())
    assert breaker.failures == 0 and breaker.idle_permit is not None
