"""RetryPolicy: the delays of every strategy, jitter bounds, the cap, the deadline, decide()."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from redis_toolkit.exceptions import (
    CircuitOpenError,
    OperationTimeoutError,
    ValidationError,
)
from redis_toolkit.resilience import RetryPolicy, RetryStrategy
from tests.clock import FakeClock

REFUSED = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
READ_TIMEOUT = redis.TimeoutError("Timeout reading from 127.0.0.1:6379")
BAD_COMMAND = redis.ResponseError("ERR unknown command 'NOPE'")


# -- nominal delays -----------------------------------------------------------------------------


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 3
    assert policy.strategy is RetryStrategy.EXPONENTIAL_BACKOFF
    assert (policy.delay, policy.max_delay, policy.backoff_factor) == (0.1, 10.0, 2.0)
    assert policy.jitter is True
    assert policy.deadline is None
    assert policy.retry_on_timeout_for_all is False


def test_strategy_values() -> None:
    assert RetryStrategy.EXPONENTIAL_BACKOFF.value == "exponential_backoff"
    assert RetryStrategy.LINEAR_BACKOFF.value == "linear_backoff"
    assert RetryStrategy.FIXED_DELAY.value == "fixed_delay"
    assert RetryStrategy("fixed_delay") == "fixed_delay"


def test_exponential_delays_exact_and_capped() -> None:
    policy = RetryPolicy(delay=0.1, max_delay=1.0, jitter=False)
    assert [policy.base_delay(n) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert [policy.delay_for(n) for n in range(6)] == [policy.base_delay(n) for n in range(6)]
    three = RetryPolicy(delay=0.5, backoff_factor=3.0, max_delay=100.0, jitter=False)
    assert [three.base_delay(n) for n in range(4)] == pytest.approx([0.5, 1.5, 4.5, 13.5])


def test_linear_delays_exact_and_capped() -> None:
    policy = RetryPolicy(strategy=RetryStrategy.LINEAR_BACKOFF, delay=0.25, max_delay=1.0)
    assert [policy.base_delay(n) for n in range(6)] == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    )


def test_fixed_delays_exact() -> None:
    policy = RetryPolicy(strategy="fixed_delay", delay=0.3, jitter=False)  # type: ignore[arg-type]
    assert policy.strategy is RetryStrategy.FIXED_DELAY
    assert [policy.delay_for(n) for n in range(5)] == [0.3] * 5


def test_huge_attempts_do_not_overflow() -> None:
    policy = RetryPolicy(delay=0.1, max_delay=7.0, backoff_factor=10.0, jitter=False)
    assert policy.base_delay(10_000) == 7.0
    linear = RetryPolicy(strategy="linear_backoff")  # type: ignore[arg-type]
    assert linear.base_delay(10**9) == 10.0


def test_zero_delay_is_allowed() -> None:
    policy = RetryPolicy(delay=0.0, max_delay=0.0)
    assert [policy.delay_for(n) for n in range(4)] == [0.0] * 4


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValidationError, match="attempt"):
        RetryPolicy().base_delay(-1)


# -- jitter --------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", list(RetryStrategy))
def test_equal_jitter_stays_within_half_and_full_base(strategy: RetryStrategy) -> None:
    policy = RetryPolicy(strategy=strategy, delay=0.2, max_delay=1.0, jitter=True)
    rng = random.Random(42)
    for attempt in range(8):
        base = policy.base_delay(attempt)
        waits = [policy.delay_for(attempt, rng) for _ in range(500)]
        assert all(base / 2 <= w <= base for w in waits)
        assert max(waits) - min(waits) > base * 0.3  # really spread, not constant


@pytest.mark.parametrize("fraction", [0.1, 0.5, 1.0])
def test_proportional_jitter_bounds(fraction: float) -> None:
    policy = RetryPolicy(delay=0.1, max_delay=0.5, jitter=fraction)
    rng = random.Random(7)
    for attempt in range(6):
        base = policy.base_delay(attempt)
        low, high = base * (1 - fraction), min(base * (1 + fraction), policy.max_delay)
        waits = [policy.delay_for(attempt, rng) for _ in range(500)]
        assert all(low - 1e-12 <= w <= high + 1e-12 for w in waits)
        assert all(0 <= w <= policy.max_delay for w in waits)
        if base < policy.max_delay:
            assert max(waits) > base  # proportional jitter also waits longer than nominal


def test_seeded_jitter_is_reproducible() -> None:
    policy = RetryPolicy(jitter=0.3)
    first = [policy.delay_for(n, random.Random(1)) for n in range(5)]
    second = [policy.delay_for(n, random.Random(1)) for n in range(5)]
    assert first == second


def test_jitter_false_or_zero_is_exact() -> None:
    for jitter in (False, 0, 0.0):
        policy = RetryPolicy(jitter=jitter)
        assert policy.delay_for(2, random.Random(3)) == pytest.approx(0.4)


@settings(max_examples=300, deadline=None)
@given(
    max_retries=st.integers(0, 20),
    strategy=st.sampled_from(list(RetryStrategy)),
    delay=st.floats(0, 5, allow_nan=False),
    extra=st.floats(0, 60, allow_nan=False),
    jitter=st.one_of(st.booleans(), st.floats(0, 1, allow_nan=False)),
    factor=st.floats(1, 10, allow_nan=False),
    attempt=st.integers(0, 100_000),
    seed=st.integers(0, 2**32),
)
def test_property_delay_within_zero_and_max_delay(
    max_retries: int,
    strategy: RetryStrategy,
    delay: float,
    extra: float,
    jitter: bool | float,
    factor: float,
    attempt: int,
    seed: int,
) -> None:
    policy = RetryPolicy(
        max_retries=max_retries,
        strategy=strategy,
        delay=delay,
        max_delay=delay + extra,
        jitter=jitter,
        backoff_factor=factor,
    )
    wait = policy.delay_for(attempt, random.Random(seed))
    assert 0 <= wait <= policy.max_delay
    assert 0 <= policy.base_delay(attempt) <= policy.max_delay
    if jitter is True or jitter is False:
        assert wait <= policy.base_delay(attempt)
    # The nominal schedule never shrinks.
    assert policy.base_delay(attempt) <= policy.base_delay(attempt + 1)


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"strategy": "random"}, "strategy"),
        ({"delay": -0.1}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"delay": float("inf")}, "delay"),
        ({"max_delay": -1.0}, "max_delay"),
        ({"delay": 5.0, "max_delay": 1.0}, "max_delay"),
        ({"jitter": 1.5}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"jitter": "yes"}, "jitter"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": -3.0}, "deadline"),
        ({"deadline": float("inf")}, "deadline"),
        ({"retry_on_timeout_for_all": "yes"}, "retry_on_timeout_for_all"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
    ],
)
def test_invalid_values_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field) as info:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_strategy_accepts_names_and_values() -> None:
    by_name = RetryPolicy(strategy="LINEAR_BACKOFF")  # type: ignore[arg-type]
    by_value = RetryPolicy(strategy="linear_backoff")  # type: ignore[arg-type]
    assert by_name.strategy is by_value.strategy is RetryStrategy.LINEAR_BACKOFF


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_retries = 5  # type: ignore[misc]


# -- decide ----------------------------------------------------------------------------------------


def test_not_sent_errors_are_retried_even_for_non_idempotent_commands() -> None:
    policy = RetryPolicy(jitter=False)
    assert policy.decide(REFUSED, attempt=0, elapsed=0.0, command="INCR") == pytest.approx(0.1)
    assert policy.decide(REFUSED, attempt=2, elapsed=0.0, command="LPUSH") == pytest.approx(0.4)
    assert policy.decide(REFUSED, attempt=0, elapsed=0.0) == pytest.approx(0.1)


def test_maybe_sent_errors_only_for_idempotent_commands() -> None:
    policy = RetryPolicy(jitter=False)
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="GET") == pytest.approx(0.1)
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="get") == pytest.approx(0.1)
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="INCR") is None
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0) is None  # unknown command: unsafe
    # The caller knows better than the table, both ways.
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="INCR", idempotent=True)
    assert (
        policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="SET", idempotent=False) is None
    )


def test_retry_on_timeout_for_all_opts_every_command_in() -> None:
    policy = RetryPolicy(jitter=False, retry_on_timeout_for_all=True)
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="INCR") == pytest.approx(0.1)
    assert policy.decide(READ_TIMEOUT, attempt=0, elapsed=0) == pytest.approx(0.1)
    # An explicit idempotent=False still wins (a SET NX used as a lock).
    assert (
        policy.decide(READ_TIMEOUT, attempt=0, elapsed=0, command="SET", idempotent=False) is None
    )


def test_wrapped_toolkit_errors_are_decided_by_their_cause() -> None:
    policy = RetryPolicy(jitter=False)
    try:
        raise OperationTimeoutError("GET timed out") from READ_TIMEOUT
    except OperationTimeoutError as e:
        assert policy.decide(e, attempt=0, elapsed=0, command="GET") == pytest.approx(0.1)
        assert policy.decide(e, attempt=0, elapsed=0, command="INCR") is None


@pytest.mark.parametrize(
    "error",
    [BAD_COMMAND, CircuitOpenError("open", retry_after=3), ValidationError("x"), ValueError()],
    ids=lambda e: type(e).__name__,
)
def test_final_errors_are_never_retried(error: BaseException) -> None:
    policy = RetryPolicy(retry_on_timeout_for_all=True)
    assert policy.decide(error, attempt=0, elapsed=0, command="GET", idempotent=True) is None
    assert not policy.is_retryable(error, command="GET", idempotent=True)


def test_attempts_run_out() -> None:
    policy = RetryPolicy(max_retries=2, jitter=False)
    assert policy.decide(REFUSED, attempt=1, elapsed=0) is not None
    assert policy.decide(REFUSED, attempt=2, elapsed=0) is None
    assert RetryPolicy(max_retries=0).decide(REFUSED, attempt=0, elapsed=0) is None


def test_deadline_stops_a_retry_whose_wait_would_pass_it() -> None:
    policy = RetryPolicy(max_retries=10, delay=1.0, jitter=False, deadline=5.0)
    assert policy.decide(REFUSED, attempt=0, elapsed=3.9) == pytest.approx(1.0)
    assert policy.decide(REFUSED, attempt=0, elapsed=4.0) is None  # would start at the deadline
    assert policy.decide(REFUSED, attempt=1, elapsed=3.5) is None  # 3.5 + 2.0 > 5.0
    assert policy.decide(REFUSED, attempt=0, elapsed=6.0) is None


def test_decide_uses_the_given_rng() -> None:
    policy = RetryPolicy(jitter=0.5)
    expected = policy.delay_for(1, random.Random(9))
    assert policy.decide(REFUSED, attempt=1, elapsed=0, rng=random.Random(9)) == expected


# -- the executor loop of _async, run against a fake clock ---------------------------------------


def run_with_retries(
    policy: RetryPolicy,
    operation: Callable[[], object],
    clock: FakeClock,
    *,
    command: str | None = None,
) -> tuple[object, list[float]]:
    """The retry executor's loop with a fake sleep; returns (result, the waits)."""
    waits: list[float] = []
    attempt = 0
    started = clock()
    while True:
        try:
            return operation(), waits
        except Exception as e:
            wait = policy.decide(e, attempt=attempt, elapsed=clock() - started, command=command)
            if wait is None:
                raise
            waits.append(wait)
            clock.advance(wait)
            attempt += 1


