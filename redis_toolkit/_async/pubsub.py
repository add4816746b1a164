"""The supervised pub/sub listener: ``AsyncSubscriber`` runs as an asyncio task.

One background loop owns the pub/sub connection. It reads messages with a poll timeout,
decodes them with the toolkit serializer and hands ``(channel, value)`` to the handler. It
applies subscription changes between reads, so adding or removing a channel never restarts it
and never drops messages of the other channels. When the connection breaks it reconnects with
backoff and subscribes again to everything, once. Handler errors and connection errors are
reported to the logger and to ``on_error``; the loop goes on.

Redis pub/sub is at-most-once: messages published while the listener is disconnected are lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from .._compat import AsyncEvent, AsyncLock, AsyncQueue, AsyncRuntime, QueueEmpty
from .._validation import check_encodable
from ..exceptions import RedisToolkitError, SerializationError, ValidationError, wrap_redis_error
from ..serialization import Serializer
from ..subscription_manager import SubscriptionManager

__all__ = ["AsyncSubscriber"]

logger = logging.getLogger("redis_toolkit.pubsub")

_CONFIRMATIONS = {
    "subscribe",
    "psubscribe",
    "unsubscribe",
    "punsubscribe",
    "ssubscribe",
    "sunsubscribe",
}
_MESSAGES = ("message", "pmessage", "smessage")


def check_names(names: Any) -> None:
    """Refuse a channel or pattern that is not a non-empty str, or that cannot be encoded (a
    lone surrogate), before it reaches the listener or the server."""
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"channel must be a non-empty str, got {name!r}", channel=None)
        if not name.isascii():
            check_encodable(name, "channel")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Request:
    """A subscription change for the listener to apply, and the event that says it is done."""

    def __init__(self, names: list[str], *, sync: bool = False) -> None:
        self.pending = set(names)
        # A sync request (sync_subscriptions) names nothing itself: it waits for whatever the
        # reconcile that applies it sends to Redis.
        self.sync = sync
        self.done = AsyncEvent()


class AsyncSubscriber:
    """Supervised listener for channels (SUBSCRIBE) and patterns (PSUBSCRIBE), or for shard
    channels (SSUBSCRIBE, ``sharded=True``: Redis 7, on a cluster or one server).

    ``handler(channel, value)`` receives every message (for a pattern, the real channel); a
    channel added through the ``manager`` with its own callback goes to that callback instead.
    ``on_error(error, channel)`` hears about handler errors, undecodable payloads and lost
    connections (``channel`` is None for those). Both may be plain or async callables.

    On a cluster, ``topology`` (the toolkit's :class:`AsyncClusterTopology`) heals the listener
    after a node dies or a failover moves a slot: each reconnect re-reads the slot map first and
    subscribes on the slot's current owner, retrying every half second at most; a shard
    channel the server unsubscribed (its slot moved) counts as a lost connection.
    """

    def __init__(
        self,
        client: Any,
        serializer: Serializer,
        *,
        handler: Callable[[str, Any], Any] | None = None,
        channels: list[str] | None = None,
        patterns: list[str] | None = None,
        manager: SubscriptionManager | None = None,
        on_error: Callable[[BaseException, str | None], Any] | None = None,
        poll_interval: float = 0.05,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
        stop_timeout: float = 5.0,
        confirm_timeout: float = 5.0,
        address: str = "",
        sharded: bool = False,
        topology: Any = None,
    ) -> None:
        check_names([*(channels or []), *(patterns or [])])
        if sharded and patterns:
            raise ValidationError(
                f"sharded pub/sub has no patterns (Redis has no PSSUBSCRIBE): {patterns!r}"
            )
        if handler is not None:
            AsyncRuntime.check_callable(handler, "message handler")
        if on_error is not None:
            AsyncRuntime.check_callable(on_error, "on_error")
        self._client = client
        self._serializer = serializer
        self._handler = handler
        self._manager = manager
        self._on_error = on_error
        self._poll_interval = poll_interval
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max(reconnect_delay, max_reconnect_delay)
        self._stop_timeout = stop_timeout
        self._confirm_timeout = confirm_timeout
        self._address = address
        self.sharded = sharded
        self._topology = topology
        if topology is not None:
            # A failover takes seconds: try the new owner often, a reconnect is one round trip.
            self._max_reconnect_delay = min(self._max_reconnect_delay, 0.5)
        # What Redis should be subscribed to (ordered sets), and what it is subscribed to now.
        self._channels: dict[str, None] = dict.fromkeys(channels or [])
        self._patterns: dict[str, None] = dict.fromkeys(patterns or [])
        self._live_channels: set[str] = set()
        self._live_patterns: set[str] = set()
        self._requests: AsyncQueue[_Request] = AsyncQueue()
        self._waiting: list[_Request] = []
        self._unconfirmed: set[str] = set()
        self._delay = reconnect_delay
        self._verify_until = 0.0
        self._stop = AsyncEvent()
        self._connected = AsyncEvent()
        self._lock = AsyncLock()
        self._task: Any = None
        self.messages_received = 0
        self.handler_errors = 0
        self.reconnects = 0
        self.last_error: BaseException | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the listener loop is running."""
        return (
            self._task is not None
            and not self._stop.is_set()
            and not AsyncRuntime.finished(self._task)
        )

    @property
    def connected(self) -> bool:
        """Whether the listener is subscribed on a live connection."""
        return self._connected.is_set()

    @property
    def channels(self) -> list[str]:
        """Channels the listener keeps subscribed (static and dynamic)."""
        return list(self._wanted_channels())

    @property
    def patterns(self) -> list[str]:
        """Patterns the listener keeps subscribed."""
        return list(self._patterns)

    def _wanted_channels(self) -> dict[str, None]:
        # Copies: in the sync twin other threads change these while the listener reads them.
        wanted = dict(self._channels)
        if self._manager is not None:
            wanted.update(dict.fromkeys(self._manager.channels()))
        return wanted

    def set_manager(self, manager: SubscriptionManager | None) -> None:
        """Replace the dynamic-subscription registry (None: static channels only)."""
        self._manager = manager

    def stats(self) -> dict[str, Any]:
        """Counters of the listener: messages, handler errors, reconnects, state."""
        return {
            "running": self.running,
            "connected": self.connected,
            "channels": self.channels,
            "patterns": self.patterns,
            "messages_received": self.messages_received,
            "handler_errors": self.handler_errors,
            "reconnects": self.reconnects,
            "sharded": self.sharded,
            "last_error": repr(self.last_error) if self.last_error is not None else None,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def start_nowait(self) -> None:
        """Start the listener without waiting for Redis to confirm the subscriptions.

        Raises :class:`~redis_toolkit.exceptions.RedisToolkitError` while a listener that was
        asked to stop is still finishing a handler: two listeners would share one state.
        """
        if self.running:
            return
        if AsyncRuntime.is_current(self._task):
            # Stopped and started again from one of its own handlers: it simply carries on, on
            # the same connection with the same subscriptions.
            self._stop.clear()
            self._mark_connected()
            return
        if not AsyncRuntime.finished(self._task):
            raise RedisToolkitError(
                f"the previous listener on {self._address} is still finishing a message handler; "
                "call stop_subscriber() again (or wait) before starting a new one"
            )
        # Each loop gets its own stop event, so a stop always reaches the loop it was meant for.
        self._stop = AsyncEvent()
        self._connected.clear()
        self._task = AsyncRuntime.spawn(
            self._run, self._stop, name=f"redis_toolkit-subscriber-{id(self)}"
        )

    async def start(self) -> bool:
        """Start the listener; return once every channel and pattern is subscribed in Redis.

        Returns False if that did not happen within ``confirm_timeout`` (the listener keeps
        trying in the background). Called from one of its own handlers it returns True at once:
        the listener carries on once the handler returns.
        """
        if AsyncRuntime.is_current(self._task):
            self.start_nowait()  # waiting here for the listener would wait for ourselves
            return True
        async with self._lock:
            self.start_nowait()
        return await self._connected.wait(self._confirm_timeout)

    async def stop(self, timeout: float | None = None) -> bool:
        """Stop the listener and wait for it; return whether it finished in time.

        A handler that is running is allowed to finish within ``timeout`` (default
        ``stop_timeout``). A task still running then is cancelled; a thread cannot be
        interrupted, so False means it is still finishing its handler.
        """
        task = self._task
        if task is None:
            return True
        self._stop.set()
        if AsyncRuntime.is_current(task):
            # Called from one of its own handlers: the listener ends once that handler returns.
            self._connected.clear()
            return False
        finished = await AsyncRuntime.join(task, self._stop_timeout if timeout is None else timeout)
        self._connected.clear()
        if not finished:
            # Kept, so that start() can tell a listener that is still finishing its handler.
            logger.warning("subscriber on %s did not stop within the timeout", self._address)
            return False
        self._task = None
        return True

    # -- subscription changes ----------------------------------------------------------------

    async def subscribe(self, *channels: str) -> bool:
        """Add channels without restarting; True once Redis confirmed (or the listener is down)."""
        check_names(channels)
        self._channels.update(dict.fromkeys(channels))
        return await self._request(list(channels))

    async def unsubscribe(self, *channels: str) -> bool:
        """Remove channels in Redis without restarting; True once Redis confirmed."""
        for channel in channels:
            self._channels.pop(channel, None)
        return await self._request(list(channels))

    async def psubscribe(self, *patterns: str) -> bool:
        """Add patterns without restarting; True once Redis confirmed."""
        check_names(patterns)
        self._patterns.update(dict.fromkeys(patterns))
        return await self._request(list(patterns))

    async def punsubscribe(self, *patterns: str) -> bool:
        """Remove patterns without restarting; True once Redis confirmed."""
        for pattern in patterns:
            self._patterns.pop(pattern, None)
        return await self._request(list(patterns))

    async def sync_subscriptions(self) -> bool:
        """Make Redis match the wanted channels (after the manager changed); True once confirmed."""
        return await self._request([], sync=True)

    async def _request(self, names: list[str], *, sync: bool = False) -> bool:
        if not self.running:
            # Nothing to tell: the listener subscribes to everything wanted when it starts.
            return True
        request = _Request(names, sync=sync)
        await self._requests.put(request)
        if AsyncRuntime.is_current(self._task):
            # Called from a handler, inside the listener: it applies the change after the handler.
            return True
        return await request.done.wait(self._confirm_timeout)

    # -- the listener loop -------------------------------------------------------------------

    async def _run(self, stop: AsyncEvent) -> None:
        try:
            await self._supervise(stop)
        finally:
            # However the loop ended (stopped, or cancelled), it is no longer connected.
            self._connected.clear()
            self._release_waiters()

    async def _supervise(self, stop: AsyncEvent) -> None:
        self._delay = self._reconnect_delay
        lost = False
        while not stop.is_set():
            pubsub = None
            try:
                if self._topology is not None:
                    # After a lost connection the slot map may name a dead node: re-read it.
                    if lost:
                        await self._topology.refresh(force=True)
                    else:
                        await self._topology.ready()
                elif getattr(self._client, "_initialize", False):
                    # redis-py's async cluster pub/sub needs the slot map the client learns on
                    # its first command (KeyError otherwise); the sync client has it from the start.
                    await self._client.initialize()
                pubsub = self._client.pubsub(ignore_subscribe_messages=False)
                await self._listen(pubsub, stop)
            except Exception as e:
                # Supervision: whatever broke the loop is reported, then it starts over.
                lost = True
                # The slot map read right after a failover may still be old: verify the owners
                # for a while once subscribed again.
                self._verify_until = AsyncRuntime.monotonic() + 10.0
                self._connected.clear()
                self.reconnects += 1
                if isinstance(e, RedisError):
                    error: BaseException = wrap_redis_error(
                        e, "pub/sub listener", address=self._address
                    )
                    what = f"connection lost; reconnecting in {self._delay:.2f}s"
                else:
                    error = e
                    what = f"listener failed unexpectedly; restarting in {self._delay:.2f}s"
                await self._report(error, None, what)
                await stop.wait(self._delay)
                self._delay = min(self._delay * 2, self._max_reconnect_delay)
            finally:
                self._live_channels.clear()
                self._live_patterns.clear()
                if pubsub is not None:
                    await self._close(pubsub)

    async def _listen(self, pubsub: Any, stop: AsyncEvent) -> None:
        # A new connection: nothing from the last one is still to be confirmed, and requests
        # that waited for it are judged again by what this connection still has to confirm.
        self._unconfirmed = set()
        await self._reconcile(pubsub)
        for request in list(self._waiting):
            request.pending &= self._unconfirmed
        self._mark_connected()
        next_expiry_check = AsyncRuntime.monotonic() + self._check_interval()
        next_owner_check = AsyncRuntime.monotonic() + 1.0
        while not stop.is_set():
            await self._apply_requests(pubsub)
            if not self._has_connection(pubsub):
                # Nothing subscribed yet: redis-py has no connection to read from.
                self._mark_connected()
                await stop.wait(self._poll_interval)
                continue
            if self.sharded and hasattr(pubsub, "get_sharded_message"):
                message = await pubsub.get_sharded_message(timeout=self._poll_interval)
            else:
                message = await pubsub.get_message(timeout=self._poll_interval)
            if message is not None:
                await self._dispatch(message)
            now = AsyncRuntime.monotonic()
            if self._verify_until > now and now >= next_owner_check:
                next_owner_check = now + 1.0
                await self._check_owners(pubsub)
            if self._manager is not None and AsyncRuntime.monotonic() >= next_expiry_check:
                next_expiry_check = AsyncRuntime.monotonic() + self._check_interval()
                static = dict(self._channels)
                expired = [c for c in self._manager.expire_idle() if c not in static]
                if expired:
                    logger.info("unsubscribing idle channels %s", expired)
                    await self._reconcile(pubsub)

    async def _check_owners(self, pubsub: Any) -> None:
        """Re-read the slot map; raise (to resubscribe) when a shard channel's slot is owned by
        a node this listener is not subscribed on, as after a failover: the old owner, now a
        replica, may still relay the shard's messages, but SPUBLISH would not count us."""
        if not self.sharded or self._topology is None:
            return
        await self._topology.refresh(force=True)
        subscribed = set(getattr(pubsub, "node_pubsub_mapping", {}))
        for channel in list(self._live_channels):
            owner = self._topology.node_for(channel)
            if owner is not None and owner not in subscribed:
                raise RedisConnectionError(
                    f"shard channel {channel!r} moved to {owner}: subscribing there"
                )

    def _has_connection(self, pubsub: Any) -> bool:
        if self.sharded and hasattr(pubsub, "node_pubsub_mapping"):
            return bool(pubsub.node_pubsub_mapping)  # a cluster's shard subscriptions, per node
        return pubsub.connection is not None

    def _check_interval(self) -> float:
        return self._manager.check_interval if self._manager is not None else 3600.0

    async def _reconcile(self, pubsub: Any) -> list[str]:
        """Send what makes Redis match the wanted channels and patterns; return what was sent."""
        wanted = self._wanted_channels()
        add = [c for c in wanted if c not in self._live_channels]
        drop = [c for c in self._live_channels if c not in wanted]
        patterns = dict(self._patterns)
        add_p = [p for p in patterns if p not in self._live_patterns]
        drop_p = [p for p in self._live_patterns if p not in patterns]
        subscribe = pubsub.ssubscribe if self.sharded else pubsub.subscribe
        unsubscribe = pubsub.sunsubscribe if self.sharded else pubsub.unsubscribe
        if add:
            await subscribe(*add)
            self._live_channels.update(add)
        if add_p:
            await pubsub.psubscribe(*add_p)
            self._live_patterns.update(add_p)
        if drop:
            await unsubscribe(*drop)
            self._live_channels.difference_update(drop)
        if drop_p:
            await pubsub.punsubscribe(*drop_p)
            self._live_patterns.difference_update(drop_p)
        sent = add + drop + add_p + drop_p
        self._expect(sent)
        return sent

    async def _apply_requests(self, pubsub: Any) -> None:
        if self._requests.empty():  # the common case, checked on every message: keep it cheap
            return
        requests: list[_Request] = []
        while True:
            try:
                requests.append(self._requests.get_nowait())
            except QueueEmpty:
                break
        if not requests:
            return
        self._waiting.extend(requests)
        sent = await self._reconcile(pubsub)
        for request in requests:
            if request.sync:
                request.pending = set(sent)
            # Names already in the wanted state need no confirmation from Redis.
            request.pending &= self._unconfirmed
            if not request.pending:
                request.done.set()

    def _expect(self, names: list[str]) -> None:
        if names:
            self._unconfirmed = self._unconfirmed | set(names)
        if not self._unconfirmed:
            self._mark_connected()

    def _confirm(self, name: str) -> None:
        self._unconfirmed = self._unconfirmed - {name}
        for request in list(self._waiting):
            request.pending.discard(name)
            if not request.pending:
                request.done.set()
                self._waiting.remove(request)
        if not self._unconfirmed:
            self._mark_connected()

    def _mark_connected(self) -> None:
        for request in list(self._waiting):
            if not request.pending:
                request.done.set()
                self._waiting.remove(request)
        if self._unconfirmed:
            return
        if not self._connected.is_set():
            self._connected.set()
            self._delay = self._reconnect_delay  # confirmed: the next outage starts afresh

    def _release_waiters(self) -> None:
        while True:
            try:
                self._waiting.append(self._requests.get_nowait())
            except QueueEmpty:
                break
        for request in self._waiting:
            request.done.set()
        self._waiting.clear()
        self._unconfirmed = set()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in _CONFIRMATIONS:
            name = _text(message.get("channel"))
            if kind == "sunsubscribe" and name in self._live_channels:
                # Not asked for: the server dropped the subscription, as a node does for the
                # shard channels of a slot it no longer owns. Resubscribe on the new owner.
                raise RedisConnectionError(
                    f"shard channel {name!r} was unsubscribed by the server (its slot moved)"
                )
            self._confirm(name)
            return
        if kind not in _MESSAGES:
            return
        channel = _text(message.get("channel"))
        self.messages_received += 1
        try:
            value = self._serializer.loads(message.get("data"))
        except SerializationError as e:
            context = f"message on channel {channel!r} cannot be decoded"
            error = SerializationError.restate(e, context, message.get("data"), channel=channel)
            await self._report(error, channel, "dropped an undecodable message")
            return
        handler = self._handler
        if self._manager is not None:
            self._manager.update_activity(channel)
            handler = self._manager.get_channel_callback(channel) or handler
        if handler is None:
            return
        try:
            await AsyncRuntime.call(handler, channel, value)
        except BaseException as e:
            # A handler never ends the listener: not by an exception, nor by SystemExit,
            # KeyboardInterrupt or a CancelledError of something it awaited. Only the listener's
            # own cancellation (stop() timing out, the loop shutting down) goes through.
            if not isinstance(e, Exception) and AsyncRuntime.being_cancelled():
                raise
            self.handler_errors += 1
            await self._report(e, channel, "message handler raised")

    async def _report(self, error: BaseException, channel: str | None, what: str) -> None:
        self.last_error = error
        where = f" on channel {channel!r}" if channel is not None else ""
        logger.error("subscriber%s (%s): %s: %r", where, self._address, what, error)
        if self._on_error is None:
            return
        try:
            await AsyncRuntime.call(self._on_error, error, channel)
        except BaseException as e:
            if not isinstance(e, Exception) and AsyncRuntime.being_cancelled():
                raise
            logger.exception("on_error callback raised while reporting %r", error)

    async def _close(self, pubsub: Any) -> None:
        try:
            await pubsub.aclose()
        except (RedisError, OSError, RedisToolkitError) as e:
            logger.debug("closing the pub/sub connection failed: %r", e)
