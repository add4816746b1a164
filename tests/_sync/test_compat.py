# Generated from tests/_async/test_compat.py by tools/run_unasync.py. DO NOT EDIT.
"""The _compat twins behave alike: written once for the async twins, generated for the sync ones.

What only one side can do stays in tests/test_compat.py. The lock twins are asyncio.Lock and
threading.Lock themselves: nothing of ours to test.
"""

from __future__ import annotations

import pytest

from redis_toolkit._compat import Event, Queue, Runtime, QueueEmpty


def test_event_wait_reports_timeout_and_set() -> None:
    event = Event()
    assert event.wait(0.01) is False

    def set_it() -> None:
        event.set()

    handle = Runtime.spawn(set_it, name="setter")
    assert event.wait(5) is True
    assert Runtime.join(handle, timeout=5) is True
    assert event.is_set()
    event.clear()
    assert not event.is_set()


def test_queue_get_timeout_raises_queue_empty() -> None:
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


def test_spawn_and_join() -> None:
    stop = Event()
    started = Event()

    def loop() -> None:
        started.set()
        while not stop.wait(0.001):
            pass

    handle = Runtime.spawn(loop, name="ticker")
    assert started.wait(5)
    assert not Runtime.finished(handle)
    stop.set()
    assert Runtime.join(handle, timeout=5) is True
    assert Runtime.finished(handle)


def test_spawned_crash_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("kaput")

    handle = Runtime.spawn(boom, name="crasher")
    assert Runtime.join(handle, timeout=5) is True
    assert "crasher" in caplog.text and "kaput" in caplog.text


def test_call_runs_plain_callables() -> None:
    assert Runtime.call(lambda x, y=0: x + y, 2, y=3) == 5


def test_check_callable_refuses_non_callables() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        Runtime.check_callable(42, "handler")
