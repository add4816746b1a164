"""The module paths 0.4 users import from keep working, as re-exports of the same objects."""

from __future__ import annotations

import pytest
import redis

import redis_toolkit


def test_0_4_public_names() -> None:
    for name in ("RedisToolkit", "RedisOptions", "RedisConnectionConfig", "DEFAULT_OPTIONS",
                 "RedisToolkitError", "SerializationError", "ValidationError", "simple_retry",
                 "serialize_value", "deserialize_value", "pool_manager"):  # fmt: skip
        assert hasattr(redis_toolkit, name), name


def test_0_4_module_paths() -> None:
    from redis_toolkit.core import RedisToolkit
    from redis_toolkit.exceptions import RedisToolkitError, SerializationError, ValidationError
    from redis_toolkit.options import DEFAULT_OPTIONS, RedisConnectionConfig, RedisOptions
    from redis_toolkit.pool_manager import ConnectionPoolManager, pool_manager
    from redis_toolkit.utils import deserialize_value, serialize_value, simple_retry, with_retry
    from redis_toolkit.utils.retry import simple_retry as sr
    from redis_toolkit.utils.retry import with_retry as wr
    from redis_toolkit.utils.serializers import deserialize_value as dv
    from redis_toolkit.utils.serializers import serialize_value as sv

    assert RedisToolkit is redis_toolkit.RedisToolkit
    assert pool_manager is redis_toolkit.pool_manager
    assert ConnectionPoolManager() is pool_manager  # a singleton, as in 0.4
    assert sv is serialize_value is redis_toolkit.serialize_value
    assert dv is deserialize_value is redis_toolkit.deserialize_value
    assert sr is simple_retry and wr is with_retry
    assert issubclass(SerializationError, RedisToolkitError)
    assert issubclass(ValidationError, RedisToolkitError)
    assert DEFAULT_OPTIONS.max_key_length == 512
    assert RedisConnectionConfig and RedisOptions


def test_serialization_error_keeps_0_4_constructor() -> None:
    cause = ValueError("x")
    error = redis_toolkit.SerializationError("msg", {"d": 1}, cause)
    assert error.original_data == {"d": 1} and error.original_exception is cause


def test_simple_retry_retries_then_succeeds() -> None:
    calls: list[int] = []

    @redis_toolkit.simple_retry(max_retries=2, base_delay=0.001)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise redis.ConnectionError("down")
        return "ok"

    assert flaky() == "ok"
    assert len(calls) == 3


def test_simple_retry_gives_up_and_reraises() -> None:
    calls: list[int] = []

    @redis_toolkit.simple_retry
    def broken() -> None:
        calls.append(1)
        raise ValueError("not retried")

    with pytest.raises(ValueError):
        broken()
    assert len(calls) == 1


def test_with_retry_counts_attempts_and_calls_on_retry() -> None:
    seen: list[int] = []

    @redis_toolkit.with_retry(max_attempts=3, delay=0.001, on_retry=lambda e, n: seen.append(n))
    def always_down() -> None:
        raise redis.TimeoutError("slow")

    with pytest.raises(redis.TimeoutError):
        always_down()
    assert seen == [1, 2]


async def test_with_retry_decorates_async_functions() -> None:
    calls: list[int] = []

    @redis_toolkit.with_retry(max_attempts=3, delay=0.001)
    async def flaky() -> int:
        calls.append(1)
        if len(calls) < 2:
            raise redis.ConnectionError("down")
        return 7

    assert await flaky() == 7
    assert len(calls) == 2


def test_retry_decorators_also_retry_toolkit_connection_errors() -> None:
    calls: list[int] = []

    @redis_toolkit.with_retry(max_attempts=3, delay=0.001)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise redis_toolkit.ConnectionFailedError("GET on key 'k' failed: cannot reach Redis")
        return "ok"

    assert flaky() == "ok" and len(calls) == 3


def test_toolkit_errors_are_also_redis_py_errors() -> None:
    """0.4 let redis-py's connection errors through: `except redis.ConnectionError` still works."""
    assert issubclass(redis_toolkit.ConnectionFailedError, redis.ConnectionError)
    assert issubclass(redis_toolkit.OperationTimeoutError, redis.TimeoutError)


def test_remaining_0_4_module_names() -> None:
    from redis_toolkit.exceptions import wrap_redis_exceptions
    from redis_toolkit.options import DEFAULT_CONNECTION_CONFIG

    assert DEFAULT_CONNECTION_CONFIG.port == 6379

    @wrap_redis_exceptions
    def broken() -> None:
        raise redis.ResponseError("WRONGTYPE")

    with pytest.raises(redis_toolkit.RedisToolkitError):
        broken()


def test_subscription_manager_keeps_the_0_4_shape() -> None:
    from redis_toolkit.subscription_manager import SubscriptionManager

    with SubscriptionManager() as manager:
        assert manager.running
        manager.subscribe_dynamic("news", lambda c, v: None)
        stats = manager.get_statistics()
        assert stats["active_channels"] == ["news"] and stats["active_count"] == 1
        assert stats["expired_channels"] == [] and stats["total_messages"] == 0
    assert not manager.running
    assert SubscriptionManager().running is False  # as in 0.4, until started or used


def test_0_4_logging_options_write_the_log_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import logging

    log = tmp_path / "toolkit.log"
    options = redis_toolkit.RedisOptions(log_path=str(log), log_level="INFO")
    toolkit = redis_toolkit.RedisToolkit.from_url("memory://logging", options=options)
    try:
        toolkit.setter("greeting", {"hello": "world"})
        for handler in logging.getLogger("redis_toolkit").handlers:
            handler.flush()
        text = log.read_text()
        assert "set 'greeting'" in text and "world" in text
    finally:
        toolkit.close()
        for handler in list(logging.getLogger("redis_toolkit").handlers):
            if getattr(handler, "baseFilename", "") == str(log):
                logging.getLogger("redis_toolkit").removeHandler(handler)
                handler.close()


def test_batch_limit_follows_max_value_size_as_in_0_4() -> None:
    assert redis_toolkit.RedisOptions(max_value_size=100).batch_limit == 1000
    assert redis_toolkit.RedisOptions(max_batch_size=5).batch_limit == 5
