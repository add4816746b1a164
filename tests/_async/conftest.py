"""Toolkit fixtures for the I/O tests, written once (tests/_sync/conftest.py is generated).

``atoolkit`` runs each test on the private real server and on the embedded backend
(``memory://``); ``atoolkit_server`` only on the real server, for what fakeredis cannot show.
In the sync tree they are ``toolkit`` and ``toolkit_server``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig, RedisOptions, async_pool_manager
from tests.servers import RedisServer


async def _make(backend: str, server: RedisServer | None, prefix: str) -> AsyncRedisToolkit:
    if backend == "embedded":
        return AsyncRedisToolkit.from_url(f"memory://{prefix}")
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
    """A toolkit on the private server, then on the embedded backend."""
    server = request.getfixturevalue("redis_server") if request.param == "server" else None
    toolkit = await _make(request.param, server, prefix)
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
