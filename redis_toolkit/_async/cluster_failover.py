"""Failover handling on a Redis Cluster: a breaker per node, topology refresh, per-node health.

redis-py's cluster client counts retries but does not wait between them, so during a failover
every retry fires at once against the dead master. The toolkit's cluster path
(:class:`AsyncClusterResiliencePath`) does the backoff itself, within a deadline that covers a
failover (``2 x cluster_node_timeout + 2`` s by default), and re-reads the slot map
(:meth:`AsyncClusterTopology.refresh`) before each retry that follows a connection error,
``CLUSTERDOWN``, ``MOVED``/``ASK`` or ``TRYAGAIN``. The breaker is picked by the node that owns
the key's slot, so a dead master never refuses keys of the healthy ones.
:class:`AsyncClusterHealthChecker` PINGs every primary and reports per node.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import (
    AskError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..resilience import CircuitBreakerState, RedisMetrics, RetryPolicy
from .resilience import AsyncCircuitBreaker, AsyncHealthChecker, AsyncResiliencePath

__all__ = [
    "AsyncClusterTopology",
    "AsyncClusterResiliencePath",
    "AsyncClusterHealthChecker",
    "AsyncPerNodeCommands",
    "closed_under_call",
]

logger = logging.getLogger("redis_toolkit.cluster")

#: Errors after which the slot map may be stale: re-read it before the next attempt.
REFRESH_ON: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    SlotNotCoveredError,
    MovedError,
    AskError,
    TryAgainError,
    MasterDownError,
)


def closed_under_call(error: BaseException) -> RedisConnectionError | None:
    """A connection error for ``error`` when it is redis-py's closed-connection race, else None.

    On a topology refresh redis-py disconnects the idle connections of a node that left the
    slot map while they stay in the node's free list; a command that took one meanwhile finds
    its reader or writer gone and raises ``AttributeError: 'NoneType' object has no attribute
    ...`` from redis-py's code. That is a connection lost under the command: it is retried (if
    it may be, see docs/RESILIENCE.md) and reported as a connection error, never as a bug.
    """
    if not isinstance(error, AttributeError) or not str(error).startswith(
        "'NoneType' object has no attribute"
    ):
        return None
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", "")) if tb is not None else ""
    if not module.startswith("redis."):
        return None
    lost = RedisConnectionError(f"connection closed while in use (topology refresh): {error}")
    lost.__cause__ = error
    return lost


class AsyncClusterTopology:
    """The toolkit's view of a cluster client's topology: slot owners, breakers, failovers.

    :meth:`breaker_for` answers from redis-py's slot cache (no network): the breaker of the
    node owning the key's slot, created on first use with ``breaker_settings``; keys not yet
    mapped and key-less commands share the ``cluster`` breaker. :meth:`refresh` re-reads the slot
    map, at most once per ``min_refresh_interval`` seconds however many callers ask, and counts
    refreshes and failovers (a node that became a primary) in ``metrics``.
    """

    def __init__(
        self,
        client: Any,
        *,
        metrics: RedisMetrics | None = None,
        breaker_settings: dict[str, Any] | None = None,
        address: str = "",
        min_refresh_interval: float = 0.1,
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._breaker_settings = breaker_settings
        self._address = address
        self.min_refresh_interval = min_refresh_interval
        self._breakers: dict[str, AsyncCircuitBreaker] = {}
        self._last_refresh = 0.0
        self._primaries: frozenset[str] | None = None
        self.refreshes = 0
        self.failovers = 0
        #: The breaker of key-less commands and of keys whose slot is not mapped yet.
        self.cluster_breaker = self._new_breaker("cluster")

    def _new_breaker(self, node: str) -> AsyncCircuitBreaker | None:
        if self._breaker_settings is None:
            return None
        breaker = AsyncCircuitBreaker(name=f"{self._address} node {node}", **self._breaker_settings)
        if self._metrics is not None:
            breaker.add_listener(self._metrics.record_breaker_transition)
        return breaker

    @property
    def breakers(self) -> dict[str, AsyncCircuitBreaker]:
        """The per-node breakers created so far, by node name (``host:port``)."""
        return dict(self._breakers)

    def node_for(self, key: Any) -> str | None:
        """The name of the node owning ``key``'s slot in the cached slot map, or None."""
        client = self._client
        try:
            node = client.nodes_manager.get_node_from_slot(client.keyslot(key))
        except (RedisError, RedisClusterException, KeyError, TypeError, AttributeError):
            return None
        if self._primaries is None:
            self.observe()
        return str(node.name)

    def breaker(self, node: str) -> AsyncCircuitBreaker | None:
        """The breaker of ``node`` (``host:port``), created on first use."""
        breaker = self._breakers.get(node)
        if breaker is None and self._breaker_settings is not None:
            breaker = self._breakers.setdefault(node, self._new_breaker(node))  # type: ignore[arg-type]
        return breaker

    def breaker_for(self, key: Any) -> CircuitBreakerState | None:
        """The breaker state machine for ``key`` (its slot owner's), or the cluster breaker's."""
        if self._breaker_settings is None:
            return None
        node = self.node_for(key) if key is not None else None
        breaker = self.breaker(node) if node is not None else self.cluster_breaker
        return breaker.core if breaker is not None else None

    def observe(self) -> None:
        """Compare the primaries in redis-py's cache with the last ones seen; count failovers."""
        try:
            primaries = frozenset(str(n.name) for n in self._client.get_primaries())
        except (RedisError, RedisClusterException, AttributeError):
            return
        if not primaries:
            return
        if self._primaries is not None:
            new = primaries - self._primaries
            if new:
                self.failovers += len(new)
                if self._metrics is not None:
                    self._metrics.record_failover(len(new))
                logger.warning(
                    "cluster %s: failover, %s now primary (was %s)",
                    self._address,
                    ", ".join(sorted(new)),
                    ", ".join(sorted(self._primaries - primaries)) or "?",
                )
        self._primaries = primaries

    async def ready(self) -> None:
        """Make sure the client has read the slot map once (the async client reads it lazily)."""
        if True:  # ASYNC
            await self._client.initialize()

    async def refresh(self, *, force: bool = False, min_interval: float | None = None) -> bool:
        """Re-read the slot map now; False when skipped (another refresh ran less than
        ``min_interval`` seconds ago, default ``min_refresh_interval``) or failed.

        A failure is logged at debug level and left to the caller's retry loop: during a
        failover the nodes asked may still name the dead master, and the next retry refreshes
        again.
        """
        now = time.monotonic()
        interval = self.min_refresh_interval if min_interval is None else min_interval
        if not force and now - self._last_refresh < interval:
            return False
        self._last_refresh = now  # claimed before awaiting: concurrent callers skip
        self.observe()
        self.refreshes += 1
        if self._metrics is not None:
            self._metrics.record_topology_refresh()
        client = self._client
        try:
            if True:  # ASYNC
                client._initialize = True
                await client.initialize()
            else:
                client.nodes_manager.initialize()
        except (RedisError, RedisClusterException, OSError) as e:
            logger.debug("cluster %s: topology refresh failed: %r", self._address, e)
            return False
        self.observe()
        return True

    def per_node(self, make: Callable[[Any], Any]) -> AsyncPerNodeCommands:
        """The client's commands with each single-key one sent through ``make(client)`` of its
        slot owner (see :class:`AsyncPerNodeCommands`)."""
        return AsyncPerNodeCommands(self._client, self, make)

    def status(self) -> dict[str, Any]:
        """Primaries last seen, refreshes and failovers counted, breaker state per node."""
        return {
            "primaries": sorted(self._primaries or ()),
            "topology_refreshes": self.refreshes,
            "failovers": self.failovers,
            "breakers": {name: b.state.value for name, b in sorted(self._breakers.items())},
        }


