"""What only one side of the _compat twins does (the shared behaviour is in tests/_async)."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from redis_toolkit._compat import AsyncRuntime, Runtime


# Async only: a task can be cancelled, a thread cannot.
async def test_async_join_cancels_a_task_that_does_not_stop() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    task = AsyncRuntime.spawn(forever, name="stubborn")
    assert await AsyncRuntime.join(task, timeout=0.01) is False
    assert task.cancelled()


# Async only: the sync runtime refuses async callables (below).
async def test_async_call_runs_async_callables() -> None:
    async def double(x: int) -> int:
        return x * 2

    assert await AsyncRuntime.call(double, 2) == 4


# Sync only: a thread that does not stop keeps running (it is a daemon) and join says so.
def test_sync_join_reports_a_thread_still_running() -> None:
    release = threading.Event()
    thread = Runtime.spawn(release.wait, 5, name="stubborn")
    assert thread.daemon
    assert Runtime.join(thread, timeout=0.01) is False
    release.set()
    assert Runtime.join(thread, timeout=5) is True


# Sync only: async callables have no loop to run on.
def test_sync_call_refuses_coroutine_functions() -> None:
    async def handler(x: int) -> None:
        return None

    class AsyncCallable:
        async def __call__(self, x: int) -> None:
            return None

    for fn in (handler, AsyncCallable(), functools.partial(handler)):
        with pytest.raises(TypeError, match="coroutine"):
            Runtime.call(fn, 1)
    for fn in (handler, AsyncCallable()):
        with pytest.raises(TypeError, match="coroutine function"):
            Runtime.check_callable(fn, "handler")


# Both sides at once: what the generated code calls on a twin exists on the sync one.
def test_every_async_twin_has_a_plain_sync_twin_with_the_same_methods() -> None:
    import redis_toolkit._compat as compat

    pairs = [(n, n[len("Async") :]) for n in compat.__all__ if n.startswith("Async")]
    assert len(pairs) >= 9
    for async_name, sync_name in pairs:
        assert sync_name in compat.__all__, async_name
        async_twin, sync_twin = getattr(compat, async_name), getattr(compat, sync_name)
        if async_twin.__module__ != compat.__name__:
            continue  # a library's pair (asyncio/threading, redis-py): theirs to keep alike
        public = {m for m in dir(async_twin) if not m.startswith("_")}
        assert public <= set(dir(sync_twin)), (async_name, public - set(dir(sync_twin)))
