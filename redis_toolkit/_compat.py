"""Hand-written async/sync twins, and nothing else: with ``_coalesce``, the only modules that
import asyncio or redis.asyncio.

Everything in ``redis_toolkit/_async`` that cannot be converted token by token by unasync lives
here as a pair with identical method names: ``AsyncX`` for the async source and plain ``X`` for
the generated sync code (tools/run_unasync.py maps each ``AsyncX`` to ``X`` explicitly, so the
sync code reads as ordinary sync code).

- ``AsyncLock`` / ``Lock``: a mutex used as ``async with`` / ``with``.
- ``AsyncEvent`` / ``Event``: ``set``, ``clear``, ``is_set``, ``wait(timeout) -> bool``.
- ``AsyncQueue`` / ``Queue``: ``put``, ``put_nowait``, ``get(timeout)``, ``get_nowait``;
  both raise :class:`QueueEmpty` when nothing arrives in time.
- ``AsyncRuntime`` / ``Runtime``: ``sleep``, ``spawn`` (a task or a daemon thread), ``join``
  (wait for it with a timeout), ``call`` (run a user callback), ``monotonic``, ...
- ``AsyncEmbedded`` / ``Embedded``: clients of the in-process fakeredis backend (memory://).
- The redis-py types the I/O code names: ``AsyncRedis`` / ``Redis``, ``AsyncRedisCluster`` /
  ``RedisCluster``, ``AsyncClusterNode`` / ``ClusterNode``, ``AsyncRetry`` / ``Retry``,
  ``AsyncRedisPyLock`` / ``RedisPyLock`` (redis-py's lease lock),
  ``AsyncBlockingConnectionPool`` / ``BlockingConnectionPool``.
- ``AsyncWatchPipeline`` / ``WatchPipeline``: WATCH/MULTI/EXEC pipelines (on a cluster, the async
  one runs on the node owning the slot: redis-py's async cluster pipeline would block the loop).

What exists in async only (auto-pipelining) is not twinned: it lives in ``_coalesce`` and the
async source reaches it inside an ``if True:  # ASYNC`` branch that the generator resolves.

Background work (subscriber loop, health checker, lock renewal) is one pattern: a poll loop
with a stop event, started by ``Runtime.spawn`` and stopped by setting the event then
``Runtime.join`` with a timeout.

Why this module is slightly over the house's ~600 lines (about 630): each twin is written next
to its partner so the two can be read and reviewed as equals, and tools/run_unasync.py checks
the sync code's imports against this one module's exports. The next split, if it grows: the
WATCH pipelines (``AsyncWatchPipeline`` / ``WatchPipeline`` and the cluster node helper) into a
module of their own.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import redis
import redis.asyncio
import redis.asyncio.client
import redis.asyncio.cluster
import redis.asyncio.lock
import redis.asyncio.retry
import redis.cluster
import redis.lock
import redis.retry

__all__ = [
    "AsyncLock",
    "Lock",
    "AsyncEvent",
    "Event",
    "AsyncQueue",
    "Queue",
    "QueueEmpty",
    "AsyncRuntime",
    "Runtime",
    "AsyncRedis",
    "Redis",
    "AsyncRedisCluster",
    "RedisCluster",
    "AsyncClusterNode",
    "ClusterNode",
    "AsyncRetry",
    "Retry",
    "AsyncRedisPyLock",
    "RedisPyLock",
    "AsyncWatchPipeline",
    "WatchPipeline",
    "AsyncBlockingConnectionPool",
    "BlockingConnectionPool",
    "AsyncEmbedded",
    "Embedded",
]

logger = logging.getLogger("redis_toolkit.runtime")

T = TypeVar("T")

# --- redis-py types -------------------------------------------------------------------------

AsyncRedis = redis.asyncio.Redis
Redis = redis.Redis
AsyncRedisCluster = redis.asyncio.cluster.RedisCluster
RedisCluster = redis.cluster.RedisCluster
AsyncClusterNode = redis.asyncio.cluster.ClusterNode
ClusterNode = redis.cluster.ClusterNode
AsyncRetry = redis.asyncio.retry.Retry
Retry = redis.retry.Retry
AsyncBlockingConnectionPool = redis.asyncio.BlockingConnectionPool
BlockingConnectionPool = redis.BlockingConnectionPool

# redis-py's lease lock (SET NX PX with a random token, Lua release/extend/reacquire).
AsyncRedisPyLock = redis.asyncio.lock.Lock
RedisPyLock = redis.lock.Lock


# --- pipelines for WATCH/MULTI/EXEC ----------------------------------------------------------


class _NodeConnections:
    """The connection-pool face a standalone async pipeline needs, over one cluster node.

    redis-py's async cluster pipeline runs every command of a transaction in a new thread with
    its own event loop (blocking the caller's loop each time); a plain pipeline on the node that
    owns the slot does the same WATCH/MULTI/EXEC without that.
    """

    def __init__(self, node: Any) -> None:
        self._node = node

    def get_encoder(self) -> Any:
        return self._node.get_encoder()

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        connection = self._node.acquire_connection()
        try:
            await connection.connect()
        except BaseException:
            await connection.disconnect()
            self._node.release(connection)
            raise
        return connection

    async def release(self, connection: Any) -> None:
        self._node.release(connection)


class AsyncWatchPipeline:
    """Transaction pipelines (WATCH, reads, MULTI, EXEC on one connection) for the async API."""

    @staticmethod
    async def open(client: Any, key: Any) -> Any:
        """A transactional pipeline for ``key``: on a cluster, one on the node owning its slot."""
        if isinstance(client, AsyncRedisCluster):
            await client.initialize()
            node = client.get_node_from_key(key)
            pool: Any = _NodeConnections(node)
            return redis.asyncio.client.Pipeline(pool, client.response_callbacks, True, None)
        return client.pipeline(transaction=True)


class WatchPipeline:
    """Transaction pipelines for the sync API (redis-py's cluster pipeline works as it is)."""

    @staticmethod
    def open(client: Any, key: Any) -> Any:
        """A transactional pipeline for ``key``."""
        return client.pipeline(transaction=True)


# --- locks and events -----------------------------------------------------------------------

# asyncio.Lock binds to the running loop on first use (Python >= 3.10), threading.Lock to
# nothing: both offer acquire/release/locked and the (async) context manager protocol.
AsyncLock = asyncio.Lock
Lock = threading.Lock


class AsyncEvent:
    """An asyncio event whose ``wait`` takes a timeout and says whether the event was set."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        """Set the event and wake every waiter."""
        self._event.set()

    def clear(self) -> None:
        """Reset the event."""
        self._event.clear()

    def is_set(self) -> bool:
        """Whether the event is set."""
        return self._event.is_set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until the event is set or ``timeout`` seconds pass; return whether it is set."""
        if self._event.is_set():
            return True
        if timeout is None:
            await self._event.wait()
            return True
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True


class Event:
    """A threading event with the same interface as :class:`AsyncEvent`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Set the event and wake every waiter."""
        self._event.set()

    def clear(self) -> None:
        """Reset the event."""
        self._event.clear()

    def is_set(self) -> bool:
        """Whether the event is set."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the event is set or ``timeout`` seconds pass; return whether it is set."""
        return self._event.wait(timeout)


# --- queues ---------------------------------------------------------------------------------


class QueueEmpty(Exception):
    """Raised by both queue twins when no item arrived in time."""


class AsyncQueue(Generic[T]):
    """An asyncio queue with a ``get(timeout)`` that raises :class:`QueueEmpty`."""

    def __init__(self, maxsize: int = 0) -> None:
        self._queue: asyncio.Queue[T] = asyncio.Queue(maxsize)

    async def put(self, item: T) -> None:
        """Put an item, waiting for room if the queue is bounded and full."""
        await self._queue.put(item)

    def put_nowait(self, item: T) -> None:
        """Put an item without waiting (raises ``asyncio.QueueFull`` when full)."""
        self._queue.put_nowait(item)

    async def get(self, timeout: float | None = None) -> T:
        """Take the next item; raise :class:`QueueEmpty` if none comes within ``timeout``."""
        if timeout is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            raise QueueEmpty(f"no item within {timeout}s") from None

    def get_nowait(self) -> T:
        """Take the next item at once; raise :class:`QueueEmpty` if there is none."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            raise QueueEmpty("queue is empty") from None

    def qsize(self) -> int:
        """Number of items waiting."""
        return self._queue.qsize()

    def empty(self) -> bool:
        """Whether no item is waiting."""
        return self._queue.empty()


class Queue(Generic[T]):
    """A thread-safe queue with the same interface as :class:`AsyncQueue`."""

    def __init__(self, maxsize: int = 0) -> None:
        self._queue: queue.Queue[T] = queue.Queue(maxsize)

    def put(self, item: T) -> None:
        """Put an item, waiting for room if the queue is bounded and full."""
        self._queue.put(item)

    def put_nowait(self, item: T) -> None:
        """Put an item without waiting (raises ``queue.Full`` when full)."""
        self._queue.put_nowait(item)

    def get(self, timeout: float | None = None) -> T:
        """Take the next item; raise :class:`QueueEmpty` if none comes within ``timeout``."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise QueueEmpty(f"no item within {timeout}s") from None

    def get_nowait(self) -> T:
        """Take the next item at once; raise :class:`QueueEmpty` if there is none."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            raise QueueEmpty("queue is empty") from None

    def qsize(self) -> int:
        """Number of items waiting."""
        return self._queue.qsize()

    def empty(self) -> bool:
        """Whether no item is waiting."""
        return self._queue.empty()


# --- runtimes -------------------------------------------------------------------------------


def _is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - objects with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


class AsyncRuntime:
    """Runtime primitives for the async API: tasks on the running event loop."""

    @staticmethod
    async def sleep(seconds: float) -> None:
        """Sleep without blocking the event loop."""
        await asyncio.sleep(seconds)

    @staticmethod
    def monotonic() -> float:
        """A monotonic clock in seconds."""
        return time.monotonic()

    @staticmethod
    def loop_token() -> Any:
        """What async resources are bound to: the running event loop (None outside one).

        Async connection pools are created per loop and never shared across loops.
        """
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @staticmethod
    def spawn(fn: Callable[..., Awaitable[Any]], *args: Any, name: str) -> asyncio.Task[Any]:
        """Run ``fn(*args)`` as a background task on the running loop.

        An exception that escapes ``fn`` is logged on ``redis_toolkit.runtime``; background loops
        are expected to report their own errors before that.
        """

        async def runner() -> None:
            try:
                await fn(*args)
            except asyncio.CancelledError:
                raise
            except BaseException:
                logger.exception("background task %r crashed", name)

        return asyncio.get_running_loop().create_task(runner(), name=name)

    @staticmethod
    def is_current(handle: asyncio.Task[Any] | None) -> bool:
        """Whether the caller runs inside the spawned task ``handle``."""
        if handle is None:
            return False
        try:
            return asyncio.current_task() is handle
        except RuntimeError:  # no running loop
            return False

    @staticmethod
    def current_handle() -> asyncio.Task[Any] | None:
        """The task the caller runs in (None outside one): what ``finished`` can watch."""
        try:
            return asyncio.current_task()
        except RuntimeError:  # no running loop
            return None

    @staticmethod
    def finished(handle: asyncio.Task[Any] | None) -> bool:
        """Whether a spawned task has ended (or there is none)."""
        return handle is None or handle.done()

    @staticmethod
    def being_cancelled() -> bool:
        """Whether the current task itself has been asked to cancel (``Task.cancelling()``).

        Tells the task's own cancellation apart from a ``CancelledError`` that merely came out of
        something it awaited (a future cancelled elsewhere). Before Python 3.11, which cannot tell
        them apart, every ``CancelledError`` counts as the task's own.
        """
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop
            return False
        cancelling = getattr(task, "cancelling", None)
        return task is not None and (cancelling is None or cancelling() > 0)

    @staticmethod
    def can_spawn() -> bool:
        """Whether :meth:`spawn` can run now (it needs a running event loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    @staticmethod
    async def join(handle: asyncio.Task[Any] | None, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a spawned task; return whether it has finished.

        A task still running after the timeout is cancelled (and awaited briefly), so no task is
        left behind; the return value is then False.
        """
        if handle is None:
            return True
        if handle is asyncio.current_task():
            return False
        done, _ = await asyncio.wait({handle}, timeout=timeout)
        if done:
            return True
        handle.cancel()
        await asyncio.wait({handle}, timeout=1.0)
        return False

    @staticmethod
    async def gather(*awaitables: Awaitable[T]) -> list[T]:
        """Run awaitables concurrently; their results in order (the first error is raised)."""
        return list(await asyncio.gather(*awaitables))

    @staticmethod
    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a user callback, plain or async, and return its result."""
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    @staticmethod
    def check_callable(fn: Any, what: str) -> None:
        """Refuse what is not callable (the async API accepts plain and async callables)."""
        if not callable(fn):
            raise TypeError(f"{what} must be callable, got {type(fn).__name__}")


class _SyncToken:
    """The weak-referenceable token that sync resources are bound to."""


_SYNC_TOKEN = _SyncToken()


class Runtime:
    """Runtime primitives for the sync API: daemon threads."""

    @staticmethod
    def sleep(seconds: float) -> None:
        """Sleep the calling thread."""
        time.sleep(seconds)

    @staticmethod
    def monotonic() -> float:
        """A monotonic clock in seconds."""
        return time.monotonic()

    @staticmethod
    def loop_token() -> Any:
        """What sync resources are bound to: one process-wide token (sync pools are thread-safe)."""
        return _SYNC_TOKEN

    @staticmethod
    def spawn(fn: Callable[..., Any], *args: Any, name: str) -> threading.Thread:
        """Run ``fn(*args)`` in a daemon thread; an escaping exception is logged."""

        def runner() -> None:
            try:
                fn(*args)
            except BaseException:
                logger.exception("background thread %r crashed", name)

        thread = threading.Thread(target=runner, name=name, daemon=True)
        thread.start()
        return thread

    @staticmethod
    def is_current(handle: threading.Thread | None) -> bool:
        """Whether the caller runs inside the spawned thread ``handle``."""
        return handle is not None and handle is threading.current_thread()

    @staticmethod
    def current_handle() -> threading.Thread | None:
        """The thread the caller runs in: what ``finished`` can watch."""
        return threading.current_thread()

    @staticmethod
    def finished(handle: threading.Thread | None) -> bool:
        """Whether a spawned thread has ended (or there is none)."""
        return handle is None or not handle.is_alive()

    @staticmethod
    def being_cancelled() -> bool:
        """The sync twin of ``AsyncRuntime.being_cancelled``: threads are never cancelled."""
        return False

    @staticmethod
    def can_spawn() -> bool:
        """Whether :meth:`spawn` can run now (always, for threads)."""
        return True

    @staticmethod
    def join(handle: threading.Thread | None, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a spawned thread; return whether it has finished.

        Threads cannot be cancelled: a thread still running after the timeout keeps running
        (it is a daemon) and the return value is False.
        """
        if handle is None:
            return True
        if handle is threading.current_thread():
            return False
        handle.join(timeout)
        return not handle.is_alive()

    @staticmethod
    def gather(*results: T) -> list[T]:
        """The calls already ran one after the other, as the arguments were evaluated;
        their results in order (the first error was raised before the next call ran)."""
        return list(results)

    @staticmethod
    def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a plain user callback; an async one is refused with a TypeError."""
        if _is_async_callable(fn):
            raise TypeError(
                f"{getattr(fn, '__qualname__', fn)!r} is a coroutine function; the sync API "
                "runs plain callables only. Use AsyncRedisToolkit (redis_toolkit.asyncio) for "
                "async handlers."
            )
        result = fn(*args, **kwargs)
        if inspect.iscoroutine(result):
            result.close()
            raise TypeError(
                f"{getattr(fn, '__qualname__', fn)!r} returned a coroutine; the sync API runs "
                "plain callables only. Use AsyncRedisToolkit for async handlers."
            )
        return result

    @staticmethod
    def check_callable(fn: Any, what: str) -> None:
        """Refuse what is not a plain callable, before anything starts."""
        if not callable(fn):
            raise TypeError(f"{what} must be callable, got {type(fn).__name__}")
        if _is_async_callable(fn):
            raise TypeError(
                f"{what} {getattr(fn, '__qualname__', fn)!r} is a coroutine function; the sync "
                "API runs plain callables only. Use AsyncRedisToolkit (redis_toolkit.asyncio) "
                "for async handlers."
            )


# --- the embedded backend (memory://) ---------------------------------------------------------

_embedded_servers: dict[str, Any] = {}
_embedded_lock = threading.Lock()


def _embedded_server(name: str) -> Any:
    """One shared in-process fakeredis server per ``memory://name``."""
    try:
        import fakeredis
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "memory:// needs fakeredis, an install requirement of redis-toolkit: reinstall it "
            "(pip install --force-reinstall redis-toolkit)"
        ) from e
    with _embedded_lock:
        server = _embedded_servers.get(name)
        if server is None:
            server = fakeredis.FakeServer()
            _embedded_servers[name] = server
        return server


class AsyncEmbedded:
    """Factory of async clients on the embedded (in-process fakeredis) backend."""

    @staticmethod
    def client(name: str, **kwargs: Any) -> Any:
        """An async fakeredis client on the shared server called ``name``."""
        import fakeredis

        return fakeredis.FakeAsyncRedis(server=_embedded_server(name), **kwargs)


class Embedded:
    """Factory of sync clients on the embedded (in-process fakeredis) backend."""

    @staticmethod
    def client(name: str, **kwargs: Any) -> Any:
        """A sync fakeredis client on the shared server called ``name``."""
        import fakeredis

        return fakeredis.FakeRedis(server=_embedded_server(name), **kwargs)
