"""How the toolkit builds its resilience path from config and 0.4 options (no I/O needed)."""

from __future__ import annotations

import pytest

from redis_toolkit import (
    RedisConfig,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkit,
    RetryPolicy,
    RetryStrategy,
    ValidationError,
    pool_manager,
)
from tests.servers import RedisServer


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
    assert tk._resilience.policy is policy  # the path applies the same policy, held directly
    tk.close()


def test_unset_0_4_retry_options_leave_the_config_in_charge() -> None:
    config = RedisConnectionConfig(max_retries=5, retry_delay=0.3, retry_jitter=True)
    policy = RetryPolicy.from_settings(config, RedisOptions())
    assert not RedisOptions().sets_legacy_retry
    assert (policy.max_retries, policy.delay, policy.jitter) == (5, 0.3, True)
    assert policy == RetryPolicy.from_settings(config)  # no options: the same
    # Set explicitly to 0.4's own defaults: the user asked for 0.4's schedule, and gets it.
    legacy = RetryPolicy.from_settings(
        config, RedisOptions(retry_attempts=3, retry_delay=0.1, retry_backoff=2.0)
    )
    assert (legacy.max_retries, legacy.delay, legacy.backoff_factor) == (2, 0.1, 2.0)
    assert legacy.jitter is False


def test_each_0_4_retry_option_overrides_only_its_counterpart() -> None:
    config = RedisConnectionConfig(
        max_retries=5, retry_strategy="linear_backoff", retry_delay=0.3, max_retry_delay=4.0
    )
    only_delay = RetryPolicy.from_settings(config, RedisOptions(retry_delay=0.05))
    assert only_delay.max_retries == 5  # from the config
    assert only_delay.delay == 0.05  # the option wins
    assert only_delay.strategy is RetryStrategy.EXPONENTIAL_BACKOFF  # 0.4's schedule
    assert [only_delay.base_delay(n) for n in range(3)] == [0.05, 0.1, 0.2]
    only_attempts = RetryPolicy.from_settings(config, RedisOptions(retry_attempts=1))
    assert (only_attempts.max_retries, only_attempts.delay) == (0, 0.3)  # one attempt in all
    long_first_wait = RetryPolicy.from_settings(config, RedisOptions(retry_delay=9.0))
    assert long_first_wait.max_delay == 9.0  # never capped below the first wait
    with pytest.raises(ValidationError, match="retry_attempts"):
        RedisOptions(retry_attempts=1.5)  # type: ignore[arg-type]


def test_max_connections_config_field_with_the_0_4_option_as_override(
    redis_server: RedisServer,
) -> None:
    def pool_limit(options: RedisOptions | None) -> int:
        config = RedisConfig(
            host=redis_server.host, port=redis_server.port, max_connections=50,
            health_check_enabled=False,
        )  # fmt: skip
        tk = RedisToolkit(config=config, options=options)
        try:
            tk.setter("max-connections-probe", 1)
            return int(tk.client.connection_pool.max_connections)
        finally:
            tk.close()
            pool_manager.close_all_pools()

    assert pool_limit(None) == 50  # the config's field is the real one
    assert pool_limit(RedisOptions()) == 50  # the option unset: no effect
    assert pool_limit(RedisOptions(max_connections=7)) == 7  # set: 0.4's spelling wins


def test_health_check_interval_is_redis_pys_and_the_checker_has_its_own(
    redis_server: RedisServer,
) -> None:
    config = RedisConfig(
        host=redis_server.host,
        port=redis_server.port,
        health_check_interval=7,
        health_checker_interval=45.0,
        circuit_breaker_enabled=True,
        health_check_enabled=True,
    )
    tk = RedisToolkit(config=config)
    try:
        pool = tk.client.connection_pool
        assert pool.connection_kwargs["health_check_interval"] == 7  # redis-py's idle check
        assert tk.health_checker is not None
        assert tk.health_checker.interval == 45.0  # the background checker's
    finally:
        tk.close()
        pool_manager.close_all_pools()
    assert RedisConfig().health_checker_interval == 30.0
    with pytest.raises(ValidationError, match="health_checker_interval"):
        RedisConfig(health_checker_interval=0)
    off = RedisToolkit(config=RedisConfig(port=redis_server.port, health_check_enabled=False))
    assert off.health_checker is None
    off.close()


def test_the_design_config_keeps_working() -> None:
    config = RedisConfig(
        host="localhost",
        port=6379,
        max_connections=50,
        circuit_breaker_enabled=True,
        health_check_enabled=True,
    )
    assert (config.max_connections, config.circuit_breaker_enabled) == (50, True)
    assert config.health_check_enabled and config.health_checker_interval == 30.0


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
