"""RedisConnectionConfig and RedisOptions: 0.4 fields, URLs, validation at construction, repr."""

from __future__ import annotations

import dataclasses

import pytest

from redis_toolkit import (
    DEFAULT_OPTIONS,
    RedisConfig,
    RedisConnectionConfig,
    RedisOptions,
    ValidationError,
)
from redis_toolkit.resilience import RetryPolicy

V04_CONFIG_FIELDS = {
    "host": "localhost", "port": 6379, "db": 0, "password": None, "username": None,
    "encoding": "utf-8", "socket_keepalive": True, "socket_keepalive_options": None,
    "retry_on_timeout": False, "retry_on_error": None, "health_check_interval": 30,
    "ssl": False, "ssl_keyfile": None, "ssl_certfile": None, "ssl_ca_certs": None,
    "ssl_cert_reqs": "required",
}  # fmt: skip
# 0.4's socket_timeout=None (a server that accepts and never answers hung a call forever) is the
# one 0.4 default changed on purpose: see test_every_wait_is_finite_by_default (issue 11).

V04_OPTION_FIELDS = {
    "is_logger_info": True, "max_log_size": 256, "log_level": "INFO", "log_path": None,
    "subscriber_retry_delay": 5, "subscriber_stop_timeout": 5,
    "max_value_size": 10 * 1024 * 1024, "max_key_length": 512, "enable_validation": True,
    "use_connection_pool": True, "max_connections": None,
    # 0.4's retry fields are aliases of the config's retry settings: None means "not set" (the
    # config's max_retries=3, retry_delay=0.1, factor 2 then apply; see test_resilience_wiring).
    "retry_attempts": None, "retry_delay": None, "retry_backoff": None,
    "enable_dynamic_subscription": True,
    "subscription_expire_minutes": 5.0, "subscription_check_interval": 30.0,
    "subscription_auto_cleanup": True, "subscription_max_expired": 100,
}  # fmt: skip


def test_every_0_4_config_field_and_default_is_kept() -> None:
    config = RedisConnectionConfig()
    for name, default in V04_CONFIG_FIELDS.items():
        assert getattr(config, name) == default, name
    assert RedisConfig is RedisConnectionConfig


def test_every_wait_is_finite_by_default() -> None:
    config = RedisConnectionConfig()
    assert config.connection_timeout == 5.0
    assert config.socket_timeout == 5.0
    assert config.pool_timeout == 5.0
    assert config.max_connections == 50
    assert config.attempt_timeout == 15.0
    assert config.retry_deadline == 20.0
    policy = RetryPolicy.from_settings(config)
    assert policy.deadline == 20.0 and policy.attempt_timeout == 15.0
    # A retry starts only if it can end by the deadline: after a fast failure it may, after a
    # timed-out attempt (5 s) it may not.
    assert policy.next_wait(attempt=0, elapsed=0.01) is not None
    assert policy.next_wait(attempt=0, elapsed=5.0) is None
    # None among the timeouts adds no bound of its own.
    assert RedisConnectionConfig(socket_timeout=None, pool_timeout=None).attempt_timeout == 5.0
    with pytest.raises(ValidationError, match="pool_timeout"):
        RedisConnectionConfig(pool_timeout=0)


def test_every_0_4_option_field_and_default_is_kept() -> None:
    options = RedisOptions()
    for name, default in V04_OPTION_FIELDS.items():
        assert getattr(options, name) == default, name
    assert DEFAULT_OPTIONS.serializer == "json"  # 0.4's wire format, byte for byte