def failing(times: int, error: BaseException, clock: FakeClock, cost: float = 0.0):
    calls = {"n": 0}

    def operation() -> str:
        calls["n"] += 1
        clock.advance(cost)
        if calls["n"] <= times:
            raise error
        return "ok"

    return operation, calls


def test_loop_recovers_after_failures() -> None:
    clock = FakeClock()
    operation, calls = failing(3, REFUSED, clock)
    result, waits = run_with_retries(RetryPolicy(jitter=False), operation, clock, command="INCR")
    assert result == "ok"
    assert calls["n"] == 4
    assert waits == pytest.approx([0.1, 0.2, 0.4])


def test_loop_gives_up_after_max_retries() -> None:
    clock = FakeClock()
    operation, calls = failing(10, REFUSED, clock)
    with pytest.raises(redis.ConnectionError):
        run_with_retries(RetryPolicy(max_retries=3, jitter=False), operation, clock)
    assert calls["n"] == 4


def test_loop_does_not_repeat_a_timed_out_incr() -> None:
    clock = FakeClock()
    operation, calls = failing(1, READ_TIMEOUT, clock)
    with pytest.raises(redis.TimeoutError):
        run_with_retries(RetryPolicy(), operation, clock, command="INCR")
    assert calls["n"] == 1


def test_loop_respects_the_overall_deadline() -> None:
    clock = FakeClock()
    # Each try costs 0.5 s, waits double from 0.5 s, and the whole call has 3 s.
    operation, calls = failing(100, REFUSED, clock, cost=0.5)
    policy = RetryPolicy(max_retries=100, delay=0.5, jitter=False, deadline=3.0)
    started = clock()
    with pytest.raises(redis.ConnectionError):
        run_with_retries(policy, operation, clock)
    assert clock() - started <= 3.0
    # Tries fail at t=0.5 (wait 0.5), t=1.5 (wait 1.0) and t=3.0 (a 2.0 s wait would pass 3 s).
    assert calls["n"] == 3


