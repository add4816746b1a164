"""The toolkit on the private 6-node cluster: values and batches spread over every master."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    async_pool_manager,
)
from tests.servers import RedisClusterNodes


@pytest.fixture
async def acluster_toolkit(
    redis_cluster: RedisClusterNodes, prefix: str
) -> AsyncIterator[AsyncRedisToolkit]:
    config = RedisConnectionConfig(
        cluster_mode=True, startup_nodes=redis_cluster.startup_nodes, socket_timeout=5.0
    )
    toolkit = AsyncRedisToolkit(config=config)
    yield toolkit
    keys = [k async for k in toolkit.client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await toolkit.client.delete(*keys)
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()


async def test_values_on_cluster(acluster_toolkit: AsyncRedisToolkit, prefix: str) -> None:
    msgpack = RedisOptions(serializer="msgpack")  # the tuple comes back exact
    await acluster_toolkit.setter(f"{prefix}a", {"x": (1, 2)}, ttl=60, options=msgpack)
    assert await acluster_toolkit.getter(f"{prefix}a") == {"x": (1, 2)}
    left = await acluster_toolkit.get_ttl(f"{prefix}a")
    assert left is not None and left > 58
    assert await acluster_toolkit.deleter(f"{prefix}a") is True


async def test_batches_span_every_master(
    acluster_toolkit: AsyncRedisToolkit, redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    mapping = {f"{prefix}{i}": i for i in range(300)}
    await acluster_toolkit.batch_set(mapping)
    owners = {redis_cluster.master_for_key(k).port for k in list(mapping)[:50]}
    assert len(owners) == 3  # the keys really are spread over the three masters
    got = await acluster_toolkit.batch_get(list(mapping))
    assert got == mapping
    await acluster_toolkit.batch_set(mapping, ttl=30)
    left = await acluster_toolkit.get_ttl(f"{prefix}7")
    assert left is not None and 28 < left <= 30
    assert await acluster_toolkit.batch_delete(list(mapping)) == 300
