"""Hand-written async/sync twins: the only module that imports asyncio or redis.asyncio.

Everything in ``redis_toolkit/_async`` that cannot be converted token by token by unasync lives
here as a pair of classes with identical method names: ``AsyncX`` for the async source and
``SyncX`` for the generated sync code (unasync rewrites ``AsyncX`` to ``SyncX``).

- ``AsyncLock`` / ``SyncLock``: a mutex used as ``async with`` / ``with``.
- ``AsyncEvent`` / ``SyncEvent``: ``set``, ``clear``, ``is_set``, ``wait(timeout) -> bool``.
- ``AsyncQueue`` / ``SyncQueue``: ``put``, ``put_nowait``, ``get(timeout)``, ``get_nowait``;
  both raise :class:`QueueEmpty` when nothing arrives in time.
- ``AsyncRuntime`` / ``SyncRuntime``: ``IS_ASYNC``, ``sleep``, ``spawn`` (a task or a daemon
  thread), ``join`` (wait for it with a timeout), ``call`` (run a user callback), ``monotonic``.
- The redis-py types: ``AsyncRedis`` / ``SyncRedis`` and the cluster, pipeline, pubsub, pool
  and retry twins.

Background work (subscriber loop, health checker, lock renewal) is one pattern: a poll loop
with a stop event, started by ``Runtime.spawn`` and stopped by setting the event then
``Runtime.join`` with a timeout.
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
import redis.client
import redis.cluster
import redis.lock
import redis.retry

__all__ = [
    "AsyncLock",
    "SyncLock",
    "AsyncEvent",
    "SyncEvent",
    "AsyncQueue",
    "SyncQueue",
    "QueueEmpty",
    "AsyncRuntime",
    "SyncRuntime",
    "AsyncRedis",
    "SyncRedis",
    "AsyncRedisCluster",
    "SyncRedisCluster",
    "AsyncClusterNode",
    "SyncClusterNode",
    "AsyncPipeline",
    "SyncPipeline",
    "AsyncPubSub",
    "SyncPubSub",
    "AsyncConnectionPool",
    "SyncConnectionPool",
    "AsyncBlockingConnectionPool",
    "SyncBlockingConnectionPool",
    "AsyncRetry",
    "SyncRetry",
    "AsyncRedisPyLock",
    "SyncRedisPyLock",
    "AsyncWatchPipeline",
    "SyncWatchPipeline",
    "AsyncEmbedded",
    "SyncEmbedded",
    "run_async",
]

logger = logging.getLogger("redis_toolkit.runtime")

T = TypeVar("T")

# --- redis-py types -------------------------------------------------------------------------

AsyncRedis = redis.asyncio.Redis
SyncRedis = redis.Redis
AsyncRedisCluster = redis.asyncio.cluster.RedisCluster
SyncRedisCluster = redis.cluster.RedisCluster
AsyncClusterNode = redis.asyncio.cluster.ClusterNode
SyncClusterNode = redis.cluster.ClusterNode
AsyncPipeline = redis.asyncio.client.Pipeline
SyncPipeline = redis.client.Pipeline
AsyncPubSub = redis.asyncio.client.PubSub
SyncPubSub = redis.client.PubSub
AsyncConnectionPool = redis.asyncio.ConnectionPool
SyncConnectionPool = redis.ConnectionPool
AsyncBlockingConnectionPool = redis.asyncio.BlockingConnectionPool
SyncBlockingConnectionPool = redis.BlockingConnectionPool
AsyncRetry = redis.asyncio.retry.Retry
SyncRetry = redis.retry.Retry
# redis-py's lease lock (SET NX PX with a random token, Lua release/extend/reacquire).
AsyncRedisPyLock = redis.asyncio.lock.Lock
SyncRedisPyLock = redis.lock.Lock


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


_TOPOLOGY_ERRORS = (
    redis.exceptions.AskError,  # MovedError is an AskError
    redis.exceptions.ClusterDownError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


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

    @staticmethod
    async def refresh(client: Any, error: BaseException) -> None:
        """After a redirect or a node failure on a cluster, reload the slot map."""
        if isinstance(client, AsyncRedisCluster) and isinstance(error, _TOPOLOGY_ERRORS):
            try:
                await client.nodes_manager.initialize()
            except Exception as e:  # the caller's own error is what it reports
                logger.debug("reloading the cluster slot map failed: %r", e)


class SyncWatchPipeline:
    """Transaction pipelines for the sync API (redis-py's cluster pipeline works as it is)."""

    @staticmethod
    def open(client: Any, key: Any) -> Any:
        """A transactional pipeline for ``key``."""
        return client.pipeline(transaction=True)

    @staticmethod
    def refresh(client: Any, error: BaseException) -> None:
        """After a redirect or a node failure on a cluster, reload the slot map."""
        if isinstance(client, SyncRedisCluster) and isinstance(error, _TOPOLOGY_ERRORS):
            try:
                client.nodes_manager.initialize()
            except Exception as e:  # the caller's own error is what it reports
                logger.debug("reloading the cluster slot map failed: %r", e)


# --- locks and events -----------------------------------------------------------------------

# asyncio.Lock binds to the running loop on first use (Python >= 3.10), threading.Lock to
# nothing: both offer acquire/release/locked and the (async) context manager protocol.
AsyncLock = asyncio.Lock
SyncLock = threading.Lock


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


class SyncEvent:
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


class SyncQueue(Generic[T]):
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


class _AsyncCoalescer:
    """Sends commands of concurrent tasks together, as one pipeline per round trip.

    A command issued while nothing is in flight goes out at once, on its own (no added latency
    for a lone caller). Commands issued while a round trip is in flight wait for it to end and
    then go together in one non-transactional pipeline: each command stays atomic by itself,
    and one task's commands keep their order because a task awaits each before the next.
    Normally one round trip is in flight at a time, so any number of tasks share one
    connection. A round trip still in flight after ``stall_after`` seconds (a stalled or silently
    dead connection, with no socket timeout to end it) no longer holds the others back: what
    waits behind it goes out on another connection. A caller cancelled while its command waits
    is dropped from the batch: its command is never sent.

    This is what lets many tasks outrun one thread: redis-py's per-command cost in asyncio is
    paid once per pipeline instead of once per command.
    """

    def __init__(self, client: Any, max_batch: int = 512, stall_after: float = 1.0) -> None:
        self._client = client
        self._max_batch = max_batch
        self._stall_after = stall_after
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reset()
        self._methods: dict[str, Callable[..., Awaitable[Any]]] = {}

    def _reset(self) -> None:
        self._pending: list[tuple[str, tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]] = []
        self._in_flight = 0
        self._flushers = 0
        self._stall_timer: asyncio.TimerHandle | None = None

    def _check_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new event loop: whatever the old one left in flight will never finish.
            self._loop = loop
            self._reset()
        return loop

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = self._methods.get(name)
        if method is None:
            method = self._methods[name] = self._make(name)
        return method

    def _make(self, name: str) -> Callable[..., Awaitable[Any]]:
        direct = getattr(self._client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = self._check_loop()
            if not self._in_flight and not self._pending:
                self._in_flight += 1
                try:
                    return await direct(*args, **kwargs)
                finally:
                    self._in_flight -= 1
                    self._kick()
            future = loop.create_future()
            self._pending.append((name, args, kwargs, future))
            if not self._in_flight:
                self._kick()  # otherwise the round trip in flight sends these when it ends
            elif self._stall_timer is None:
                self._stall_timer = loop.call_later(self._stall_after, self._on_stall)
            return await future

        return call

    def _kick(self, force: bool = False) -> None:
        if self._pending and (force or not self._flushers):
            self._flushers += 1
            asyncio.get_running_loop().create_task(self._flush())

    def _on_stall(self) -> None:
        self._stall_timer = None
        if self._pending:
            # Still waiting behind a round trip that does not end: send them on another connection.
            self._kick(force=True)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = [item for item in self._pending[: self._max_batch] if not item[3].done()]
                del self._pending[: self._max_batch]
                if not batch:
                    continue
                self._in_flight += 1
                try:
                    pipe = self._client.pipeline(transaction=False)
                    for name, args, kwargs, _ in batch:
                        getattr(pipe, name)(*args, **kwargs)
                    results = await pipe.execute(raise_on_error=False)
                except BaseException as e:
                    # The round trip failed: each of its callers hears why. If it was this
                    # flusher that was cancelled (loop shutting down), the callers were not: they
                    # get a connection error that says so, not a cancellation of their own.
                    reason = e
                    if not isinstance(e, Exception):
                        reason = redis.exceptions.ConnectionError(
                            "pipelined round trip abandoned (the flushing task was cancelled)"
                        )
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(reason)
                    if not isinstance(e, Exception):
                        raise
                    continue
                finally:
                    self._in_flight -= 1
                for (*_, future), result in zip(batch, results):
                    if future.done():  # the caller was cancelled while its command ran
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._flushers -= 1
            if self._pending and not self._flushers:
                self._kick()


class AsyncRuntime:
    """Runtime primitives for the async API: tasks on the running event loop."""

    IS_ASYNC = True

    @staticmethod
    def coalescing(client: Any) -> Any:
        """``client`` with concurrent commands coalesced into pipelines (see _AsyncCoalescer)."""
        return _AsyncCoalescer(client)

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
    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a user callback, plain or async, and return its result."""
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    @staticmethod
    async def gather(*awaitables: Awaitable[T]) -> list[T]:
        """Run awaitables concurrently; their results in order (the first error is raised)."""
        return list(await asyncio.gather(*awaitables))

    @staticmethod
    def check_callable(fn: Any, what: str) -> None:
        """Refuse what is not callable (the async API accepts plain and async callables)."""
        if not callable(fn):
            raise TypeError(f"{what} must be callable, got {type(fn).__name__}")


class _SyncToken:
    """The weak-referenceable token that sync resources are bound to."""


_SYNC_TOKEN = _SyncToken()


class SyncRuntime:
    """Runtime primitives for the sync API: daemon threads."""

    IS_ASYNC = False

    @staticmethod
    def coalescing(client: Any) -> Any:
        """The sync twin of ``AsyncRuntime.coalescing``: a thread's commands go one by one."""
        return client

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
    def gather(*results: T) -> list[T]:
        """The sync twin of ``AsyncRuntime.gather``: the calls already ran, in order."""
        return list(results)

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


def run_async(main: Awaitable[T]) -> T:
    """Run a coroutine to completion in a new event loop (for entry points and scripts)."""

    async def runner() -> T:
        return await main

    return asyncio.run(runner())


# --- the embedded backend (memory://) ---------------------------------------------------------

_embedded_servers: dict[str, Any] = {}
_embedded_lock = threading.Lock()


def _embedded_server(name: str) -> Any:
    """One shared in-process fakeredis server per ``memory://name``."""
    try:
        import fakeredis
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise ImportError("memory:// needs fakeredis: pip install 'redis-toolkit[embedded]'") from e
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


class SyncEmbedded:
    """Factory of sync clients on the embedded (in-process fakeredis) backend."""

    @staticmethod
    def client(name: str, **kwargs: Any) -> Any:
        """A sync fakeredis client on the shared server called ``name``."""
        import fakeredis

        return fakeredis.FakeRedis(server=_embedded_server(name), **kwargs)
