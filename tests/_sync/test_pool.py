# Generated from tests/_async/test_pool.py by tools/run_unasync.py. DO NOT EDIT.
"""The pool manager: pools shared only by configs that are really the same."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from redis_toolkit import (
    ConnectionPoolManager,
    RedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    pool_manager,
)
from redis_toolkit._sync import pool as pool_module
from tests.servers import RedisServer


@pytest.fixture
def config(redis_server: RedisServer) -> Iterator[RedisConnectionConfig]:
    yield RedisConnectionConfig(host=redis_server.host, port=redis_server.port, password=None)
    pool_manager.close_all_pools()


def test_manager_is_a_singleton() -> None:
    assert ConnectionPoolManager() is pool_manager


def test_same_config_shares_a_pool(config: RedisConnectionConfig) -> None:
    same = RedisConnectionConfig(host=config.host, port=config.port)
    assert pool_manager.get_pool(config) is pool_manager.get_pool(same)


@pytest.mark.parametrize(
    "change",
    [{"socket_timeout": 1.5}, {"connection_timeout": 2.5}, {"max_connections": 3}, {"db": 1}],
)
def test_different_config_gets_its_own_pool(
    config: RedisConnectionConfig, change: dict[str, object]
) -> None:
    other = dataclasses.replace(config, **change)
    assert pool_manager.get_pool(config) is not pool_manager.get_pool(other)


def test_max_connections_argument_overrides_config(config: RedisConnectionConfig) -> None:
    pool = pool_manager.get_pool(config, 7)
    assert pool.max_connections == 7
    assert pool is not pool_manager.get_pool(config)


def test_stats_close_pool_and_close_all(config: RedisConnectionConfig, prefix: str) -> None:
    toolkit = RedisToolkit(config=config)
    toolkit.setter(f"{prefix}k", 1)
    stats = pool_manager.get_pool_stats()
    entry = stats[config.address]
    assert entry["kind"] == "standalone"
    assert entry["created_connections"] >= 1
    assert entry["in_use_connections"] == 0
    toolkit.deleter(f"{prefix}k")
    toolkit.close()
    assert pool_manager.close_pool(config) is True
    assert pool_manager.close_pool(config) is False
    assert config.address not in pool_manager.get_pool_stats()


def test_stats_never_show_the_password(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port, password="pw!")
    pool_manager.get_pool(config)
    assert "pw!" not in repr(pool_manager.get_pool_stats())
    pool_manager.close_all_pools()


def test_unshared_client_has_its_own_pool(config: RedisConnectionConfig, prefix: str) -> None:
    toolkit = RedisToolkit(config=config, options=RedisOptions(use_connection_pool=False))
    try:
        assert toolkit.client.connection_pool is not pool_manager.get_pool(config)
        toolkit.setter(f"{prefix}own", 1)
        assert toolkit.getter(f"{prefix}own") == 1
        toolkit.deleter(f"{prefix}own")
    finally:
        toolkit.close()


def test_passed_in_client_is_left_open(config: RedisConnectionConfig, prefix: str) -> None:
    client = pool_manager.create_client(config)
    toolkit = RedisToolkit(redis=client)
    toolkit.setter(f"{prefix}mine", "v")
    toolkit.close()
    assert client.get(f"{prefix}mine") is not None  # still usable
    client.delete(f"{prefix}mine")
    client.close()


def test_embedded_backend_shares_data_per_name(prefix: str) -> None:
    first = RedisToolkit.from_url(f"memory://{prefix}shared")
    second = RedisToolkit.from_url(f"memory://{prefix}shared")
    other = RedisToolkit.from_url(f"memory://{prefix}other")
    first.setter("k", {"v": 1})
    assert second.getter("k") == {"v": 1}
    assert other.getter("k") is None
    assert pool_manager.get_pool(first.config) is None
    for toolkit in (first, second, other):
        toolkit.close()


def test_min_connections_are_opened_on_enter(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, min_connections=4, client_name="warm"
    )
    with RedisToolkit(config=config):
        stats = pool_manager.get_pool_stats()[f"{config.address} (warm)"]
        assert stats["created_connections"] >= 4
        assert stats["in_use_connections"] == 0
    pool_manager.close_all_pools()


def test_warm_up_fills_the_pool_the_toolkit_uses(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, min_connections=3
    )
    options = RedisOptions(max_connections=20)  # 0.4's pool-size option overrides the config's
    with RedisToolkit(config=config, options=options) as toolkit:
        pool = toolkit.client.connection_pool
        assert pool.max_connections == 20
        assert sum(pool_module._pool_counts(pool)) >= 3
    pool_manager.close_all_pools()
