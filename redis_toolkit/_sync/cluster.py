# Generated from redis_toolkit/_async/cluster.py by tools/run_unasync.py. DO NOT EDIT.
"""Cluster-wide operations of a toolkit: scan every primary, batches grouped per node, node info.

``ClusterOperations`` here; ``ClusterOperations`` in the generated sync copy. Both are
importable from ``redis_toolkit.cluster_utils`` and reachable as ``toolkit.cluster``. Every
Redis call goes through the toolkit's resilience path (breaker, retries, metrics) and values are
encoded and decoded with the toolkit's serializer.

On a standalone server the same calls work with the server as the one "node": ``scan_cluster``
scans it, ``mget_cluster``/``mset_cluster`` are ``batch_get``/``batch_set``, and
``get_nodes_info`` describes it (``slots`` empty).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisClusterException, RedisError

from .._compat import Runtime
from .._validation import as_key_list, check_batch_size, check_key, chunks, ttl_args
from ..cluster_slots import (
    ScanResult,
    group_by_slot,
    hash_tag,
    keyslot,
    require_same_slot,
    same_slot,
)
from ..exceptions import BatchWriteError, ClusterConfigError, RedisToolkitError, ValidationError
from ..options import RedisOptions
from .pool import pool_manager

if TYPE_CHECKING:
    from .client import RedisToolkit

__all__ = ["ClusterOperations"]

#: Keys per pipelined round trip to one node in ``mset_cluster``.
NODE_CHUNK_SIZE = 1000


def _pack_mgets(slots: list[list[Any]]) -> bytes:
    """One MGET per list of keys, in the Redis protocol (keys as UTF-8)."""
    parts = []
    for keys in slots:
        parts.append(b"*%d\r\n$4\r\nMGET\r\n" % (len(keys) + 1))
        for key in keys:
            raw = key.encode("utf-8") if type(key) is str else bytes(key)
            parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _key_text(raw: Any) -> Any:
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    return raw


class ClusterOperations:
    """Cluster-wide operations over one toolkit: ``toolkit.cluster`` or ``ClusterOperations(tk)``.

    Works on a Redis Cluster and, with the server as its only node, on a standalone server.
    """

    def __init__(self, toolkit: RedisToolkit) -> None:
        self._toolkit = toolkit
        self._run = toolkit._run
        self._fast: bool | None = None

    @property
    def _client(self) -> Any:
        return self._toolkit.client

    @property
    def is_cluster(self) -> bool:
        """True when the toolkit talks to a Redis Cluster (False: one standalone server)."""
        return bool(self._toolkit._cluster)

    # -- pure helpers (no I/O; the same on a standalone server) -------------------------------

    @staticmethod
    def keyslot(key: str | bytes) -> int:
        """The cluster slot (0-16383) of ``key``, computed locally (CRC16, hash tags honoured)."""
        return keyslot(key)

    @staticmethod
    def hash_tag(key: str, tag: str) -> str:
        """``"{tag}:key"``: keys built with one tag share a slot (see ``cluster_slots``)."""
        return hash_tag(key, tag)

    @staticmethod
    def same_slot(keys: list[str] | list[bytes]) -> bool:
        """True when every key of ``keys`` maps to one slot."""
        return same_slot(keys)

    # -- topology ------------------------------------------------------------------------------

    def _ready(self) -> None:
        # The async cluster client learns the topology on its first command; grouping keys per
        # node needs it before that. (The sync client learns it when it is created.)
        if getattr(self._client, "_initialize", False):
            self._run("CLUSTER SLOTS", self._client.initialize, idempotent=True)

    def _group_by_node(self, keys: list[Any]) -> dict[str, list[Any]]:
        """``keys`` grouped by the name of the primary that serves their slot."""
        manager = self._client.nodes_manager
        groups: dict[str, list[Any]] = {}
        for slot, slot_keys in group_by_slot(keys).items():
            node = manager.get_node_from_slot(slot)
            groups.setdefault(node.name, []).extend(slot_keys)
        return groups

    # -- scan ----------------------------------------------------------------------------------

    def scan_cluster(
        self, pattern: str = "*", count: int = 1000, *, key_type: str | None = None
    ) -> ScanResult:
        """Every key matching ``pattern`` on every primary, as a :class:`ScanResult` (a list).

        SCAN (never KEYS) with ``count`` keys per page, each primary to the end of its cursor
        (in parallel in the async API). Each key appears once. If a node's scan fails, the keys
        of the other nodes are still returned and ``result.complete`` is False, with
        ``result.failed_nodes`` naming the node and the error: check it before acting on "all
        keys" (e.g. during a failover). The whole result is held in memory.
        """
        if not isinstance(pattern, str) or not pattern:
            raise ValidationError(f"scan_cluster pattern must be a non-empty str, got {pattern!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValidationError(f"scan_cluster count must be an int >= 1, got {count!r}")
        if self.is_cluster:
            self._ready()
            nodes: list[Any] = list(self._client.get_primaries())
        else:
            nodes = [None]
        names = [self._node_name(node) for node in nodes]
        outcomes = Runtime.gather(
            *(self._scan_node(node, pattern, count, key_type) for node in nodes)
        )
        found: dict[Any, None] = {}
        failed: dict[str, str] = {}
        for name, (keys, error) in zip(names, outcomes):
            found.update(dict.fromkeys(keys))
            if error is not None:
                failed[name] = error
        return ScanResult(found, nodes=names, failed_nodes=failed)

    def _node_name(self, node: Any) -> str:
        if node is not None:
            return str(node.name)
        kwargs = getattr(getattr(self._client, "connection_pool", None), "connection_kwargs", {})
        if "path" in kwargs:
            return f"unix:{kwargs['path']}"
        if "host" in kwargs:
            return f"{kwargs['host']}:{kwargs.get('port', 6379)}"
        return self._toolkit._address

    def _scan_node(
        self, node: Any, pattern: str, count: int, key_type: str | None
    ) -> tuple[list[Any], str | None]:
        keys: list[Any] = []
        cursor = 0
        try:
            while True:
                cursor, page = self._run(
                    "SCAN", self._scan_page, node, cursor, pattern, count, key_type, key=pattern
                )
                keys.extend(_key_text(k) for k in page)
                if cursor == 0:
                    return keys, None
        except RedisToolkitError as e:
            return keys, str(e)

    def _scan_page(
        self, node: Any, cursor: int, pattern: str, count: int, key_type: str | None
    ) -> tuple[int, list[Any]]:
        if node is None:
            cursor, page = self._client.scan(
                cursor, match=pattern, count=count, _type=key_type
            )
            return int(cursor), page
        cursors, page = self._client.scan(
            cursor, match=pattern, count=count, _type=key_type, target_nodes=node
        )
        return int(cursors[node.name]), page

    # -- batches -------------------------------------------------------------------------------

    def mget_cluster(self, keys: list[str]) -> dict[str, Any]:
        """The values of ``keys`` as a dict in the order given (missing keys map to ``None``).

        The same as ``toolkit.batch_get``: values are decoded with the toolkit's serializer (one
        that cannot be decoded raises :class:`~redis_toolkit.exceptions.SerializationError`
        naming its key). On a cluster, keys are grouped per slot (MGET takes the keys of one
        slot) and per node: each node gets all its MGETs in one write and answers in one read,
        the nodes at the same time. Not a snapshot: keys of different slots are read at
        slightly different times.
        """
        names = as_key_list(keys, "mget_cluster")
        for name in names:
            check_key(name, self._toolkit.options, writing=False)
        return self._toolkit.batch_get(names)

    # -- batched reads (the cluster path of batch_get) -------------------------------------------

    def _fast_reads(self) -> bool:
        # Replica reads need READONLY connections, and a key encoding other than UTF-8 would
        # hash to other slots than computed here: leave those to redis-py. Decided once.
        if self._fast is None:
            client = self._client
            encoding = str(client.get_encoder().encoding).lower().replace("-", "")
            self._fast = (
                encoding == "utf8"
                and not getattr(client, "read_from_replicas", False)
                and getattr(client, "load_balancing_strategy", None) is None
            )
        return self._fast

    def _mget_values(self, keys: list[Any]) -> list[Any]:
        """The raw values of ``keys`` in order (a cluster's ``batch_get`` runs on this).

        Per node, the MGETs of every slot go out in one write and their replies come back in
        one read, over one connection of the node (all nodes are written before any is read,
        so they work at the same time): far less work per command than redis-py's cluster
        pipeline. Anything unexpected (a MOVED reply after a resharding or a failover, a
        broken connection, a slot missing from the map) drops those connections and hands the
        whole read to redis-py's ``mget_nonatomic``, which follows redirections and refreshes
        the topology.
        """
        if not self._fast_reads():
            return list(self._client.mget_nonatomic(keys))
        if getattr(self._client, "_initialize", False):
            # Not through _ready(): this already runs inside the caller's resilience path.
            self._client.initialize()
        try:
            return self._mget_by_node(keys)
        except (RedisError, RedisClusterException, KeyError):
            return list(self._client.mget_nonatomic(keys))

    def _mget_by_node(self, keys: list[Any]) -> list[Any]:
        # The slot map itself: get_node_from_slot() costs microseconds per call in redis-py 8
        # (an argument-deprecation wrapper), which adds up over ~1,000 slots.
        slots_cache = self._client.nodes_manager.slots_cache
        groups: dict[str, tuple[Any, list[list[Any]]]] = {}
        for slot, slot_keys in group_by_slot(keys).items():
            node = slots_cache[slot][0]  # the primary; KeyError: slot not covered
            groups.setdefault(node.name, (node, []))[1].append(slot_keys)
        held: list[tuple[Any, Any]] = []
        done = False
        try:
            for node, slots in groups.values():
                if hasattr(node, "acquire_connection"):  # async client: the node holds them
                    owner, connection = node, node.acquire_connection()
                else:  # sync client: the node's own redis client holds its pool
                    owner = node.redis_connection.connection_pool
                    connection = owner.get_connection()
                held.append((owner, connection))
                if getattr(connection, "should_reconnect", bool)():
                    connection.disconnect()  # marked after a topology change
                connection.send_packed_command([_pack_mgets(slots)])
            values: dict[Any, Any] = {}
            for (_, slots), (_, connection) in zip(groups.values(), held):
                for slot_keys in slots:
                    values.update(zip(slot_keys, connection.read_response()))
            done = True
            return [values[key] for key in keys]
        finally:
            for owner, connection in held:
                if not done:
                    connection.disconnect()  # replies may be left unread on it
                owner.release(connection)

    def _pipeline(self, commands: list[list[Any]], transaction: bool = False) -> list[Any]:
        pipe = self._client.pipeline(transaction=transaction)
        for command in commands:
            pipe.execute_command(*command)
        return list(pipe.execute())

    def mset_cluster(
        self,
        mapping: Mapping[str, Any],
        ttl: float | timedelta | None = None,
        *,
        atomic: bool = False,
        options: RedisOptions | None = None,
    ) -> None:
        """Store every ``key -> value`` of ``mapping`` (optional common ``ttl``), grouped per node.

        Every key and value is validated and encoded before anything is sent. Nodes are written
        in parallel in the async API, each in pipelined chunks (MSET per slot, or SET with the
        TTL). Not atomic across slots: if a node fails, the other nodes' keys are still written
        and :class:`~redis_toolkit.exceptions.BatchWriteError` lists ``failed_keys`` (not
        confirmed written) and ``written_keys``.

        ``atomic=True`` writes all or nothing (MSET, or MULTI/EXEC with a TTL); every key must
        then be in one slot — on a standalone server too, so the code keeps working on a
        cluster — or :class:`~redis_toolkit.exceptions.CrossSlotError` is raised before anything
        is sent (the fix is a common hash tag).
        """
        toolkit = self._toolkit
        opts = toolkit.options if options is None else options
        if not isinstance(mapping, Mapping):
            raise ValidationError(f"mset_cluster takes a mapping, got {type(mapping).__name__}")
        extra = ttl_args(ttl, "<batch>")
        serializer = toolkit._serializer_for(opts)
        encoded: dict[Any, bytes] = {}
        for name, value in mapping.items():
            check_key(name, opts)
            encoded[name] = toolkit._encode(name, value, opts, serializer)
        check_batch_size(sum(map(len, encoded.values())), len(encoded), opts)
        if not encoded:
            return
        if atomic:
            require_same_slot(list(encoded), "mset_cluster(atomic=True)")
            commands = self._write_commands(list(encoded), encoded, extra)
            first = next(iter(encoded))
            self._run("MSET", self._pipeline, commands, bool(extra), key=first)
            return
        if not self.is_cluster:
            toolkit.batch_set(mapping, opts, ttl=ttl)
            return
        self._ready()
        groups = self._group_by_node(list(encoded))
        outcomes = Runtime.gather(
            *(self._mset_node(ks, encoded, extra) for ks in groups.values())
        )
        written = [k for done, _ in outcomes for k in done]
        errors = [(node, e) for node, (_, e) in zip(groups, outcomes) if e is not None]
        if errors:
            done = set(written)
            failed = [k for k in encoded if k not in done]
            detail = "; ".join(f"{node}: {e}" for node, e in errors)
            raise BatchWriteError(
                f"mset_cluster wrote {len(written)} of {len(encoded)} keys; {len(failed)} were "
                f"not confirmed written (first: {failed[0]!r}) because {len(errors)} of "
                f"{len(groups)} nodes failed: {detail}",
                failed_keys=failed,
                written_keys=written,
            ) from errors[0][1]

    @staticmethod
    def _write_commands(
        keys: list[Any], encoded: dict[Any, bytes], extra: dict[str, int]
    ) -> list[list[Any]]:
        if extra:
            ((unit, amount),) = extra.items()
            return [["SET", k, encoded[k], unit.upper(), amount] for k in keys]
        return [
            ["MSET", *[part for k in slot_keys for part in (k, encoded[k])]]
            for slot_keys in group_by_slot(keys).values()
        ]

    def _mset_node(
        self, keys: list[Any], encoded: dict[Any, bytes], extra: dict[str, int]
    ) -> tuple[list[Any], RedisToolkitError | None]:
        written: list[Any] = []
        for chunk in chunks(keys, NODE_CHUNK_SIZE):
            commands = self._write_commands(chunk, encoded, extra)
            try:
                self._run("MSET", self._pipeline, commands, key=chunk[0])
            except RedisToolkitError as e:
                return written, e
            written.extend(chunk)
        return written, None

    # -- nodes ---------------------------------------------------------------------------------

    def get_nodes_info(self) -> list[dict[str, Any]]:
        """One dict per node: role, slots, replicas, link state, memory and keys.

        Keys of each dict: ``name`` (``"host:port"``), ``host``, ``port``, ``node_id``,
        ``role`` (``"primary"`` or ``"replica"``), ``flags``, ``slots`` (``[(first, last),
        ...]``), ``slot_count``, ``primary`` (a replica's primary, else None), ``replicas``
        (names), ``link_state`` (``"connected"``, ``"disconnected"`` or ``"failing"``, as the
        cluster bus sees it), ``memory_used`` (bytes), ``memory_human``, ``keys`` (DBSIZE) and
        ``error`` (None, or why memory and keys could not be read: they are None then). The
        topology comes from CLUSTER NODES of one node; memory and keys are asked of each node
        (in parallel in the async API). On a standalone server: one entry, ``slots`` empty.
        """
        if not self.is_cluster:
            return [self._standalone_info()]
        self._ready()
        topology = self._run("CLUSTER NODES", self._client.cluster_nodes, idempotent=True)
        infos = [self._describe(name, raw, topology) for name, raw in topology.items()]
        infos.sort(key=lambda info: (info["role"] != "primary", info["name"]))
        stats = Runtime.gather(*(self._node_stats(info["name"]) for info in infos))
        for info, extra in zip(infos, stats):
            info.update(extra)
        return infos

    @staticmethod
    def _describe(name: str, raw: dict[str, Any], topology: dict[str, Any]) -> dict[str, Any]:
        flags = [f for f in str(raw.get("flags", "")).split(",") if f and f != "myself"]
        by_id = {v.get("node_id"): k for k, v in topology.items()}
        primary = "master" in flags
        slots = [(int(r[0]), int(r[-1])) for r in raw.get("slots", [])]
        host, _, port = name.rpartition(":")
        if "fail" in flags or "fail?" in flags:
            link = "failing"
        else:
            link = "connected" if raw.get("connected") else "disconnected"
        return {
            "name": name,
            "host": host,
            "port": int(port) if port.isdigit() else None,
            "node_id": raw.get("node_id"),
            "role": "primary" if primary else "replica",
            "flags": flags,
            "slots": slots,
            "slot_count": sum(last - first + 1 for first, last in slots),
            "primary": None if primary else by_id.get(raw.get("master_id")),
            "replicas": sorted(
                k for k, v in topology.items() if v.get("master_id") == raw.get("node_id")
            ),
            "link_state": link,
        }

    def _node_stats(self, name: str) -> dict[str, Any]:
        node = self._client.get_node(node_name=name)
        try:
            if node is not None:
                memory = self._run(
                    "INFO", self._client.info, "memory", target_nodes=node, idempotent=True
                )
                keys = self._run("DBSIZE", self._client.dbsize, target_nodes=node)
            else:
                memory, keys = self._direct_stats(name)
        except RedisToolkitError as e:
            return {"memory_used": None, "memory_human": None, "keys": None, "error": str(e)}
        return {
            "memory_used": memory.get("used_memory"),
            "memory_human": memory.get("used_memory_human"),
            "keys": int(keys),
            "error": None,
        }

    def _direct_stats(self, name: str) -> tuple[dict[str, Any], int]:
        # CLUSTER NODES lists a node the client's slot map lacks: CLUSTER SLOTS leaves out a
        # replica until its first sync is done. Ask it over a short-lived connection of its own.
        config = self._toolkit.config
        host, _, port = name.rpartition(":")
        if config is None or not port.isdigit():
            raise ClusterConfigError(
                f"node {name} is not in the client's slot map and the toolkit was given a client, "
                "not a config, so it cannot connect to the node directly"
            )
        direct = dataclasses.replace(
            config,
            url=None,
            cluster_mode=False,
            startup_nodes=None,
            host=host,
            port=int(port),
            max_connections=1,
            min_connections=0,
        )
        client = pool_manager.create_client(direct, shared=False)
        try:
            memory = self._run("INFO", client.info, "memory", idempotent=True)
            keys = self._run("DBSIZE", client.dbsize)
            return memory, int(keys)
        finally:
            client.close()

    def _standalone_info(self) -> dict[str, Any]:
        info = self._run("INFO", self._client.info, idempotent=True)
        keys = self._run("DBSIZE", self._client.dbsize)
        name = self._node_name(None)
        host, _, port = name.rpartition(":")
        replica = info.get("role") == "slave"
        replicas = [
            f"{v['ip']}:{v['port']}"
            for k, v in info.items()
            if k.startswith("slave") and isinstance(v, dict) and "ip" in v
        ]
        primary = f"{info.get('master_host')}:{info.get('master_port')}" if replica else None
        return {
            "name": name,
            "host": host,
            "port": int(port) if port.isdigit() else None,
            "node_id": info.get("run_id"),
            "role": "replica" if replica else "primary",
            "flags": [],
            "slots": [],
            "slot_count": 0,
            "primary": primary,
            "replicas": replicas,
            "link_state": "connected",
            "memory_used": info.get("used_memory"),
            "memory_human": info.get("used_memory_human"),
            "keys": int(keys),
            "error": None,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._toolkit!r}>"
