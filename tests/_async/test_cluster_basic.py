"""The toolkit on the private 6-node cluster: values and batches spread over every master."""

from __future__ import annotations

import pytest

from redis_toolkit import AsyncRedisToolkit, RedisOptions, RedisToolkitError
from tests.servers import RedisClusterNodes


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


async def test_batch_get_of_a_key_of_another_type_raises_on_cluster(
    acluster_toolkit: AsyncRedisToolkit, prefix: str
) -> None:
    keys = [f"{prefix}{i}" for i in range(50)]
    await acluster_toolkit.batch_set({key: i for i, key in enumerate(keys[:25])})
    await acluster_toolkit.client.hset(keys[40], "f", "v")
    with pytest.raises(RedisToolkitError, match="WRONGTYPE") as info:
        await acluster_toolkit.batch_get(keys)
    assert info.value.key == keys[40]
    got = await acluster_toolkit.batch_get(keys[:40])
    assert got == {key: (i if i < 25 else None) for i, key in enumerate(keys[:40])}
