"""How the toolkit builds its resilience path from config and 0.4 options (no I/O needed)."""

from __future__ import annotations

from redis_toolkit import RedisConnectionConfig, RedisOptions, RedisToolkit, RetryStrategy


def toolkit(**kwargs: object) -> RedisToolkit:
    options = kwargs.pop("options", None)
    config = RedisConnectionConfig(url="memory://wiring", **kwargs)  # type: ignore[arg-type]
    return RedisToolkit(config=config, options=options)  # type: ignore[arg-type]


def test_config_fields_build_the_policy_and_breaker() -> None:
    tk = toolkit(
        max_retries=5,
        retry_strategy="linear_backoff",
        retry_delay=0.2,
        max_retry_delay=3.0,
        retry_deadline=4.0,
        failure_threshold=7,
        recovery_timeout=9.0,
    )
    policy = tk.retry_handler.policy
    assert (policy.max_retries, policy.strategy, policy.delay) == (
        5,
        RetryStrategy.LINEAR_BACKOFF,
        0.2,
    )
    assert (policy.max_delay, policy.deadline) == (3.0, 4.0)
    assert tk.circuit_breaker is not None
    assert tk.circuit_breaker.core.failure_threshold == 7
    assert tk.circuit_breaker.core.recovery_timeout == 9.0
    tk.close()


def test_0_4_retry_options_keep_their_meaning() -> None:
    tk = toolkit(options=RedisOptions(retry_attempts=4, retry_delay=0.5, retry_backoff=3.0))
    policy = tk.retry_handler.policy
    assert policy.max_retries == 3  # 4 attempts in all, as 0.4's with_retry(max_attempts=4)
    assert [policy.base_delay(n) for n in range(3)] == [0.5, 1.5, 4.5]
    assert policy.jitter is False
    tk.close()


def test_everything_can_be_switched_off() -> None:
    tk = toolkit(circuit_breaker_enabled=False, metrics_enabled=False, max_retries=0)
    assert tk.circuit_breaker is None
    tk.setter("k", 1)
    assert tk.getter("k") == 1
    assert tk.get_metrics()["total_operations"] == 0
    assert tk.get_health_status()["state"] == "disabled"
    tk.close()


def test_metrics_count_operations_by_command() -> None:
    tk = toolkit()
    tk.setter("user:secret-key", 1)
    tk.getter("user:secret-key")
    tk.getter("user:secret-key")
    metrics = tk.get_metrics()
    assert metrics["total_operations"] == 3 and metrics["success_rate"] == 1.0
    assert metrics["commands"]["GET"]["total"] == 2
    assert "secret-key" not in repr(metrics)  # command names only, never keys
    tk.close()
