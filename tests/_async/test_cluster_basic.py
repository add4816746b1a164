"""The toolkit on the private 6-node cluster: values and batches spread over every master."""

from __future__ import annotations

from redis_toolkit import AsyncRedisToolkit
from tests.servers import RedisClusterNodes


async def test_values_on_cluster(acluster_toolkit: AsyncRedisToolkit, prefix: str) -> None:
    await acluster_toolkit.setter(f"{prefix}a", {"x": (1, 2)}, ttl=60)
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
