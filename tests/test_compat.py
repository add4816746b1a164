"""The hand-written twins of redis_toolkit._compat: both halves behave alike."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from redis_toolkit._compat import (
    AsyncEvent,
    AsyncLock,
    AsyncQueue,
    AsyncRuntime,
    Event,
    Lock,
    Queue,
    QueueEmpty,
    Runtime,
)


async def test_async_event_wait_reports_timeout_and_set() -> None:
    event = AsyncEvent()
    assert await event.wait(0.01) is False
    asyncio.get_running_loop().call_soon(event.set)
    assert await event.wait(5) is True
    assert event.is_set()
    event.clear()
    assert not event.is_set()


def test_sync_event_wait_reports_timeout_and_set() -> None:
    event = Event()
    assert event.wait(0.01) is False
    threading.Timer(0.01, event.set).start()
    assert event.wait(5) is True
    event.clear()
    assert not event.is_set()


async def test_async_queue_get_timeout_raises_queue_empty() -> None:
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


def test_sync_queue_get_timeout_raises_queue_empty() -> None:
    q: Queue[int] = Queue()
    with pytest.raises(QueueEmpty):
        q.get(timeout=0.01)
    with pytest.raises(QueueEmpty):
        q.get_nowait()
    q.put(1)
    q.put_nowait(2)
    assert q.qsize() == 2
    assert q.get(timeout=1) == 1
    assert q.get_nowait() == 2
    assert q.empty()


async def test_async_lock_is_a_mutex() -> None:
    lock = AsyncLock()
    async with lock:
        assert lock.locked()
    assert not lock.locked()


def test_sync_lock_is_a_mutex() -> None:
    lock = Lock()
    with lock:
        assert lock.locked()
    assert not lock.locked()


async def test_async_spawn_and_join() -> None:
    stop = AsyncEvent()
    ticks: list[int] = []

    async def loop() -> None:
        while not await stop.wait(0.001):
            ticks.append(1)

    task = AsyncRuntime.spawn(loop, name="ticker")
    while not ticks:
        await AsyncRuntime.sleep(0.001)
    stop.set()
    assert await AsyncRuntime.join(task, timeout=5) is True
    assert task.done()


async def test_async_join_cancels_a_task_that_does_not_stop() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    task = AsyncRuntime.spawn(forever, name="stubborn")
    assert await AsyncRuntime.join(task, timeout=0.01) is False
    assert task.cancelled()


def test_sync_spawn_and_join() -> None:
    stop = Event()
    started = Event()

    def loop() -> None:
        started.set()
        while not stop.wait(0.001):
            pass

    thread = Runtime.spawn(loop, name="ticker")
    assert thread.daemon
    assert started.wait(5)
    stop.set()
    assert Runtime.join(thread, timeout=5) is True
    assert not thread.is_alive()


def test_sync_join_reports_a_thread_still_running() -> None:
    release = threading.Event()
    thread = Runtime.spawn(release.wait, 5, name="stubborn")
    assert Runtime.join(thread, timeout=0.01) is False
    release.set()
    assert Runtime.join(thread, timeout=5) is True


def test_spawned_crash_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("kaput")

    thread = Runtime.spawn(boom, name="crasher")
    Runtime.join(thread, timeout=5)
    assert "crasher" in caplog.text and "kaput" in caplog.text


async def test_async_call_runs_plain_and_async_callables() -> None:
    async def double(x: int) -> int:
        return x * 2

    assert await AsyncRuntime.call(double, 2) == 4
    assert await AsyncRuntime.call(lambda x: x + 1, 2) == 3


def test_sync_call_runs_plain_callables() -> None:
    assert Runtime.call(lambda x, y=0: x + y, 2, y=3) == 5


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


def test_check_callable_refuses_non_callables() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        Runtime.check_callable(42, "handler")
    with pytest.raises(TypeError, match="must be callable"):
        AsyncRuntime.check_callable(42, "handler")

