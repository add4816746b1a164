"""Connection pools shared by configs that are really the same.

The pool manager ``async_pool_manager`` keeps one redis-py
pool per distinct :class:`~redis_toolkit.options.RedisConnectionConfig`: every field takes part
in the key, so configs that differ in TLS, timeouts or limits never share a pool (a 0.4 bug).
Async pools are bound to the event loop that created them and never shared across loops; the
pools of a loop that was closed are forgotten when the next loop asks for one.

Cluster configs get one shared cluster client per config (it owns a pool per node), and
``memory://`` configs an in-process fakeredis client.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from typing import Any

from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from .._compat import (
    AsyncBlockingConnectionPool,
    AsyncClusterNode,
    AsyncEmbedded,
    AsyncRedis,
    AsyncRedisCluster,
    AsyncRetry,
    AsyncRuntime,
)
from ..exceptions import ClusterConfigError, RedisToolkitError, wrap_redis_error
from ..options import RedisConnectionConfig

__all__ = ["AsyncConnectionPoolManager", "async_pool_manager"]

logger = logging.getLogger("redis_toolkit.pool")


def _client_kwargs(config: RedisConnectionConfig) -> dict[str, Any]:
    kwargs = config.to_redis_kwargs()
    # No hidden retries inside redis-py (its default retries timeouts, which can run an INCR
    # twice): what is safe to retry is decided above it.
    kwargs["retry"] = AsyncRetry(NoBackoff(), 0)
    return kwargs


def _new_standalone_pool(config: RedisConnectionConfig) -> Any:
    """The pool of a standalone server: bounded pools block for ``pool_timeout`` when full.

    redis-py's client picks the connection class (TCP, TLS, unix socket) and its arguments from
    the config's keyword arguments; the bounded pool is then built with the same ones.
    """
    plain = AsyncRedis(max_connections=config.pool_size, **_client_kwargs(config)).connection_pool
    if config.max_connections is None:
        return plain  # unbounded, as 0.4: nothing to wait for
    return AsyncBlockingConnectionPool(
        connection_class=plain.connection_class,
        max_connections=config.max_connections,
        timeout=config.pool_timeout,
        **plain.connection_kwargs,
    )


def _pool_counts(pool: Any) -> tuple[int, int]:
    """Connections of ``pool`` in use and idle, whichever redis-py pool class it is."""
    if hasattr(pool, "_in_use_connections"):
        return len(pool._in_use_connections), len(getattr(pool, "_available_connections", ()))
    # redis-py's sync BlockingConnectionPool: a queue of idle connections (None: a free slot).
    created = len(getattr(pool, "_connections", ()))
    idle = sum(1 for c in getattr(getattr(pool, "pool", None), "queue", ()) if c is not None)
    return created - idle, idle


def _cluster_kwargs(config: RedisConnectionConfig) -> dict[str, Any]:
    kwargs = config.get_cluster_options()
    kwargs["decode_responses"] = False
    # No hidden retries inside redis-py: what is safe to retry is decided above it.
    kwargs["retry"] = AsyncRetry(NoBackoff(), 0)
    return kwargs


class AsyncConnectionPoolManager:
    """Process-wide registry of connection pools, keyed by config (of this event loop).

    A singleton, as in 0.4: ``AsyncConnectionPoolManager()`` returns the module instance
    ``async_pool_manager``.
    """

    _instance: AsyncConnectionPoolManager | None = None
    _instance_lock = threading.Lock()

    def __new__(cls) -> AsyncConnectionPoolManager:
        with cls._instance_lock:
            if cls._instance is None:
                instance = super().__new__(cls)
                # loop token -> {config key -> pool or cluster client}
                instance._pools = weakref.WeakKeyDictionary()
                instance._addresses = {}
                # Guards the registry only; nothing is awaited while it is held.
                instance._lock = threading.Lock()
                cls._instance = instance
            return cls._instance

    _pools: weakref.WeakKeyDictionary[object, dict[tuple[Any, ...], Any]]
    _addresses: dict[tuple[Any, ...], str]
    _lock: threading.Lock

    def _bucket(self) -> dict[tuple[Any, ...], Any]:
        token = AsyncRuntime.loop_token()
        if token is None:
            raise RedisToolkitError(
                "async connection pools belong to an event loop: call this inside a running loop"
            )
        bucket = self._pools.get(token)
        if bucket is None:
            # A new loop: forget the pools of loops that were closed. Their connections hold
            # their loop, so the weak keys alone would never let go (one pool per asyncio.run()).
            for old in [t for t in self._pools if getattr(t, "is_closed", bool)()]:
                del self._pools[old]
            bucket = self._pools.setdefault(token, {})
        return bucket

    @staticmethod
    def _effective(
        config: RedisConnectionConfig, max_connections: int | None
    ) -> RedisConnectionConfig:
        if max_connections is None or max_connections == config.max_connections:
            return config
        return dataclasses.replace(config, max_connections=max_connections)

    def get_pool(self, config: RedisConnectionConfig, max_connections: int | None = None) -> Any:
        """The shared pool for ``config`` (created on first use).

        ``max_connections`` (0.4's second argument) overrides the config's limit. Returns a
        redis-py connection pool for a standalone server, the shared cluster client for
        ``cluster_mode``, and ``None`` for the embedded backend (it has no pool).
        """
        config = self._effective(config, max_connections)
        if config.is_embedded:
            return None
        key = config.pool_key()
        with self._lock:
            bucket = self._bucket()
            pool = bucket.get(key)
            if pool is None:
                pool = self._new_pool(config)
                bucket[key] = pool
                label = f" ({config.client_name})" if config.client_name else ""
                self._addresses[key] = config.address + label
                logger.debug("created pool for %s", config.address)
        return pool

    @staticmethod
    def _new_pool(config: RedisConnectionConfig) -> Any:
        if config.cluster_mode:
            return AsyncConnectionPoolManager._new_cluster(config)
        return _new_standalone_pool(config)

    @staticmethod
    def _new_cluster(config: RedisConnectionConfig) -> Any:
        nodes = [AsyncClusterNode(host, port) for host, port in config.cluster_nodes()]
        try:
            return AsyncRedisCluster(startup_nodes=nodes, **_cluster_kwargs(config))
        except (RedisError, RedisClusterException) as e:
            # The sync client discovers the topology right here: no node answering is a
            # connection failure, anything else a configuration problem.
            raise wrap_redis_error(e, "creating the cluster client", address=config.address) from e
        except Exception as e:
            raise ClusterConfigError(
                f"cannot create a cluster client for {config.address}: {e}"
            ) from e

    def create_client(
        self,
        config: RedisConnectionConfig,
        max_connections: int | None = None,
        *,
        shared: bool = True,
    ) -> Any:
        """A redis-py client for ``config``.

        With ``shared`` (the default, 0.4's ``use_connection_pool=True``) the client draws on the
        shared pool; otherwise it gets a pool of its own, closed with the client.
        """
        return self.client_for(config, max_connections, shared=shared)[0]

    def client_for(
        self,
        config: RedisConnectionConfig,
        max_connections: int | None = None,
        *,
        shared: bool = True,
    ) -> tuple[Any, bool]:
        """Like :meth:`create_client`, also saying whether the client really is on a shared pool."""
        config = self._effective(config, max_connections)
        if config.is_embedded:
            return AsyncEmbedded.client(config.embedded_name or "default"), False
        if True:  # ASYNC
            if AsyncRuntime.loop_token() is None:
                # Created outside an event loop (a module-level async toolkit): no loop to share
                # a pool in yet, so the client gets its own, bound to the loop that first uses it.
                shared = False
        if config.cluster_mode:
            return (self.get_pool(config) if shared else self._new_cluster(config)), shared
        if shared:
            return AsyncRedis(connection_pool=self.get_pool(config)), True
        # A client made from its own pool disconnects it when it is closed.
        return AsyncRedis.from_pool(_new_standalone_pool(config)), False

    async def warm_up(
        self, config: RedisConnectionConfig, max_connections: int | None = None
    ) -> int:
        """Open connections until the shared pool of ``config`` holds ``min_connections``.

        Returns how many were opened (about: idle ones are reused). The first requests then skip
        the TCP and TLS handshakes.
        """
        config = self._effective(config, max_connections)
        return await self.fill_pool(self.get_pool(config), config.min_connections)

    @staticmethod
    async def fill_pool(pool: Any, min_connections: int) -> int:
        """Open connections until ``pool`` holds ``min_connections``; return how many opened."""
        if pool is None or isinstance(pool, AsyncRedisCluster) or min_connections <= 0:
            return 0
        in_use, before = _pool_counts(pool)
        # Holding min_connections at once takes the idle ones and opens the rest.
        wanted = min_connections - in_use
        held = []
        try:
            for _ in range(max(0, wanted)):
                held.append(await pool.get_connection())
        finally:
            for connection in held:
                await pool.release(connection)
        return max(0, len(held) - before)

    async def close_pool(
        self, config: RedisConnectionConfig, max_connections: int | None = None
    ) -> bool:
        """Disconnect and forget the pool of ``config`` (in this loop); True if one existed."""
        key = self._effective(config, max_connections).pool_key()
        with self._lock:
            pool = self._bucket().pop(key, None)
        if pool is None:
            return False
        await self._close(pool)
        return True

    async def close_all_pools(self) -> None:
        """Disconnect and forget every pool (of this event loop)."""
        with self._lock:
            bucket = self._bucket()
            pools = list(bucket.values())
            bucket.clear()
        for pool in pools:
            await self._close(pool)

    @staticmethod
    async def _close(pool: Any) -> None:
        if isinstance(pool, AsyncRedisCluster):
            await pool.aclose()
        else:
            await pool.disconnect()

    def get_pool_stats(self) -> dict[str, dict[str, Any]]:
        """Per pool (of this event loop): address, connections in use, idle and maximum.

        ``lane_connections`` is the connection the sync toolkit's plain SET and GET keep
        checked out of the pool (0 or 1, see ``redis_toolkit._lean``; always 0 in async); it
        counts in ``created_connections``, not in ``in_use_connections``.

        Keys are the pools' addresses (never credentials); a cluster client reports its nodes.
        """
        stats: dict[str, dict[str, Any]] = {}
        with self._lock:
            pools = list(self._bucket().items())
        for key, pool in pools:
            name = self._addresses.get(key, "?")
            if name in stats:
                name = f"{name}#{len(stats)}"
            if isinstance(pool, AsyncRedisCluster):
                stats[name] = {"kind": "cluster", "nodes": len(pool.get_nodes())}
                continue
            in_use, available = _pool_counts(pool)
            if True:  # ASYNC
                lane = 0  # the lane is the sync toolkit's
            else:
                from .._lean import held_by_lane

                lane = held_by_lane(pool)
            stats[name] = {
                "kind": "standalone",
                "in_use_connections": in_use - lane,
                "available_connections": available,
                "lane_connections": lane,
                "created_connections": in_use + available,
                "max_connections": pool.max_connections,
            }
        return stats


#: The process-wide pool manager: what ``AsyncConnectionPoolManager()`` returns.
async_pool_manager = AsyncConnectionPoolManager()
