# Generated from redis_toolkit/_async/transactions.py by tools/run_unasync.py. DO NOT EDIT.
"""Optimistic transactions: ``update()``, transaction blocks, atomic batches (locks: locks.py).

``RedisToolkit.update`` / ``transaction`` and ``batch_set(atomic=True)`` are thin
methods over this module (``RedisToolkit`` in the generated sync copy). Everything here drives
redis-py's own pipelines (WATCH, MULTI, EXEC) through the toolkit's resilience
path, with these rules:

- A WATCH (with the GETs of the read phase, on a fresh pipeline) may be retried by the retry
  policy: it writes nothing. Commands sent after it on the watching connection are never retried
  on another connection (the WATCH would be gone), and EXEC is never retried once it may have
  run (``idempotent=False``).
- A conflict (EXEC answered nil because a watched key changed) is not a failure: it is counted
  under ``conflicts`` in the metrics, never seen by the circuit breaker.
- redis-py's cluster ``transaction()`` helper retries WatchError without bound and blocks the
  event loop with ``time.sleep``; it is not used. WATCH/MULTI/EXEC are driven here.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError, WatchError

from .._compat import Runtime, WatchPipeline
from .._validation import check_batch_size, check_key, ttl_args
from ..cluster_slots import require_same_slot
from ..exceptions import (
    BatchWriteError,
    ConflictError,
    ConnectionFailedError,
    RedisToolkitError,
    ValidationError,
)
from ..options import RedisOptions
from .cluster_failover import REFRESH_ON

if TYPE_CHECKING:
    from .client import RedisToolkit

__all__ = ["Transaction", "DEFAULT_RETRIES"]

logger = logging.getLogger("redis_toolkit.transactions")

#: Retries after a conflict when the caller does not say (``update`` and ``transaction``).
DEFAULT_RETRIES = 10

# Waits between conflicting attempts: random in [0, min(cap, base * 2**n)] after the n-th
# conflict. Contenders that collided spread out instead of colliding again in lock step.
# Measured with 20 writers on one key (benchmarks/bench_transactions.py): waits this long cut
# the conflicts per update about fourfold against 0.5 ms / 20 ms, and the time with them.
_BACKOFF_BASE = 0.005
_BACKOFF_CAP = 0.05


def _backoff(conflicts: int) -> float:
    if conflicts <= 1:
        return 0.0
    return random.uniform(0.0, min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** min(conflicts, 16)))


def _check_retries(retries: Any) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValidationError(f"retries must be an int >= 0, got {retries!r}")
    return retries


def _lost_watch_cause(error: WatchError) -> BaseException | None:
    """The connection error behind redis-py's "A ... occurred while watching" WatchError.

    redis-py turns a connection failure on a watching pipeline into a WatchError; that is not
    a conflict (EXEC may even have run): the caller must see the connection error. None for a
    real conflict.
    """
    if "occurred while watching" not in str(error):
        return None
    cause = error.__context__ or error.__cause__
    if isinstance(cause, (RedisError, RedisClusterException, OSError)) and not isinstance(
        cause, WatchError
    ):
        return cause
    return RedisConnectionError(str(error))  # may have been sent: never retried for EXEC


def _metrics_conflict(toolkit: RedisToolkit) -> None:
    metrics = getattr(toolkit._resilience, "metrics", None)
    if metrics is not None:
        metrics.record_conflict("EXEC")


def _discard(pipe: Any) -> None:
    """UNWATCH and give the connection back; never raises (the error that led here wins)."""
    if pipe is None:
        return
    try:
        pipe.reset()
    except Exception as e:  # the connection is dropped with the pipeline
        logger.debug("resetting a transaction pipeline failed: %r", e)


def _watch_and_get(
    toolkit: RedisToolkit, watch: list[str], get: list[str]
) -> tuple[Any, list[Any]]:
    """A fresh pipeline WATCHing ``watch``, and the raw values of ``get`` read on it.

    Read-only and self-contained, so the retry policy may run it again.
    """
    pipe = WatchPipeline.open(toolkit._client, watch[0])
    try:
        pipe.watch(*watch)
        values = [pipe.get(key) for key in get]
    except WatchError as e:
        _discard(pipe)
        cause = _lost_watch_cause(e)
        if cause is not None:
            raise cause from None
        raise
    except BaseException:
        _discard(pipe)
        raise
    return pipe, values


def _watch(
    toolkit: RedisToolkit, watch: list[str], get: list[str], key: str
) -> tuple[Any, list[Any]]:
    """:func:`_watch_and_get` through the resilience path (which may retry it).

    On a cluster that path re-reads the slot map before each retry; when it gives up on a
    topology error (MOVED, a dead node), the map is re-read here (rate-limited, counted), so
    that the next WATCH pipeline goes to the slot's new owner.
    """
    try:
        return toolkit._run(  # type: ignore[no-any-return]
            "WATCH", _watch_and_get, toolkit, watch, get, key=key, idempotent=True
        )
    except RedisToolkitError as e:
        topology = toolkit._topology
        if topology is not None and isinstance(e.__cause__, REFRESH_ON):
            topology.refresh()
        raise


#: What ``_commit`` returns when EXEC was not sent (the retry policy saw an error from before
#: it reached the server): nothing was written, and the attempt can start over.
_NOT_SENT = object()


def _commit(
    toolkit: RedisToolkit, pipe: Any, writes: list[tuple[Any, ...]], key: str | None
) -> Any:
    """MULTI, the queued writes, EXEC on ``pipe``: True when applied, False on a conflict.

    ``_NOT_SENT`` when the retry policy retried an error from before EXEC was sent: the
    pipeline (and its WATCH) is gone, so the transaction is not re-sent here.
    """
    calls = 0

    def run() -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            return _NOT_SENT
        pipe.multi()
        for write in writes:
            if write[0] == "set":
                pipe.set(write[1], write[2], **write[3])
            else:
                pipe.delete(write[1])
        try:
            pipe.execute()
        except WatchError as e:
            cause = _lost_watch_cause(e)
            if cause is not None:
                raise cause from None
            return False  # "Watched variable changed." (or a slot moved while watching)
        return True

    try:
        return toolkit._run("EXEC", run, key=key, idempotent=False)
    finally:
        _discard(pipe)


_RETRY_HINT = (
    " (to re-run the block on conflict, iterate over toolkit.transaction(..., retries=N) and "
    "enter each attempt)"
)


class Transaction:
    """An optimistic transaction over watched keys: typed reads, queued typed writes, EXEC.

    Made by :meth:`RedisToolkit.transaction`. Two ways to use it::

        # one attempt: ConflictError if a watched key changed before the commit
        with toolkit.transaction("{acct:1}:a", "{acct:1}:b") as tx:
            a = tx.get("{acct:1}:a", default=0)
            tx.set("{acct:1}:a", a - 10)
            tx.set("{acct:1}:b", (tx.get("{acct:1}:b", default=0)) + 10)

        # re-run the block on conflict, up to `retries` more times (then ConflictError)
        for attempt in toolkit.transaction("{acct:1}:a", retries=5):
            with attempt as tx:
                ...

    (In the sync API: ``with`` and ``for``, without ``await``.) Reads WATCH the key they read,
    so everything read is protected; writes are validated and serialized when queued and sent
    in one MULTI/EXEC when the block ends without an exception. An exception in the block
    discards the writes. On a cluster every key must be in one slot (a common hash tag).
    """

    def __init__(
        self,
        toolkit: RedisToolkit,
        keys: Iterable[str],
        *,
        retries: int = DEFAULT_RETRIES,
        options: RedisOptions | None = None,
    ) -> None:
        self._toolkit = toolkit
        self._opts = toolkit.options if options is None else options
        self._keys = list(keys)
        for key in self._keys:
            check_key(key, self._opts, writing=False)
        if toolkit._cluster:
            require_same_slot(self._keys, "transaction")
        self._retries = _check_retries(retries)
        self._serializer = toolkit._serializer_for(self._opts)
        self._pipe: Any = None
        self._watched: set[str] = set()
        self._writes: list[tuple[Any, ...]] = []
        self._state = "new"  # new -> yielded -> open -> committed | conflict | failed
        self._iterating = False
        self.attempts = 0
        self.conflicts = 0

    # -- inside the block --------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state != "open":
            raise RedisToolkitError(
                "the transaction is not open: use it inside its block, `with "
                "toolkit.transaction(...) as tx:` (`async with` in the async API)"
            )

    def _check_slot(self, key: str) -> None:
        if self._toolkit._cluster:
            require_same_slot([*self._keys, *self._watched, key], "transaction")

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key`` (``default`` if absent), now WATCHed until the commit."""
        self._check_open()
        check_key(key, self._opts, writing=False)
        self._check_slot(key)
        if self._pipe is None:
            self._pipe, values = _watch(self._toolkit, [key], [key], key)
            data = values[0]
        else:
            if key not in self._watched:
                self._on_pipe("WATCH", key, self._pipe.watch, key)
            data = self._on_pipe("GET", key, self._pipe.get, key)
        self._watched.add(key)
        if data is None:
            return default
        return self._toolkit._decode(key, data)

    def _on_pipe(self, command: str, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        """A command on the watching connection: never retried elsewhere (the WATCH is there)."""
        calls = 0

        def run() -> Any:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise WatchError(
                    "the connection failed while keys were watched; the transaction cannot go "
                    "on (nothing was written)"
                )
            try:
                return fn(*args)
            except WatchError as e:
                cause = _lost_watch_cause(e)
                if cause is not None:
                    raise cause from None
                raise

        try:
            return self._toolkit._run(command, run, key=key, idempotent=False)
        except BaseException:
            self._state = "failed"
            _discard(self._pipe)
            self._pipe = None
            raise

    def set(
        self,
        key: str,
        value: Any,
        ttl: float | timedelta | None = None,
        *,
        keep_ttl: bool = False,
    ) -> None:
        """Queue a typed write of ``value`` at ``key`` (sent at the commit).

        As :meth:`RedisToolkit.setter`: ``ttl`` sets an expiry, ``keep_ttl`` keeps the
        current one, neither clears it. Validated and serialized now: a bad value raises here.
        """
        self._check_open()
        check_key(key, self._opts)
        if keep_ttl and ttl is not None:
            raise ValidationError(f"tx.set({key!r}): keep_ttl and ttl exclude each other", key=key)
        extra: dict[str, Any] = dict(ttl_args(ttl, key))
        if keep_ttl:
            extra["keepttl"] = True
        self._check_slot(key)
        data = self._toolkit._encode(key, value, self._opts, self._serializer)
        self._writes.append(("set", key, data, extra))

    def delete(self, key: str) -> None:
        """Queue a delete of ``key`` (sent at the commit)."""
        self._check_open()
        check_key(key, self._opts, writing=False)
        self._check_slot(key)
        self._writes.append(("del", key))

    # -- one attempt: the context manager ----------------------------------------------------

    def __enter__(self) -> Transaction:
        if self._state == "open":
            raise RedisToolkitError("this transaction block is already open")
        if self._iterating and self._state != "yielded":
            raise RedisToolkitError(
                "enter each attempt once: `with attempt as tx:` (`async with` in the async API)"
            )
        self.attempts += 1
        self._writes = []
        self._watched = set()
        self._pipe = None
        self._state = "open"
        if self._keys:
            try:
                self._pipe, _ = _watch(self._toolkit, self._keys, [], self._keys[0])
            except BaseException:
                self._state = "failed"
                raise
            self._watched.update(self._keys)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        pipe, self._pipe = self._pipe, None
        if self._state != "open":  # a command on the watching connection failed
            _discard(pipe)
            return
        if exc_type is not None or not self._writes:
            _discard(pipe)
            self._state = "failed" if exc_type is not None else "committed"
            return
        key = self._first_key()
        if pipe is None:
            pipe = WatchPipeline.open(self._toolkit._client, key)
        try:
            outcome = _commit(self._toolkit, pipe, self._writes, key)
        except BaseException:
            self._state = "failed"
            raise
        if outcome is True:
            self._state = "committed"
            return
        if outcome is _NOT_SENT:
            self._state = "conflict"  # nothing was written: the attempt may start over
            if not self._iterating:
                self._state = "failed"
                raise ConnectionFailedError(
                    f"transaction on key {key!r} was not committed: the connection failed "
                    "before EXEC was sent; nothing was written",
                    key=key,
                )
        else:
            self.conflicts += 1
            _metrics_conflict(self._toolkit)
            self._state = "conflict"
        if not self._iterating or self.attempts > self._retries:
            self._state = "failed"
            hint = "" if self._iterating else _RETRY_HINT
            raise ConflictError(
                f"transaction on key {key!r} gave up after {self.attempts} attempt(s): another "
                "client changed a watched key before each commit; nothing of the last attempt "
                f"was written{hint}",
                key=key,
                attempts=self.attempts,
            )

    def _first_key(self) -> str | None:
        if self._keys:
            return self._keys[0]
        if self._watched:
            return sorted(self._watched)[0]
        return self._writes[0][1] if self._writes else None

    # -- attempts until one commits: the iterator ---------------------------------------------

    def __iter__(self) -> Transaction:
        if self._state != "new":
            raise RedisToolkitError("a transaction can be iterated once; make a new one")
        self._iterating = True
        return self

    def __next__(self) -> Transaction:
        if self._state == "new":
            self._state = "yielded"
            return self
        if self._state == "conflict":
            Runtime.sleep(_backoff(self.conflicts))
            self._state = "yielded"
            return self
        if self._state == "yielded":
            self._state = "failed"
            raise RedisToolkitError(
                "each attempt must be entered: `for attempt in toolkit.transaction(...): with "
                "attempt as tx: ...` (`async for` and `async with` in the async API)"
            )
        raise StopIteration

    @property
    def committed(self) -> bool:
        """Whether the last attempt committed (or had nothing to write)."""
        return self._state == "committed"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} keys={self._keys!r} state={self._state}>"


