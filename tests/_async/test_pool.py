"""The pool manager: pools shared only by configs that are really the same."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from redis_toolkit import (
    AsyncConnectionPoolManager,
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    async_pool_manager,
)
from redis_toolkit._async import pool as pool_module
from tests.servers import RedisServer


@pytest.fixture
async def config(redis_server: RedisServer) -> AsyncIterator[RedisConnectionConfig]:
    yield RedisConnectionConfig(host=redis_server.host, port=redis_server.port, password=None)
    await async_pool_manager.close_all_pools()


async def test_manager_is_a_singleton() -> None:
    assert AsyncConnectionPoolManager() is async_pool_manager


async def test_same_config_shares_a_pool(config: RedisConnectionConfig) -> None:
    same = RedisConnectionConfig(host=config.host, port=config.port)
    assert async_pool_manager.get_pool(config) is async_pool_manager.get_pool(same)


@pytest.mark.parametrize(
    "change",
    [{"socket_timeout": 1.5}, {"connection_timeout": 2.5}, {"max_connections": 3}, {"db": 1}],
)
async def test_different_config_gets_its_own_pool(
    config: RedisConnectionConfig, change: dict[str, object]
) -> None:
    other = dataclasses.replace(config, **change)
    assert async_pool_manager.get_pool(config) is not async_pool_manager.get_pool(other)


async def test_max_connections_argument_overrides_config(config: RedisConnectionConfig) -> None:
    pool = async_pool_manager.get_pool(config, 7)
    assert pool.max_connections == 7
    assert pool is not async_pool_manager.get_pool(config)


async def test_stats_close_pool_and_close_all(config: RedisConnectionConfig, prefix: str) -> None:
    toolkit = AsyncRedisToolkit(config=config)
    await toolkit.setter(f"{prefix}k", 1)
    stats = async_pool_manager.get_pool_stats()
    entry = stats[config.address]
    assert entry["kind"] == "standalone"
    assert entry["created_connections"] >= 1
    assert entry["in_use_connections"] == 0
    await toolkit.deleter(f"{prefix}k")
    await toolkit.aclose()
    assert await async_pool_manager.close_pool(config) is True
    assert await async_pool_manager.close_pool(config) is False
    assert config.address not in async_pool_manager.get_pool_stats()


async def test_stats_never_show_the_password(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port, password="pw!")
    async_pool_manager.get_pool(config)
    assert "pw!" not in repr(async_pool_manager.get_pool_stats())
    await async_pool_manager.close_all_pools()


async def test_unshared_client_has_its_own_pool(config: RedisConnectionConfig, prefix: str) -> None:
    toolkit = AsyncRedisToolkit(config=config, options=RedisOptions(use_connection_pool=False))
    try:
        assert toolkit.client.connection_pool is not async_pool_manager.get_pool(config)
        await toolkit.setter(f"{prefix}own", 1)
        assert await toolkit.getter(f"{prefix}own") == 1
        await toolkit.deleter(f"{prefix}own")
    finally:
        await toolkit.aclose()


async def test_passed_in_client_is_left_open(config: RedisConnectionConfig, prefix: str) -> None:
    client = async_pool_manager.create_client(config)
    toolkit = AsyncRedisToolkit(redis=client)
    await toolkit.setter(f"{prefix}mine", "v")
    await toolkit.aclose()
    assert await client.get(f"{prefix}mine") is not None  # still usable
    await client.delete(f"{prefix}mine")
    await client.aclose()


async def test_embedded_backend_shares_data_per_name(prefix: str) -> None:
    first = AsyncRedisToolkit.from_url(f"memory://{prefix}shared")
    second = AsyncRedisToolkit.from_url(f"memory://{prefix}shared")
    other = AsyncRedisToolkit.from_url(f"memory://{prefix}other")
    await first.setter("k", {"v": 1})
    assert await second.getter("k") == {"v": 1}
    assert await other.getter("k") is None
    assert async_pool_manager.get_pool(first.config) is None
    for toolkit in (first, second, other):
        await toolkit.aclose()


async def test_min_connections_are_opened_on_enter(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, min_connections=4, client_name="warm"
    )
    async with AsyncRedisToolkit(config=config):
        stats = async_pool_manager.get_pool_stats()[f"{config.address} (warm)"]
        assert stats["created_connections"] >= 4
        assert stats["in_use_connections"] == 0
    await async_pool_manager.close_all_pools()


async def test_warm_up_fills_the_pool_the_toolkit_uses(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, min_connections=3
    )
    options = RedisOptions(max_connections=20)  # 0.4's pool-size option overrides the config's
    async with AsyncRedisToolkit(config=config, options=options) as toolkit:
        pool = toolkit.client.connection_pool
        assert pool.max_connections == 20
        assert sum(pool_module._pool_counts(pool)) >= 3
    await async_pool_manager.close_all_pools()
