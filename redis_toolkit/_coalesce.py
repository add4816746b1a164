"""Async-only auto-pipelining: concurrent tasks' commands share round trips.

Not a twin: the sync API has nothing to coalesce (a thread's commands go one by one), so the
async source reaches this module only inside an ``if True:  # ASYNC`` branch and through an
import marked ``# ASYNC``, both of which tools/run_unasync.py drops from the sync output.
With ``_compat``, the only module of the package allowed to import asyncio.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions

__all__ = ["Coalescer", "coalescing"]


class _ParseFailure:
    """What an isolated response callback returns instead of raising: the error it raised."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


class _IsolatedCallbacks:
    """A client's response callbacks, each returning :class:`_ParseFailure` instead of raising.

    A pipeline reads every reply through these, so one reply that fails to parse never aborts
    the reading of the replies after it (which would fail every command of the round trip).
    """

    def __init__(self, callbacks: Any) -> None:
        self._callbacks = callbacks
        self._wrapped: dict[Any, Callable[..., Any]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._callbacks

    def __getitem__(self, name: Any) -> Callable[..., Any]:
        callback = self._callbacks[name]
        wrapped = self._wrapped.get(name)
        if wrapped is None or getattr(wrapped, "__wrapped__", None) is not callback:
            wrapped = self._wrapped[name] = _isolate(callback)
        return wrapped

    def get(self, name: Any, default: Any = None) -> Any:
        return self[name] if name in self._callbacks else default


def _isolate(callback: Callable[..., Any]) -> Callable[..., Any]:
    def call(response: Any, **options: Any) -> Any:
        try:
            result = callback(response, **options)
        except Exception as e:
            return _ParseFailure(e)
        if inspect.isawaitable(result):
            return _await_isolated(result)
        return result

    call.__wrapped__ = callback  # type: ignore[attr-defined]
    return call


async def _await_isolated(result: Awaitable[Any]) -> Any:
    try:
        return await result
    except Exception as e:
        return _ParseFailure(e)


def coalescing(client: Any) -> Any:
    """``client`` with concurrent commands coalesced into pipelines (see :class:`Coalescer`)."""
    return Coalescer(client)


class Coalescer:
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

    One command never fails another's round trip: a command whose arguments redis-py cannot
    encode fails alone, before anything is sent (the others go out without it), and a reply
    that fails to parse (its response callback raises) fails only its own caller.

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
        self._callbacks: _IsolatedCallbacks | None = None

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
                    self._round_trip_ended()
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

    def _round_trip_ended(self) -> None:
        # The stall timer measures one round trip: a round trip that ended was not stalled. Left
        # armed, it would fire a second after it was first armed in a busy stream, start a
        # second flusher at a random moment and make throughput differ from run to run.
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def _on_stall(self) -> None:
        self._stall_timer = None
        if self._pending:
            # Still waiting behind a round trip that does not end: send them on another connection.
            self._kick(force=True)

    def _pipeline(self) -> Any:
        pipe = self._client.pipeline(transaction=False)
        callbacks = getattr(pipe, "response_callbacks", None)
        if callbacks is not None:
            if self._callbacks is None or self._callbacks._callbacks is not callbacks:
                self._callbacks = _IsolatedCallbacks(callbacks)
            pipe.response_callbacks = self._callbacks
        return pipe

    def _drop_unencodable(
        self, stack: list[Any], batch: list[tuple[str, tuple[Any, ...], dict[str, Any], Any]]
    ) -> bool:
        """After a failed round trip: fail each command that cannot be encoded with its own
        error and queue the others again; return whether any was found (else the failure was
        the round trip's, not a command's)."""
        pool = getattr(self._client, "connection_pool", None)
        if pool is None or len(stack) != len(batch):
            return False
        encoder = pool.get_encoder()
        retry = []
        found = False
        for (command_args, _), item in zip(stack, batch):
            try:
                for arg in command_args:
                    encoder.encode(arg)
            except Exception as e:
                found = True
                if not item[3].done():
                    item[3].set_exception(e)
            else:
                retry.append(item)
        if found:
            self._pending[:0] = retry
        return found

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch = [item for item in self._pending[: self._max_batch] if not item[3].done()]
                del self._pending[: self._max_batch]
                if not batch:
                    continue
                pipe = self._pipeline()
                queued = []
                for item in batch:
                    name, args, kwargs, future = item
                    try:
                        getattr(pipe, name)(*args, **kwargs)
                    except Exception as e:  # arguments redis-py refuses: this command alone
                        future.set_exception(e)
                    else:
                        queued.append(item)
                batch = queued
                if not batch:
                    continue
                stack = list(getattr(pipe, "command_stack", ()))  # execute() empties it
                self._in_flight += 1
                try:
                    results = await pipe.execute(raise_on_error=False)
                except BaseException as e:
                    if isinstance(e, Exception) and self._drop_unencodable(stack, batch):
                        # Nothing was sent (packing failed): the commands that cannot be
                        # encoded failed alone; the others go out again without them.
                        continue
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
                    self._round_trip_ended()
                for (*_, future), result in zip(batch, results):
                    if future.done():  # the caller was cancelled while its command ran
                        continue
                    if isinstance(result, _ParseFailure):
                        future.set_exception(result.error)
                    elif isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                # Let the callers just answered run once before looking for more work: their
                # next commands then join the next pipeline. Without this, the first of them
                # found nothing in flight, went out alone, and every other caller waited a
                # whole round trip behind it (two round trips per batch instead of one).
                self._in_flight += 1
                try:
                    await asyncio.sleep(0)
                finally:
                    self._in_flight -= 1
        finally:
            self._flushers -= 1
            if self._pending and not self._flushers:
                self._kick()