class AsyncClusterResiliencePath(AsyncResiliencePath):
    """The resilience path of a cluster toolkit: the breaker of the key's node, backoff with
    topology refresh between attempts, failovers counted.

    The retry rules are :class:`AsyncResiliencePath`'s: a command that may have run (an INCR
    that timed out) is never sent again.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy | None,
        topology: AsyncClusterTopology,
        metrics: RedisMetrics | None,
        address: str = "",
    ) -> None:
        super().__init__(policy=policy, breaker=None, metrics=metrics, address=address)
        self.topology = topology

    async def run(
        self,
        command: str,
        fn: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        channel: str | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """``await fn(*args, **kwargs)`` through the key's node breaker and the retry policy.

        A redis-py error that ends the operation is raised as the toolkit error naming
        ``command`` and ``key``; ``CircuitOpenError`` when the node's breaker refuses.
        """
        topology = self.topology
        breaker = topology.breaker_for(key if key is not None else channel)
        permit = breaker.acquire(command) if breaker is not None else None
        metrics = self.metrics
        attempt = 0
        started = began = time.perf_counter()
        while True:
            try:
                try:
                    result = await fn(*args, **kwargs)
                except AttributeError as raw:
                    lost = closed_under_call(raw)
                    if lost is None:
                        raise
                    raise lost from raw
            except (RedisError, RedisClusterException) as e:
                wait = self._failed(
                    e, command, key, channel, idempotent, breaker, permit, attempt, started, began
                )
                refresh = isinstance(e, REFRESH_ON)
            except BaseException as e:
                if breaker is not None:
                    breaker.record_failure(e, permit)
                raise
            else:
                if metrics is not None:
                    metrics.record(command, time.perf_counter() - began, True)
                if breaker is not None:
                    breaker.record_success(permit)
                if attempt:
                    topology.observe()
                return result
            if refresh:
                # Re-read the slot map before the retry; the time it took counts as waiting.
                before = time.perf_counter()
                try:
                    await topology.refresh()
                except BaseException as e:
                    if breaker is not None:
                        breaker.record_failure(e, permit)
                    raise
                wait = max(0.0, wait - (time.perf_counter() - before))
            await self._backoff(wait, breaker, permit)
            attempt += 1
            began = time.perf_counter()


class AsyncClusterHealthChecker(AsyncHealthChecker):
    """PING every primary of the cluster in the background; report and feed breakers per node.

    The checker's own cluster client finds the primaries (it re-reads the slot map after a
    failed PING); each node's outcome goes to that node's breaker in ``topology``. A failed
    PING also makes ``topology`` re-read the toolkit's slot map, so that a failover is seen
    even with no traffic. :meth:`status` adds ``nodes``: per node, healthy, latency, last error
    and breaker state.
    """

    def __init__(self, client: Any, *, topology: AsyncClusterTopology, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self._topology = topology
        self._nodes: dict[str, dict[str, Any]] = {}

    @classmethod
    def for_cluster(
        cls, checker: AsyncHealthChecker | None, topology: AsyncClusterTopology
    ) -> AsyncClusterHealthChecker | None:
        """The per-node checker taking over ``checker``'s client and settings (None: none)."""
        if checker is None:
            return None
        return cls(
            checker._client,
            topology=topology,
            interval=checker.interval,
            enabled=checker.enabled,
            breaker=None,
            metrics=checker._metrics,
            timeout=checker._timeout,
            on_error=checker._on_error,
            address=checker._address,
            owns_client=checker._owns_client,
        )

    async def check(self) -> bool:
        """PING every primary once; True when all answered."""
        client = self._client
        began = time.perf_counter()
        try:
            if True:  # ASYNC
                await client.initialize()
            primaries = list(client.get_primaries())
        except (RedisError, RedisClusterException, OSError) as e:
            self._record(False, time.perf_counter() - began, e)
            return False
        ok = True
        first_error: BaseException | None = None
        seen = set()
        for node in primaries:
            name = str(node.name)
            seen.add(name)
            node_began = time.perf_counter()
            error: BaseException | None = None
            try:
                await client.execute_command("PING", target_nodes=node)
            except (RedisError, RedisClusterException, OSError) as e:
                error = e
            latency = time.perf_counter() - node_began
            self._nodes[name] = {
                "healthy": error is None,
                "role": "primary",
                "latency_ms": latency * 1000,
                "last_check": time.time(),
                "last_error": repr(error) if error is not None else None,
            }
            breaker = self._topology.breaker(name)
            if breaker is not None:
                breaker.core.report_health(error is None)
            if error is not None:
                ok = False
                first_error = first_error or error
        for name in [n for n in self._nodes if n not in seen]:
            self._nodes[name]["role"] = "not a primary"
        self._record(ok, time.perf_counter() - began, first_error)
        if not ok:
            await self._topology.refresh()
        else:
            self._topology.observe()
        return ok

    def status(self) -> dict[str, Any]:
        """The checker's status plus ``nodes``: per primary, healthy, latency, breaker state."""
        status = super().status()
        breakers = self._topology.breakers
        nodes = {}
        for name, info in sorted(self._nodes.items()):
            entry = dict(info)
            breaker = breakers.get(name)
            entry["circuit_breaker"] = breaker.state.value if breaker is not None else None
            nodes[name] = entry
        status["nodes"] = nodes
        status["cluster"] = self._topology.status()
        return status


