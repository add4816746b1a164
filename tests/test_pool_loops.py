"""Async pools are bound to their event loop: two loops never share one."""

from __future__ import annotations

import asyncio

from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig, async_pool_manager
from tests.servers import RedisServer


def test_async_pools_are_per_event_loop(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    pools = []

    async def use() -> None:
        toolkit = AsyncRedisToolkit(config=config)
        assert await toolkit.health_check()
        pools.append(toolkit.client.connection_pool)
        assert toolkit.client.connection_pool is async_pool_manager.get_pool(config)
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()

    asyncio.run(use())
    asyncio.run(use())  # would fail with "attached to a different loop" if the pool were shared
    assert pools[0] is not pools[1]
