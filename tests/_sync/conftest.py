# Generated from tests/_async/conftest.py by tools/run_unasync.py. DO NOT EDIT.
"""Toolkit fixtures for the I/O tests, written once (tests/_sync/conftest.py is generated).

``toolkit`` runs each test on the private real server and on the embedded backend
(``memory://``), and on the private 6-node cluster too for tests marked ``cluster_too`` (see
tests/conftest.py); ``toolkit_server`` only on the real server, for what fakeredis cannot show.
In the sync tree they are ``toolkit`` and ``toolkit_server``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from redis_toolkit import RedisToolkit, RedisConnectionConfig, RedisOptions, pool_manager
from tests.servers import RedisClusterNodes, RedisServer


def cluster_config(cluster: RedisClusterNodes, **fields: object) -> RedisConnectionConfig:
    """A config for the private cluster, as the tests use it."""
    return RedisConnectionConfig(
        cluster_mode=True,
        startup_nodes=[{"host": h, "port": p} for h, p in cluster.startup_nodes],
        socket_timeout=5.0,
        **fields,  # type: ignore[arg-type]
    )


def _make(backend: str, server: Any, prefix: str) -> RedisToolkit:
    if backend == "embedded":
        return RedisToolkit.from_url(f"memory://{prefix}")
    if backend == "cluster":
        return RedisToolkit(
            config=cluster_config(server), options=RedisOptions(is_logger_info=False)
        )
    assert server is not None
    return RedisToolkit(
        config=RedisConnectionConfig(host=server.host, port=server.port, socket_timeout=5.0),
        options=RedisOptions(is_logger_info=False),
    )


def _drop_keys(toolkit: RedisToolkit, prefix: str) -> None:
    keys = [key for key in toolkit.client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        toolkit.client.delete(*keys)


@pytest.fixture(params=["server", "embedded"])
def toolkit(request: pytest.FixtureRequest, prefix: str) -> Iterator[RedisToolkit]:
    """A toolkit on the private server, then on the embedded backend (then on the cluster)."""
    fixture = {"server": "redis_server", "cluster": "redis_cluster"}.get(request.param)
    server = request.getfixturevalue(fixture) if fixture is not None else None
    toolkit = _make(request.param, server, prefix)
    yield toolkit
    _drop_keys(toolkit, prefix)
    toolkit.close()
    pool_manager.close_all_pools()


@pytest.fixture
def cluster_toolkit(
    redis_cluster: RedisClusterNodes, prefix: str
) -> Iterator[RedisToolkit]:
    """A toolkit on the private cluster only."""
    toolkit = _make("cluster", redis_cluster, prefix)
    yield toolkit
    _drop_keys(toolkit, prefix)
    toolkit.close()
    pool_manager.close_all_pools()


@pytest.fixture
def toolkit_server(
    redis_server: RedisServer, prefix: str
) -> Iterator[RedisToolkit]:
    """A toolkit on the private real server only."""
    toolkit = _make("server", redis_server, prefix)
    yield toolkit
    _drop_keys(toolkit, prefix)
    toolkit.close()
    pool_manager.close_all_pools()
