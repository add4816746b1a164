"""Toolkit fixtures for the I/O tests, written once (tests/_sync/conftest.py is generated).

``atoolkit`` runs each test on the private real server and on the embedded backend
(``memory://``), and on the private 6-node cluster too for tests marked ``cluster_too`` (see
tests/conftest.py); ``atoolkit_server`` only on the real server, for what fakeredis cannot show.
In the sync tree they are ``toolkit`` and ``toolkit_server``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig, RedisOptions, async_pool_manager
from tests.servers import RedisClusterNodes, RedisServer


def cluster_config(cluster: RedisClusterNodes, **fields: object) -> RedisConnectionConfig:
    """A config for the private cluster, as the tests use it."""
    return RedisConnectionConfig(
        cluster_mode=True,
        startup_nodes=[{"host": h, "port": p} for h, p in cluster.startup_nodes],
        socket_timeout=5.0,
        **fields,  # type: ignore[arg-type]
    )


async def _make(backend: str, server: Any, prefix: str) -> AsyncRedisToolkit:
    if backend == "embedded":
        return AsyncRedisToolkit.from_url(f"memory://{prefix}")
    if backend == "cluster":
        return AsyncRedisToolkit(
            config=cluster_config(server), options=RedisOptions(is_logger_info=False)
        )
    assert server is not None
    return AsyncRedisToolkit(
        config=RedisConnectionConfig(host=server.host, port=server.port, socket_timeout=5.0),
        options=RedisOptions(is_logger_info=False),
    )


async def _drop_keys(toolkit: AsyncRedisToolkit, prefix: str) -> None:
    keys = [key async for key in toolkit.client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await toolkit.client.delete(*keys)


@pytest.fixture(params=["server", "embedded"])
async def atoolkit(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[AsyncRedisToolkit]:
    """A toolkit on the private server, then on the embedded backend (then on the cluster)."""
    fixture = {"server": "redis_server", "cluster": "redis_cluster"}.get(request.param)
    server = request.getfixturevalue(fixture) if fixture is not None else None
    toolkit = await _make(request.param, server, prefix)
    yield toolkit
    await _drop_keys(toolkit, prefix)
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()


@pytest.fixture
async def acluster_toolkit(
    redis_cluster: RedisClusterNodes, prefix: str
) -> AsyncIterator[AsyncRedisToolkit]:
    """A toolkit on the private cluster only."""
    toolkit = await _make("cluster", redis_cluster, prefix)
    yield toolkit
    await _drop_keys(toolkit, prefix)
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()


@pytest.fixture
async def atoolkit_server(
    redis_server: RedisServer, prefix: str
) -> AsyncIterator[AsyncRedisToolkit]:
    """A toolkit on the private real server only."""
    toolkit = await _make("server", redis_server, prefix)
    yield toolkit
    await _drop_keys(toolkit, prefix)
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()
