# Generated from tests/_async/test_cluster_basic.py by tools/run_unasync.py. DO NOT EDIT.
"""The toolkit on the private 6-node cluster: values and batches spread over every master."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from redis_toolkit import (
    RedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    pool_manager,
)
from tests.servers import RedisClusterNodes


@pytest.fixture
def cluster_toolkit(
    redis_cluster: RedisClusterNodes, prefix: str
) -> Iterator[RedisToolkit]:
    config = RedisConnectionConfig(
        cluster_mode=True, startup_nodes=redis_cluster.startup_nodes, socket_timeout=5.0
    )
    toolkit = RedisToolkit(config=config)
    yield toolkit
    keys = [k for k in toolkit.client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        toolkit.client.delete(*keys)
    toolkit.close()
    pool_manager.close_all_pools()


def test_values_on_cluster(cluster_toolkit: RedisToolkit, prefix: str) -> None:
    msgpack = RedisOptions(serializer="msgpack")  # the tuple comes back exact
    cluster_toolkit.setter(f"{prefix}a", {"x": (1, 2)}, ttl=60, options=msgpack)
    assert cluster_toolkit.getter(f"{prefix}a") == {"x": (1, 2)}
    left = cluster_toolkit.get_ttl(f"{prefix}a")
    assert left is not None and left > 58
    assert cluster_toolkit.deleter(f"{prefix}a") is True


def test_batches_span_every_master(
    cluster_toolkit: RedisToolkit, redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    mapping = {f"{prefix}{i}": i for i in range(300)}
    cluster_toolkit.batch_set(mapping)
    owners = {redis_cluster.master_for_key(k).port for k in list(mapping)[:50]}
    assert len(owners) == 3  # the keys really are spread over the three masters
    got = cluster_toolkit.batch_get(list(mapping))
    assert got == mapping
    cluster_toolkit.batch_set(mapping, ttl=30)
    left = cluster_toolkit.get_ttl(f"{prefix}7")
    assert left is not None and 28 < left <= 30
    assert cluster_toolkit.batch_delete(list(mapping)) == 300
