"""A FastAPI app over the async toolkit: one toolkit per app, opened and closed by the lifespan.

    pip install fastapi httpx uvicorn
    uvicorn examples.async.fastapi_integration:app        # serve it (REDIS_URL picks the server)
    python examples/async/fastapi_integration.py          # drive it in-process, no server needed

Endpoints: values (PUT/GET/DELETE /values/{key}), batches (POST /batch, GET /batch?keys=...),
publish (POST /publish/{channel}), health (GET /health) and metrics (GET /metrics).
Running this file drives the app through httpx's ASGI transport with concurrent requests.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException, Query, Request

from redis_toolkit.asyncio import RedisToolkit


def create_app(url: str | None = None, prefix: str = "app:") -> FastAPI:
    """The app; its toolkit lives in ``app.state.toolkit`` between startup and shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Created inside the lifespan: the toolkit belongs to the server's event loop.
        toolkit = RedisToolkit.from_url(url or os.environ.get("REDIS_URL", "memory://fastapi"))
        async with toolkit:  # pings on entry, closes the pool on shutdown
            app.state.toolkit = toolkit
            yield

    app = FastAPI(title="redis_toolkit example", lifespan=lifespan)

    def toolkit_of(request: Request) -> RedisToolkit:
        return request.app.state.toolkit  # type: ignore[no-any-return]

    @app.put("/values/{key}")
    async def put_value(
        key: str, request: Request, value: Annotated[Any, Body()], ttl: float | None = None
    ) -> dict[str, Any]:
        written = await toolkit_of(request).setter(prefix + key, value, ttl=ttl)
        return {"key": key, "written": written}

    @app.get("/values/{key}")
    async def get_value(key: str, request: Request) -> dict[str, Any]:
        toolkit = toolkit_of(request)
        missing = object()
        value = await toolkit.getter(prefix + key, default=missing)
        if value is missing:
            raise HTTPException(status_code=404, detail=f"no value at {key!r}")
        return {"key": key, "value": value}

    @app.delete("/values/{key}")
    async def delete_value(key: str, request: Request) -> dict[str, Any]:
        return {"key": key, "deleted": await toolkit_of(request).deleter(prefix + key)}

    @app.post("/batch")
    async def put_batch(
        request: Request, items: Annotated[dict[str, Any], Body()]
    ) -> dict[str, int]:
        await toolkit_of(request).batch_set({prefix + k: v for k, v in items.items()})
        return {"written": len(items)}

    @app.get("/batch")
    async def get_batch(request: Request, keys: Annotated[list[str], Query()]) -> dict[str, Any]:
        values = await toolkit_of(request).batch_get([prefix + k for k in keys])
        return {k: values[prefix + k] for k in keys}

    @app.post("/publish/{channel}")
    async def publish(
        channel: str, request: Request, message: Annotated[Any, Body()]
    ) -> dict[str, int]:
        return {"receivers": await toolkit_of(request).publisher(prefix + channel, message)}

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        toolkit = toolkit_of(request)
        return {"ok": await toolkit.health_check(), "status": toolkit.get_health_status()}

    @app.get("/metrics")
    async def metrics(request: Request) -> dict[str, Any]:
        return toolkit_of(request).get_metrics()

    return app


app = create_app()


async def main() -> None:
    import httpx

    prefix = f"example:fastapi:{uuid.uuid4().hex[:6]}:"
    demo = create_app(prefix=prefix)
    # httpx's ASGI transport sends no lifespan events: run the lifespan around the client.
    async with demo.router.lifespan_context(demo):
        transport = httpx.ASGITransport(app=demo)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            users = range(50)
            puts = [http.put(f"/values/user:{i}", json={"id": i, "name": f"u{i}"}) for i in users]
            assert all(r.status_code == 200 for r in await asyncio.gather(*puts))
            gets = await asyncio.gather(*(http.get(f"/values/user:{i}") for i in users))
            right = sum(r.json()["value"]["id"] == i for i, r in zip(users, gets))
            print(f"50 concurrent writes, then reads: {right} right")
            await http.post("/batch", json={"a": 1, "b": [1, 2], "c": None})
            print("batch:", (await http.get("/batch", params={"keys": ["a", "b", "c"]})).json())
            print("publish:", (await http.post("/publish/news", json={"title": "hi"})).json())
            print("missing:", (await http.get("/values/nope")).status_code)
            print("health:", (await http.get("/health")).json()["ok"])
            metrics = (await http.get("/metrics")).json()
            print(f"operations: {metrics['total_operations']}, success: {metrics['success_rate']}")
            for i in range(50):
                await http.delete(f"/values/user:{i}")
            await demo.state.toolkit.batch_delete([prefix + k for k in "abc"])


if __name__ == "__main__":
    asyncio.run(main())