#: Commands whose first argument is their only key: routed to the key's node.
_SINGLE_KEY = frozenset(
    {"get", "set", "pttl", "ttl", "pexpire", "expire", "persist", "publish", "spublish"}
)
#: Commands taking keys only: routed when they get exactly one.
_KEYS_ONLY = frozenset({"delete", "exists", "unlink", "touch"})


class AsyncPerNodeCommands:
    """A cluster client's commands, each single-key one handed to its slot owner's sender.

    ``make(client)`` builds a sender per node (the async toolkit passes its auto-pipelining
    coalescer): concurrent commands for one node share a pipeline round trip to that node, and
    a dead or stalled node holds back only its own keys' commands. Multi-key commands and
    commands whose node is not known yet go to the client directly.
    """

    def __init__(self, client: Any, topology: AsyncClusterTopology, make: Callable[[Any], Any]):
        self._client = client
        self._topology = topology
        self._make = make
        self._senders: dict[str, Any] = {}
        self._methods: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = self._methods.get(name)
        if method is None:
            method = self._methods[name] = self._route(name)
        return method

    def _sender(self, node: str) -> Any:
        sender = self._senders.get(node)
        if sender is None:
            sender = self._senders[node] = self._make(self._client)
        return sender

    def _route(self, name: str) -> Callable[..., Any]:
        direct = getattr(self._client, name)
        routed = name in _SINGLE_KEY
        keys_only = name in _KEYS_ONLY
        by_name = name == "execute_command"

        async def call(*args: Any, **kwargs: Any) -> Any:
            key: Any = None
            if args and (routed or (keys_only and len(args) == 1)):
                key = args[0]
            elif by_name and len(args) > 1 and str(args[0]).lower() in _SINGLE_KEY:
                key = args[1]  # execute_command("SET", key, ...), the setter's hot path
            if key is not None:
                node = self._topology.node_for(key)
                if node is not None:
                    return await getattr(self._sender(node), name)(*args, **kwargs)
            return await direct(*args, **kwargs)

        return call
