"""Cluster configuration (pure): the design's fields, validate_cluster_config(),
get_cluster_options() and the redis+cluster:// URL form."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import LoadBalancingStrategy

from redis_toolkit import (
    ClusterConfigError,
    ClusterValidationError,
    RedisConnectionConfig,
    ValidationError,
)


def design_config(**fields: object) -> RedisConnectionConfig:
    values: dict[str, object] = dict(
        cluster_mode=True,
        startup_nodes=[{"host": "127.0.0.1", "port": 7000}, {"host": "127.0.0.1", "port": 7001}],
        skip_full_coverage_check=False,
        max_connections_per_node=32,
        readonly_mode=False,
    )
    values.update(fields)
    return RedisConnectionConfig(**values)  # type: ignore[arg-type]


def test_the_design_form_validates_and_gives_cluster_options() -> None:
    config = design_config()
    assert config.validate_cluster_config() is None
    assert config.cluster_nodes() == [("127.0.0.1", 7000), ("127.0.0.1", 7001)]
    options = config.get_cluster_options()
    assert options["require_full_coverage"] is True
    assert options["max_connections"] == 32
    assert options["load_balancing_strategy"] is None
    assert options["protocol"] == 2
    for absent in ("startup_nodes", "decode_responses", "host", "port", "db"):
        assert absent not in options
    # The design's call shape works with redis-py's cluster client (created, not connected).
    nodes = [ClusterNode(h, p) for h, p in config.cluster_nodes()]
    client = AsyncRedisCluster(startup_nodes=nodes, decode_responses=False, **options)
    assert client.get_connection_kwargs()["protocol"] == 2


def test_readonly_mode_and_coverage_map_to_redis_py() -> None:
    options = design_config(readonly_mode=True, skip_full_coverage_check=True).get_cluster_options()
    assert options["load_balancing_strategy"] is LoadBalancingStrategy.ROUND_ROBIN
    assert options["require_full_coverage"] is False
    unbounded = design_config(max_connections_per_node=None).get_cluster_options()
    assert "max_connections" not in unbounded


@pytest.mark.parametrize(
    ("fields", "field_named"),
    [
        ({"startup_nodes": ["nope"]}, "startup_nodes"),
        ({"startup_nodes": [{"host": "h"}]}, "startup_nodes"),
        ({"startup_nodes": [("h", 0)]}, "startup_nodes"),
        ({"startup_nodes": [("", 7000)]}, "startup_nodes"),
        ({"startup_nodes": [("h", "x")]}, "startup_nodes"),
        ({"startup_nodes": "h:7000"}, "startup_nodes"),
        ({"max_connections_per_node": 0}, "max_connections_per_node"),
        ({"max_connections_per_node": True}, "max_connections_per_node"),
        ({"readonly_mode": "yes"}, "readonly_mode"),
        ({"skip_full_coverage_check": 1}, "skip_full_coverage_check"),
        ({"db": 2}, "db"),
        ({"unix_socket_path": "/tmp/r.sock"}, "unix_socket_path"),
    ],
)
def test_bad_cluster_settings_name_the_field(fields: dict[str, object], field_named: str) -> None:
    with pytest.raises(ClusterValidationError, match=field_named) as info:
        design_config(**fields)
    assert isinstance(info.value, ClusterConfigError) and isinstance(info.value, ValidationError)


def test_validate_cluster_config_checks_fields_changed_later() -> None:
    config = design_config()
    config.startup_nodes = [{"host": "h", "port": 99999}]
    with pytest.raises(ClusterValidationError, match="startup_nodes"):
        config.validate_cluster_config()


def test_startup_nodes_are_ignored_without_cluster_mode_but_still_typed() -> None:
    assert RedisConnectionConfig(startup_nodes=["h:1"]).cluster_mode is False
    with pytest.raises(ClusterValidationError, match="max_connections_per_node"):
        RedisConnectionConfig(max_connections_per_node=-1)


def test_cluster_url_names_every_startup_node() -> None:
    config = RedisConnectionConfig(url="redis+cluster://h1:7000,h2:7001, h3")
    assert config.cluster_mode is True
    assert config.startup_nodes == [
        {"host": "h1", "port": 7000},
        {"host": "h2", "port": 7001},
        {"host": "h3", "port": 6379},
    ]
    assert (config.host, config.port, config.ssl) == ("h1", 7000, False)
    assert config.address == "cluster h1:7000,h2:7001,h3:6379"


def test_cluster_url_credentials_tls_options_and_redaction() -> None:
    url = (
        "rediss+cluster://app:p%40ss@[::1]:7000,10.0.0.2:7001/0"
        "?readonly_mode=true&skip_full_coverage_check=0&max_connections_per_node=8"
    )
    config = RedisConnectionConfig(url=url)
    assert (config.username, config.password, config.ssl) == ("app", "p@ss", True)
    assert config.cluster_nodes() == [("::1", 7000), ("10.0.0.2", 7001)]
    assert config.readonly_mode is True and config.skip_full_coverage_check is False
    assert config.max_connections_per_node == 8
    redacted = config.redacted_url()
    assert redacted is not None and "p%40ss" not in redacted and "app:***@" in redacted
    assert "p@ss" not in repr(config)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+cluster://", "names no node"),
        ("redis+cluster://h1:7000,h2:x", "startup_nodes"),
        ("redis+cluster://h1:7000/3", "db"),
        ("redis+cluster://h1:7000?readonly_mode=maybe", "readonly_mode"),
        ("redis+cluster://h1:7000?max_connections_per_node=lots", "max_connections_per_node"),
    ],
)
def test_bad_cluster_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RedisConnectionConfig(url=url)


def test_plain_urls_are_unchanged() -> None:
    config = RedisConnectionConfig(url="redis://u:pw@h:6380/2")
    assert (config.cluster_mode, config.host, config.port, config.db) == (False, "h", 6380, 2)
    assert config.redacted_url() == "redis://u:***@h:6380/2"
    assert RedisConnectionConfig(url="redis://:pw@h").redacted_url() == "redis://:***@h"
    assert RedisConnectionConfig(url="redis://h:1").redacted_url() == "redis://h:1"
    with pytest.raises(ValidationError, match="redis\\+cluster://"):
        RedisConnectionConfig(url="cluster://h:1")
