"""examples/async/fastapi_integration.py driven through httpx's ASGI transport (async only).

Concurrent requests against the private real server and the embedded backend; the lifespan
opens the toolkit and closes it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from redis_toolkit import AsyncRedisToolkit, async_pool_manager

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "async" / "fastapi_integration.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_integration_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["server", "embedded"])
async def app_and_http(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[Any, httpx.AsyncClient, str]]:
    if request.param == "server":
        url = request.getfixturevalue("redis_server").url
    else:
        url = f"memory://fastapi-{uuid.uuid4().hex[:6]}"
    prefix = f"t:fastapi:{uuid.uuid4().hex[:8]}:"
    app = load_example().create_app(url, prefix)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            yield app, http, prefix
        keys = [k async for k in app.state.toolkit.client.scan_iter(match=f"{prefix}*")]
        if keys:
            await app.state.toolkit.client.delete(*keys)
    assert app.state.toolkit.closed  # the lifespan closed it
    await async_pool_manager.close_all_pools()


async def test_concurrent_values_round_trip(app_and_http) -> None:
    app, http, prefix = app_and_http
    ids = range(60)
    puts = await asyncio.gather(
        *(http.put(f"/values/u{i}", json={"id": i, "tags": ["a", i]}) for i in ids)
    )
    assert [r.status_code for r in puts] == [200] * 60
    assert all(r.json() == {"key": f"u{i}", "written": True} for i, r in zip(ids, puts))
    gets = await asyncio.gather(*(http.get(f"/values/u{i}") for i in ids))
    assert [r.json()["value"] for r in gets] == [{"id": i, "tags": ["a", i]} for i in ids]
    # stored under the app's prefix, readable by any toolkit client
    assert await app.state.toolkit.getter(f"{prefix}u7") == {"id": 7, "tags": ["a", 7]}
    deletes = await asyncio.gather(*(http.delete(f"/values/u{i}") for i in ids))
    assert all(r.json()["deleted"] is True for r in deletes)
    missing = await http.get("/values/u1")
    assert missing.status_code == 404 and "u1" in missing.json()["detail"]


async def test_ttl_and_batches(app_and_http) -> None:
    app, http, prefix = app_and_http
    assert (
        await http.put("/values/short", json="soon gone", params={"ttl": 30})
    ).status_code == 200
    ttl = await app.state.toolkit.get_ttl(f"{prefix}short")
    assert ttl is not None and 0 < ttl <= 30
    items = {f"b{i}": {"n": i} for i in range(20)}
    assert (await http.post("/batch", json=items)).json() == {"written": 20}
    got = await http.get("/batch", params={"keys": [*items, "absent"]})
    assert got.json() == {**items, "absent": None}


async def test_publish_reaches_a_subscriber(app_and_http) -> None:
    app, http, prefix = app_and_http
    toolkit: AsyncRedisToolkit = app.state.toolkit
    got: list[Any] = []
    arrived = asyncio.Event()

    async def handler(channel: str, value: Any) -> None:
        got.append((channel, value))
        arrived.set()

    assert await toolkit.start_subscriber([f"{prefix}news"], handler)
    reply = await http.post("/publish/news", json={"title": "hello"})
    assert reply.json() == {"receivers": 1}
    await asyncio.wait_for(arrived.wait(), 10)
    assert got == [(f"{prefix}news", {"title": "hello"})]
    await toolkit.stop_subscriber()


async def test_health_and_metrics_under_concurrency(app_and_http) -> None:
    app, http, prefix = app_and_http
    replies = await asyncio.gather(*(http.get("/health") for _ in range(20)))
    assert all(r.status_code == 200 and r.json()["ok"] is True for r in replies)
    await asyncio.gather(*(http.put(f"/values/m{i}", json=i) for i in range(10)))
    metrics = (await http.get("/metrics")).json()
    assert metrics["total_operations"] >= 10
    # per command: the background health check of a loaded machine must not make this flaky
    assert metrics["commands"]["SET"]["total"] >= 10
    assert metrics["commands"]["SET"]["failures"] == 0
