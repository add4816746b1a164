"""The _compat twins behave alike: written once for the async twins, generated for the sync ones.

What only one side can do stays in tests/test_compat.py. The lock twins are asyncio.Lock and
threading.Lock themselves: nothing of ours to test.
"""

from __future__ import annotations

import pytest

from redis_toolkit._compat import AsyncEvent, AsyncQueue, AsyncRuntime, QueueEmpty


async def test_event_wait_reports_timeout_and_set() -> None:
    event = AsyncEvent()
    assert await event.wait(0.01) is False

    async def set_it() -> None:
        event.set()

    handle = AsyncRuntime.spawn(set_it, name="setter")
    assert await event.wait(5) is True
    assert await AsyncRuntime.join(handle, timeout=5) is True
    assert event.is_set()
    event.clear()
    assert not event.is_set()


async def test_queue_get_timeout_raises_queue_empty() -> None:
    q: AsyncQueue[int] = AsyncQueue()
    with pytest.raises(QueueEmpty):
        await q.get(timeout=0.01)
    with pytest.raises(QueueEmpty):
        q.get_nowait()
    await q.put(1)
    q.put_nowait(2)
    assert q.qsize() == 2
    assert await q.get(timeout=1) == 1
    assert q.get_nowait() == 2
    assert q.empty()


async def test_spawn_and_join() -> None:
    stop = AsyncEvent()
    started = AsyncEvent()

    async def loop() -> None:
        started.set()
        while not await stop.wait(0.001):
            pass

    handle = AsyncRuntime.spawn(loop, name="ticker")
    assert await started.wait(5)
    assert not AsyncRuntime.finished(handle)
    stop.set()
    assert await AsyncRuntime.join(handle, timeout=5) is True
    assert AsyncRuntime.finished(handle)


async def test_spawned_crash_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise RuntimeError("kaput")

    handle = AsyncRuntime.spawn(boom, name="crasher")
    assert await AsyncRuntime.join(handle, timeout=5) is True
    assert "crasher" in caplog.text and "kaput" in caplog.text


async def test_call_runs_plain_callables() -> None:
    assert await AsyncRuntime.call(lambda x, y=0: x + y, 2, y=3) == 5


def test_check_callable_refuses_non_callables() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        AsyncRuntime.check_callable(42, "handler")