# -- legacy options ----------------------------------------------------------------------------


def test_from_legacy_keeps_the_04_meaning() -> None:
    policy = RetryPolicy.from_legacy(3, 0.1, 2.0)
    assert policy.max_retries == 3
    assert policy.strategy is RetryStrategy.EXPONENTIAL_BACKOFF
    assert policy.jitter is False
    assert [policy.delay_for(n) for n in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    slow = RetryPolicy.from_legacy(retry_attempts=4, retry_delay=0.2, retry_backoff=1.5)
    assert [slow.delay_for(n) for n in range(4)] == pytest.approx([0.2, 0.3, 0.45, 0.675])
    assert RetryPolicy.from_legacy(0, 0.1, 2.0).decide(REFUSED, attempt=0, elapsed=0) is None


def test_from_legacy_defaults_overrides_and_validation() -> None:
    from redis_toolkit.options import RedisOptions

    options = RedisOptions(retry_attempts=3, retry_delay=0.1, retry_backoff=2.0)
    policy = RetryPolicy.from_legacy(
        options.retry_attempts - 1, options.retry_delay, options.retry_backoff
    )
    assert policy == RetryPolicy.from_legacy(2)
    assert RetryPolicy.from_legacy(retry_delay=30.0).max_delay == 30.0
    assert RetryPolicy.from_legacy(jitter=True, deadline=2.0).deadline == 2.0
    with pytest.raises(ValidationError, match="backoff_factor"):
        RetryPolicy.from_legacy(3, 0.1, 0.5)


# -- the cluster failover budget under the finite defaults --------------------------------------


def test_cluster_default_budget_keeps_retrying_through_a_failover() -> None:
    """In cluster mode the default retry_deadline (20 s) gives way to the failover budget, and
    retries keep starting for the whole failover window although each attempt may take
    attempt_timeout (15 s): a refused connection at 31 s is still retried."""
    from redis_toolkit import RedisConnectionConfig
    from redis_toolkit.resilience.policy import cluster_retry_budget

    config = RedisConnectionConfig(cluster_mode=True, startup_nodes=["127.0.0.1:7000"])
    assert config.retry_deadline == 20.0 and config.attempt_timeout == 15.0
    policy = RetryPolicy.from_settings(config)
    window = cluster_retry_budget(config.cluster_node_timeout)  # 32 s with node timeout 15 s
    assert policy.deadline == window + config.attempt_timeout
    assert policy.max_retries >= 1000 and policy.max_delay == 0.5
    rng = random.Random(1)
    for elapsed in (0.0, 10.0, 20.0, window - 1.0):
        wait = policy.decide(REFUSED, attempt=50, elapsed=elapsed, command="GET", rng=rng)
        assert wait is not None and wait <= 0.5, elapsed
    # Past the window no retry starts: the call still ends within the deadline.
    assert policy.decide(REFUSED, attempt=50, elapsed=window + 0.5, command="GET") is None
    # A deadline the user chose is kept, and so is max_retries (it counts again).
    chosen = RetryPolicy.from_settings(dataclasses.replace(config, retry_deadline=6.0))
    assert chosen.deadline == 6.0 and chosen.max_retries == 3
    # Standalone keeps the finite default.
    assert RetryPolicy.from_settings(RedisConnectionConfig()).deadline == 20.0