def test_password_never_in_repr() -> None:
    config = RedisConnectionConfig(password="s3cret", url="redis://u:s3cret@h:1/2")
    assert "s3cret" not in repr(config)
    assert "s3cret" not in config.address
    assert config.redacted_url() == "redis://u:***@h:1/2"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://example:6380/3", {"host": "example", "port": 6380, "db": 3, "ssl": False}),
        ("rediss://u:p%40ss@example", {"ssl": True, "username": "u", "password": "p@ss"}),
        ("unix:///tmp/redis.sock?db=2", {"unix_socket_path": "/tmp/redis.sock", "db": 2}),
        ("memory://cache", {"embedded_name": "cache", "is_embedded": True}),
        ("memory://", {"embedded_name": "default"}),
    ],
)
def test_urls(url: str, expected: dict[str, object]) -> None:
    config = RedisConnectionConfig(url=url)
    for name, value in expected.items():
        assert getattr(config, name) == value, name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"db": -1}, "db"),
        ({"socket_timeout": 0}, "socket_timeout"),
        ({"connection_timeout": -1}, "connection_timeout"),
        ({"health_check_interval": -1}, "health_check_interval"),
        ({"ssl": True, "ssl_cert_reqs": "maybe"}, "ssl_cert_reqs"),
        ({"max_connections": 0}, "max_connections"),
        ({"min_connections": 5, "max_connections": 2}, "min_connections"),
        ({"protocol": 4}, "protocol"),
        ({"cluster_mode": True, "db": 1}, "only db 0"),
        ({"cluster_mode": True, "startup_nodes": ["nope"]}, "host:port"),
        ({"url": "http://x"}, "scheme"),
        ({"url": "redis://h/notanumber"}, "db"),
    ],
)
def test_bad_config_fails_at_construction(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RedisConnectionConfig(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # 0.4 raised ValueError: still caught the same way
        RedisConnectionConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_level": "LOUD"}, "log_level"),
        ({"max_value_size": 0}, "max_value_size"),
        ({"max_key_length": 0}, "max_key_length"),
        ({"retry_attempts": -1}, "retry_attempts"),
        ({"retry_backoff": 0.5}, "retry_backoff"),
        ({"serializer": "pickle"}, "serializer"),
        ({"log_path": "/no/such/dir/log.txt"}, "log_path"),
    ],
)
def test_bad_options_fail_at_construction(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RedisOptions(**kwargs)  # type: ignore[arg-type]


def test_startup_nodes_forms() -> None:
    config = RedisConnectionConfig(
        cluster_mode=True, startup_nodes=["a:1", ("b", 2), {"host": "c", "port": 3}]
    )
    assert config.cluster_nodes() == [("a", 1), ("b", 2), ("c", 3)]


def test_every_client_option_is_explicit() -> None:
    kwargs = RedisConnectionConfig().to_redis_kwargs()
    for name in ("socket_timeout", "socket_connect_timeout", "socket_keepalive",
                 "health_check_interval", "protocol", "decode_responses"):  # fmt: skip
        assert name in kwargs, name
    assert kwargs["decode_responses"] is False
    assert kwargs["protocol"] == 2


def test_pool_key_differs_for_ssl_timeouts_and_limits() -> None:
    base = RedisConnectionConfig()
    variants = [
        dataclasses.replace(base, ssl=True),
        dataclasses.replace(base, socket_timeout=1.0),
        dataclasses.replace(base, connection_timeout=1.0),
        dataclasses.replace(base, max_connections=5),
        dataclasses.replace(base, password="x"),
    ]
    keys = {base.pool_key(), *(v.pool_key() for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert RedisConnectionConfig().pool_key() == base.pool_key()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retry_strategy": "sometimes"}, "retry_strategy"),
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"max_retries": -1}, "max_retries"),
        ({"recovery_timeout": -1}, "recovery_timeout"),
        ({"retry_deadline": 0}, "retry_deadline"),
    ],
)
def test_bad_resilience_config_fails_at_construction(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        RedisConnectionConfig(**kwargs)  # type: ignore[arg-type]


def test_resilience_settings_do_not_split_pools() -> None:
    base = RedisConnectionConfig()
    tuned = dataclasses.replace(base, failure_threshold=9, max_retries=0, metrics_enabled=False)
    assert base.pool_key() == tuned.pool_key()