def update(
    toolkit: RedisToolkit,
    key: str,
    fn: Callable[[Any], Any],
    *,
    retries: int,
    ttl: float | timedelta | None,
    default: Any,
    options: RedisOptions | None,
) -> Any:
    """WATCH/GET ``key``, ``fn(old) -> new``, MULTI/SET/EXEC; retry on conflict (see client)."""
    opts = toolkit.options if options is None else options
    check_key(key, opts)
    retries = _check_retries(retries)
    Runtime.check_callable(fn, "fn")
    extra: dict[str, Any] = dict(ttl_args(ttl, key)) if ttl is not None else {"keepttl": True}
    serializer = toolkit._serializer_for(opts)
    attempts = conflicts = 0
    while True:
        attempts += 1
        pipe, values = _watch(toolkit, [key], [key], key)
        try:
            data = values[0]
            old = default if data is None else toolkit._decode(key, data)
            new = Runtime.call(fn, old)
            payload = toolkit._encode(key, new, opts, serializer)
        except BaseException:
            _discard(pipe)
            raise
        outcome = _commit(toolkit, pipe, [("set", key, payload, extra)], key)
        if outcome is True:
            return new
        if outcome is not _NOT_SENT:
            conflicts += 1
            _metrics_conflict(toolkit)
        if attempts > retries:
            raise ConflictError(
                f"update of key {key!r} gave up after {attempts} attempt(s): another client "
                f"changed the key each time ({conflicts} conflict(s)); nothing was written by "
                "the last attempt. Raise `retries` or reduce contention on the key.",
                key=key,
                attempts=attempts,
            )
        Runtime.sleep(_backoff(conflicts))


def atomic_batch_set(
    toolkit: RedisToolkit, encoded: list[tuple[str, bytes]], extra: dict[str, int]
) -> None:
    """Write every ``(key, bytes)`` in one atomic step: MSET, or MULTI/SET.../EXEC with a TTL."""
    if not encoded:
        return
    keys = [name for name, _ in encoded]
    if toolkit._cluster:
        require_same_slot(keys, "batch_set(atomic=True)")
    check_batch_size(sum(len(data) for _, data in encoded), len(encoded), toolkit.options)

    def write() -> None:
        if not extra:
            toolkit._client.mset(dict(encoded))
            return
        pipe = WatchPipeline.open(toolkit._client, keys[0])
        try:
            for name, data in encoded:
                pipe.set(name, data, **extra)
            pipe.execute()
        finally:
            _discard(pipe)

    try:
        # Every command sets an absolute value: sending the whole block again is safe.
        toolkit._run("MSET" if not extra else "MULTI", write, key=keys[0], idempotent=True)
    except RedisToolkitError as e:
        raise BatchWriteError(
            f"atomic batch_set of {len(keys)} keys was not confirmed (first key {keys[0]!r}): "
            f"either all of them or none were written: {e}",
            failed_keys=keys,
            written_keys=[],
        ) from e
