"""Async only: concurrent tasks' commands share pipelined round trips, each keeping its result."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkitError,
    async_pool_manager,
)
from tests.servers import RedisServer


@pytest.fixture
async def config(redis_server: RedisServer) -> AsyncIterator[RedisConnectionConfig]:
    yield RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    await async_pool_manager.close_all_pools()


def connections(config: RedisConnectionConfig) -> int:
    return int(async_pool_manager.get_pool_stats()[config.address]["created_connections"])


async def test_concurrent_commands_share_connections_and_keep_results(
    config: RedisConnectionConfig, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit(config=config)
    try:
        await asyncio.gather(*(toolkit.setter(f"{prefix}{i}", {"i": i}) for i in range(300)))
        values = await asyncio.gather(*(toolkit.getter(f"{prefix}{i}") for i in range(300)))
        assert values == [{"i": i} for i in range(300)]
        # 600 commands from 300 concurrent tasks went over a handful of connections: one for
        # the first command, the rest in pipelines.
        assert connections(config) <= 3
        await toolkit.batch_delete([f"{prefix}{i}" for i in range(300)])
    finally:
        await toolkit.aclose()


async def test_without_auto_pipeline_each_task_takes_a_connection(
    config: RedisConnectionConfig, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit(config=config, options=RedisOptions(auto_pipeline=False))
    try:
        await asyncio.gather(*(toolkit.setter(f"{prefix}{i}", i) for i in range(50)))
        assert connections(config) > 3  # the contrast that makes the test above meaningful
        await toolkit.batch_delete([f"{prefix}{i}" for i in range(50)])
    finally:
        await toolkit.aclose()


async def test_an_error_in_a_shared_round_trip_stays_with_its_command(
    config: RedisConnectionConfig, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit(config=config)
    try:
        await toolkit.client.rpush(f"{prefix}list", "x")  # GET on a list: WRONGTYPE
        await toolkit.setter(f"{prefix}ok", "fine")
        results = await asyncio.gather(
            toolkit.getter(f"{prefix}ok"),
            toolkit.getter(f"{prefix}list"),
            toolkit.getter(f"{prefix}ok"),
            return_exceptions=True,
        )
        assert results[0] == "fine" and results[2] == "fine"
        assert isinstance(results[1], RedisToolkitError) and "WRONGTYPE" in str(results[1])
        await toolkit.batch_delete([f"{prefix}list", f"{prefix}ok"])
    finally:
        await toolkit.aclose()


async def test_a_cancelled_caller_does_not_disturb_the_others(
    config: RedisConnectionConfig, prefix: str
) -> None:
    toolkit = AsyncRedisToolkit(config=config)
    try:
        await toolkit.setter(f"{prefix}k", 1)
        tasks = [asyncio.ensure_future(toolkit.getter(f"{prefix}k")) for _ in range(20)]
        tasks[5].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[5], asyncio.CancelledError)
        assert [r for i, r in enumerate(results) if i != 5] == [1] * 19
        assert await toolkit.getter(f"{prefix}k") == 1
        await toolkit.deleter(f"{prefix}k")
    finally:
        await toolkit.aclose()


class _BrokenInt(int):
    """An int whose text form raises: redis-py cannot encode it."""

    def __repr__(self) -> str:
        raise ValueError("broken __repr__")

    __str__ = __repr__


@pytest.mark.parametrize("bad", ["unencodable object", "broken int", "lone surrogate", "reply"])
async def test_one_bad_command_never_fails_4000_concurrent_getters(
    config: RedisConnectionConfig, prefix: str, bad: str
) -> None:
    toolkit = AsyncRedisToolkit(config=config)
    commands = toolkit._commands  # the coalescer: what the toolkit's own checks stand in front of
    assert hasattr(commands, "_flush")

    def refuse_bad_reply(response: Any, **options: Any) -> Any:
        if response == b"bad reply":
            raise ValueError("this reply fails to parse")
        return response

    toolkit.client.set_response_callback("ECHO", refuse_bad_reply)
    bad_calls = {
        "unencodable object": lambda: commands.set(f"{prefix}bad", object()),
        "broken int": lambda: commands.set(f"{prefix}bad", _BrokenInt(7)),
        "lone surrogate": lambda: commands.get(f"{prefix}\ud800"),
        "reply": lambda: commands.echo("bad reply"),
    }
    try:
        await toolkit.setter(f"{prefix}k", "v")
        calls = [toolkit.getter(f"{prefix}k") for _ in range(4000)]
        for at in (1, 700, 2100, 3999):  # one bad command in several batches
            calls.insert(at, bad_calls[bad]())
        results = await asyncio.gather(*calls, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 4, failed[:3]
        assert [r for r in results if not isinstance(r, BaseException)] == ["v"] * 4000
        assert await commands.echo("good reply") == b"good reply"
        assert await commands.exists(f"{prefix}bad") == 0  # nothing of the bad writes was sent
        await toolkit.deleter(f"{prefix}k")
    finally:
        await toolkit.aclose()


async def test_callers_answered_together_send_their_next_commands_together(
    config: RedisConnectionConfig, prefix: str
) -> None:
    """50 tasks in step: one round trip per step, not a lone command and then all the others."""
    toolkit = AsyncRedisToolkit(config=config)
    client = toolkit.client
    real_pipeline = client.pipeline
    pipelines = pipelined = 0

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        nonlocal pipelines
        pipe = real_pipeline(*args, **kwargs)
        real_execute = pipe.execute

        async def execute(*a: object, **k: object) -> object:
            nonlocal pipelines, pipelined
            pipelines += 1
            pipelined += len(pipe.command_stack)
            return await real_execute(*a, **k)

        pipe.execute = execute
        return pipe

    client.pipeline = counting_pipeline

    async def worker(n: int) -> None:
        for i in range(10):
            await toolkit.setter(f"{prefix}{n}", i)
            assert await toolkit.getter(f"{prefix}{n}") == i

    try:
        await asyncio.gather(*(worker(n) for n in range(50)))
        lone = 50 * 20 - pipelined  # commands that went out by themselves
        # 20 steps of 50 commands: about 21 round trips (the very first command goes alone).
        # Before, each step took two: the first caller to run went alone, the rest waited.
        assert pipelines + lone <= 25, (pipelines, lone)
    finally:
        await toolkit.aclose()
