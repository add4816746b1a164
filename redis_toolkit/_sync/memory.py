# Generated from redis_toolkit/_async/memory.py by tools/run_unasync.py. DO NOT EDIT.
"""Memory for AI agents on any Redis: ``RedisMemoryBackend`` (alias ``RedisBackendV2``).

Entries live in Redis hashes with explicit fields (the embedding as raw float32); each write is
one MULTI/EXEC with its TTL, so no crash leaves an immortal entry. Search is exact, on a
client-side float32 matrix per namespace (:class:`~redis_toolkit.memory.engine.ExactEngine`),
kept fresh across processes by a version counter and a change log (see ``memory_store``).
Runs on a toolkit it owns, so every Redis call goes through its pool, breaker, retries and
metrics. The sync twin ``RedisMemoryBackend`` is generated from this module.

Longer than the house's ~600 lines on purpose: it is one public class (the design's API, about
twenty documented methods) whose writes and reads share the namespace lock and entry cache;
the namespace view and its coherence protocol already live apart in ``memory_store``, the
model, codec and search math in the pure ``redis_toolkit.memory`` package.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from redis.exceptions import WatchError

from .._compat import WatchPipeline
from ..memory.codec import (
    RESULT_FIELDS,
    KeyLayout,
    content_hash,
    decode_entry,
    encode_entry,
    expiry_score,
)
from ..memory.engine import ExactEngine, Hit, Row
from ..memory.errors import MemoryConflictError, MemoryValidationError
from ..memory.models import (
    MemoryEntry,
    MemoryQuery,
    MemoryResult,
    check_vectors,
    validate_entry,
    validate_id,
    validate_namespace,
    validate_query,
)
from ..memory.settings import MemorySettings
from ..options import RedisConnectionConfig, RedisOptions
from .client import RedisToolkit
from .locks import RedisLock
from .memory_store import NamespaceStore

__all__ = ["RedisMemoryBackend", "RedisBackendV2"]

logger = logging.getLogger("redis_toolkit.memory")

#: Entries per MULTI/EXEC in add_batch / delete_batch.
WRITE_CHUNK = 500


def _copy(entry: MemoryEntry) -> MemoryEntry:
    """A copy the caller may change freely (metadata and embedding copied too)."""
    new = copy.copy(entry)
    new.metadata = dict(entry.metadata)
    if isinstance(entry.embedding, np.ndarray):
        new.embedding = entry.embedding.copy()
    elif entry.embedding is not None:
        new.embedding = list(entry.embedding)
    return new


def _queue_read(pipe: Any, key: str, full: bool) -> None:
    if full:
        pipe.hgetall(key)
    else:
        pipe.hmget(key, RESULT_FIELDS)


def _as_fields(reply: Any, full: bool) -> dict[str, Any]:
    """An HGETALL or HMGET reply as ``{field name: raw value}`` (empty when the entry is gone)."""
    if full:
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in reply.items()}
    if reply[0] is None:
        return {}
    return dict(zip(RESULT_FIELDS, reply))


class RedisMemoryBackend:
    """A memory store for AI agents over plain Redis, Redis Cluster or ``memory://``.

    ``RedisMemoryBackend(config=RedisConfig(...), settings=MemorySettings(...))``; memory
    settings may also be given as keyword arguments (``dimension=384, metric="cosine",
    ttls={...}, key_prefix="mem", deduplicate=True``). Use it as a context manager or call
    :meth:`initialize` and :meth:`close`.

    Namespaces isolate tenants (one cluster slot each). ``query`` is exact (recall 1.0) and
    costs one round trip when the namespace did not change since the last call, plus the
    matrix product; changes by other processes are read in proportion to their size.
    """

    def __init__(
        self,
        config: RedisConnectionConfig | None = None,
        settings: MemorySettings | None = None,
        *,
        options: RedisOptions | None = None,
        url: str | None = None,
        **setting_fields: Any,
    ) -> None:
        if settings is not None and setting_fields:
            raise MemoryValidationError("pass memory settings either as `settings` or as keywords")
        if url is not None:
            if config is not None:
                raise MemoryValidationError("pass either `url` or `config`, not both")
            config = RedisConnectionConfig(url=url)
        self.config = config if config is not None else RedisConnectionConfig()
        self.settings = settings if settings is not None else MemorySettings(**setting_fields)
        opts = options if options is not None else RedisOptions(is_logger_info=False)
        self.toolkit = RedisToolkit(config=self.config, options=opts)
        self._client = self.toolkit.client
        self._run = self.toolkit._resilience.run
        self._writer = uuid.uuid4().hex
        self._stores: OrderedDict[str, NamespaceStore] = OrderedDict()
        self._dropped_stats: dict[str, int] = {}  # counters of namespaces no longer cached
        # Raw hashes of recently found entries, for query results (kept exact by the refresh).
        self._entries: OrderedDict[tuple[str, str], dict[Any, Any]] = OrderedDict()
        self._counts = {"queries": 0, "entry_cache_hits": 0, "entry_cache_misses": 0}
        self._initialized = False

    @classmethod
    def from_url(cls, url: str, **setting_fields: Any) -> RedisMemoryBackend:
        """A backend for ``redis://``, ``rediss://``, ``unix://`` or ``memory://name``."""
        return cls(url=url, **setting_fields)

    # -- lifecycle ---------------------------------------------------------------------------

    def initialize(self) -> None:
        """Connect (PING) and start the toolkit's health checks. Idempotent."""
        if not self._initialized:
            self.toolkit.__enter__()
            self._initialized = True

    def close(self) -> None:
        """Close the connections and stop the health checks; cached views are dropped."""
        self._stores.clear()
        self._entries.clear()
        self._initialized = False
        self.toolkit.close()

    def __enter__(self) -> RedisMemoryBackend:
        self.initialize()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------

    def _store(self, namespace: str) -> NamespaceStore:
        store = self._stores.get(namespace)
        if store is not None:
            self._stores.move_to_end(namespace)
        else:
            store = NamespaceStore(
                KeyLayout(self.settings.key_prefix, namespace),
                ExactEngine(self.settings.metric, self.settings.dimension),
                client=self._client,
                run=self._run,
                writer=self._writer,
                reclaim_interval=float(self.settings.reclaim_interval),
            )
            self._stores[namespace] = store
            while len(self._stores) > self.settings.max_cached_namespaces:
                dropped, old = self._stores.popitem(last=False)  # least recently used
                self._forget(dropped, ["*"])
                for name, value in old.stats.items():
                    self._dropped_stats[name] = self._dropped_stats.get(name, 0) + value
        return store

    def _remember(self, namespace: str, memory_id: str, fields: dict[Any, Any]) -> None:
        """Keep the raw hash of an entry found by a query."""
        size = self.settings.entry_cache_size
        if size <= 0 or not fields:
            return
        key = (namespace, memory_id)
        self._entries[key] = fields
        self._entries.move_to_end(key)
        while len(self._entries) > size:
            self._entries.popitem(last=False)

    def _forget(self, namespace: str, ids: Iterable[str]) -> None:
        for memory_id in ids:
            if memory_id == "*":
                for key in [k for k in self._entries if k[0] == namespace]:
                    del self._entries[key]
                return
            self._entries.pop((namespace, memory_id), None)

    def _dimension(self, store: NamespaceStore) -> int | None:
        if self.settings.dimension is not None:
            return self.settings.dimension
        if store.dim is None:
            raw = self._run(
                "HGET", self._client.hget, store.layout.meta, "dim", key=store.layout.meta
            )
            if raw is not None:
                store.dim = int(raw)
                if store.engine.dim is None:
                    store.engine.dim = store.dim
        return store.dim

    def _prepare(
        self,
        entry: MemoryEntry,
        dim: int | None,
        now: float,
        ttl: float | None,
        check_values: bool = True,
    ) -> tuple[np.ndarray | None, dict[str, Any]]:
        vector = validate_entry(entry, dim, check_values=check_values)
        if check_values:
            check_vectors([entry], [vector], nonzero=self.settings.metric == "cosine")
        if ttl is not None:
            if not ttl > 0:
                raise MemoryValidationError(f"memory {entry.id!r}: ttl must be > 0 seconds")
            entry.expires_at = now + float(ttl)
        elif entry.expires_at is None:
            type_ttl = self.settings.ttl_for(entry.memory_type)
            entry.expires_at = None if type_ttl is None else entry.created_at + type_ttl
        if entry.expires_at is not None and entry.expires_at <= now:
            raise MemoryValidationError(
                f"memory {entry.id!r}: expires_at is in the past (created_at + the TTL of "
                f"{entry.memory_type.value}); nothing was written",
                key=entry.id,
            )
        return vector, encode_entry(entry, vector)

    def _queue_entry(
        self, pipe: Any, lay: KeyLayout, entry: MemoryEntry, fields: dict[str, Any]
    ) -> None:
        key = lay.entry(entry.id)
        pipe.hset(key, mapping=fields)
        if entry.expires_at is not None:
            pipe.pexpireat(key, int(entry.expires_at * 1000))
        else:
            pipe.persist(key)

    def _queue_log(self, pipe: Any, store: NamespaceStore, ids: Sequence[str]) -> None:
        fields, maxlen = store.log_args(ids, self.settings.change_log_length)
        pipe.incrby(store.layout.version, len(ids))
        pipe.xadd(store.layout.log, fields, maxlen=maxlen, approximate=False)

    @staticmethod
    def _row(entry: MemoryEntry, vector: np.ndarray | None) -> Row:
        return Row(
            entry.id,
            vector,
            entry.memory_type,
            float(entry.importance),
            float(entry.created_at),
            entry.expires_at,
            entry.tags,
            entry.content,
        )

    def _write(
        self, store: NamespaceStore, items: list[tuple[MemoryEntry, Any, Any]], dim: int | None
    ) -> None:
        """One MULTI/EXEC for ``items`` (entry, vector, fields); versions set on the entries."""
        lay = store.layout
        ids = [entry.id for entry, _, _ in items]

        def go() -> Any:
            pipe = WatchPipeline.open(self._client, lay.ids)
            for entry, _vec, fields in items:
                self._queue_entry(pipe, lay, entry, fields)
            pipe.zadd(lay.ids, {e.id: expiry_score(e.expires_at) for e, _, _ in items})
            if self.settings.deduplicate:
                pipe.hset(lay.dedup, mapping={content_hash(e.content): e.id for e, _, _ in items})
            if dim is not None:
                pipe.hsetnx(lay.meta, "dim", dim)
            self._queue_log(pipe, store, ids)
            return pipe.execute()

        # Versions are stamps of the namespace's write counter: they grow with every write of
        # an entry and are never reused, even after a delete (one round trip per chunk).
        top = int(self._run("INCRBY", self._client.incrby, lay.seq, len(items), key=lay.seq))
        for n, (entry, _vec, fields) in enumerate(items):
            entry.version = top - len(items) + 1 + n
            fields["version"] = str(entry.version)
        with store.lock:
            self._run("MULTI", go, key=lay.entry(ids[0]), idempotent=False)
            store.applied([self._row(e, v) for e, v, _ in items], ())
            if dim is not None and store.dim is None:
                store.dim = dim
        self._forget(lay.namespace, ids)

    def _duplicates(
        self, store: NamespaceStore, entries: Sequence[MemoryEntry]
    ) -> dict[str, str]:
        """entry id -> id of a live entry with identical content (deduplicate=True)."""
        lay = store.layout
        hashes = [content_hash(e.content) for e in entries]
        owners = self._run("HMGET", self._client.hmget, lay.dedup, hashes, key=lay.dedup)
        found: dict[str, str] = {}
        candidates = [(e, o.decode()) for e, o in zip(entries, owners) if o is not None]
        if not candidates:
            return found

        def check() -> Any:
            pipe = self._client.pipeline(transaction=False)
            for _e, owner in candidates:
                pipe.hget(lay.entry(owner), "content")
            return pipe.execute()

        contents = self._run("HGET", check, key=lay.dedup)
        for (entry, owner), content in zip(candidates, contents):
            if content is not None and content.decode() == entry.content and owner != entry.id:
                found[entry.id] = owner
        return found

    # -- writes ------------------------------------------------------------------------------

    def add(self, entry: MemoryEntry, *, ttl: float | None = None) -> str:
        """Store ``entry`` (TTL from its type, or ``ttl`` seconds); return its id.

        Adding an id that exists replaces that entry (its version goes up: versions are stamps
        of a namespace-wide write counter, 1 for the first write of a new namespace). With
        ``deduplicate=True`` content identical to a live entry's returns that entry's id.
        """
        ids = self.add_batch([entry], ttl=ttl)
        return ids[0]

    def add_batch(
        self, entries: Sequence[MemoryEntry], *, ttl: float | None = None
    ) -> list[str]:
        """Store many entries; return their ids in order. All are validated before any write.

        Written in MULTI/EXEC chunks of ``WRITE_CHUNK`` entries per namespace.
        """
        entries = list(entries)
        if not entries:
            return []
        now = time.time()
        groups: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            if not isinstance(entry, MemoryEntry):
                raise MemoryValidationError(
                    f"add_batch: item {i} is a {type(entry).__name__}, not a MemoryEntry"
                )
            groups.setdefault(validate_namespace(entry.namespace), []).append(i)
        prepared: dict[str, tuple[NamespaceStore, int | None, list[Any]]] = {}
        for namespace, positions in groups.items():
            store = self._store(namespace)
            dim = self._dimension(store)
            items = []
            for i in positions:
                entry = entries[i]
                vector, fields = self._prepare(entry, dim, now, ttl, check_values=False)
                if dim is None and vector is not None:
                    dim = int(vector.shape[0])
                items.append((entry, vector, fields))
            check_vectors(
                [e for e, _, _ in items],
                [v for _, v, _ in items],
                nonzero=self.settings.metric == "cosine",
            )
            prepared[namespace] = (store, dim, items)
        result = [e.id for e in entries]
        for namespace, (store, dim, items) in prepared.items():
            if self.settings.deduplicate:
                dupes = self._duplicates(store, [e for e, _, _ in items])
                seen: dict[str, str] = {}
                kept = []
                for entry, vector, fields in items:
                    owner = dupes.get(entry.id) or seen.get(entry.content)
                    if owner is not None and owner != entry.id:
                        for i in groups[namespace]:
                            if entries[i] is entry:
                                result[i] = owner
                        continue
                    seen[entry.content] = entry.id
                    kept.append((entry, vector, fields))
                items = kept
            for start in range(0, len(items), WRITE_CHUNK):
                self._write(store, items[start : start + WRITE_CHUNK], dim)
        return result

    def update(
        self,
        entry: MemoryEntry | str,
        *,
        namespace: str = "default",
        retries: int = 3,
        ttl: float | None = None,
        **changes: Any,
    ) -> MemoryEntry:
        """Write a changed entry if nobody changed it since it was read; return the new state.

        ``update(entry)``: ``entry.version`` must still be the stored version, else
        :class:`MemoryConflictError` (read it again). ``update("id", importance=0.9, ...)``
        reads the entry, applies the changes and writes with the same check, re-reading up to
        ``retries`` times on a conflict. Changing ``memory_type`` re-derives the expiry from
        its TTL unless ``ttl`` or ``expires_at`` is given.
        """
        if isinstance(entry, MemoryEntry):
            if changes:
                entry = dataclasses.replace(entry, **changes)
            return self._update_once(entry, ttl)
        memory_id = validate_id(entry)
        attempt = 0
        while True:
            current = self.get(memory_id, namespace=namespace)
            if current is None:
                raise MemoryConflictError(
                    f"update({memory_id!r}): no such memory in namespace {namespace!r}",
                    key=memory_id,
                    expected=None,
                    actual=None,
                )
            if "memory_type" in changes and "expires_at" not in changes and ttl is None:
                changes["expires_at"] = None
            try:
                return self._update_once(dataclasses.replace(current, **changes), ttl)
            except MemoryConflictError as e:
                attempt += 1
                if attempt > retries:
                    e.attempts = attempt
                    raise

    def _update_once(self, entry: MemoryEntry, ttl: float | None) -> MemoryEntry:
        now = time.time()
        store = self._store(validate_namespace(entry.namespace))
        lay = store.layout
        dim = self._dimension(store)
        expected = entry.version
        entry.updated_at = now
        if entry.expires_at is None and ttl is None:
            type_ttl = self.settings.ttl_for(entry.memory_type)
            entry.expires_at = None if type_ttl is None else now + type_ttl
        vector, fields = self._prepare(entry, dim, now, ttl)
        key = lay.entry(entry.id)

        def go() -> Any:
            with WatchPipeline.open(self._client, key) as pipe:
                pipe.watch(key)
                stored = pipe.hget(key, "version")
                actual = int(stored) if stored is not None else None
                if actual != expected:
                    pipe.reset()
                    return ("conflict", actual)
                stamp = int(pipe.incr(lay.seq))
                fields["version"] = str(stamp)
                pipe.multi()
                self._queue_entry(pipe, lay, entry, fields)
                pipe.zadd(lay.ids, {entry.id: expiry_score(entry.expires_at)})
                if self.settings.deduplicate:
                    pipe.hset(lay.dedup, content_hash(entry.content), entry.id)
                self._queue_log(pipe, store, [entry.id])
                try:
                    pipe.execute()
                    return ("ok", stamp)
                except WatchError:
                    return ("conflict", "changed")

        with store.lock:
            status, detail = self._run("MULTI", go, key=key, idempotent=False)
            if status == "conflict":
                raise MemoryConflictError(
                    f"update of memory {entry.id!r} in namespace {lay.namespace!r} conflicts: "
                    f"read at version {expected}, stored version is "
                    f"{'newer' if detail == 'changed' else detail}; read it again and retry",
                    key=entry.id,
                    expected=expected,
                    actual=detail if isinstance(detail, int) else None,
                )
            entry.version = int(detail)
            store.applied([self._row(entry, vector)], ())
        self._forget(lay.namespace, [entry.id])
        return _copy(entry)

    def delete(self, memory_id: str, *, namespace: str = "default") -> bool:
        """Delete one memory; return whether it existed."""
        return self.delete_batch([memory_id], namespace=namespace) == 1

    def delete_batch(self, ids: Sequence[str], *, namespace: str = "default") -> int:
        """Delete memories of one namespace; return how many existed."""
        ids = [validate_id(i) for i in ids]
        store = self._store(validate_namespace(namespace))
        lay = store.layout
        deleted = 0
        for start in range(0, len(ids), WRITE_CHUNK):
            chunk = ids[start : start + WRITE_CHUNK]

            def go(chunk: list[str] = chunk) -> Any:
                pipe = WatchPipeline.open(self._client, lay.ids)
                pipe.delete(*[lay.entry(i) for i in chunk])
                pipe.zrem(lay.ids, *chunk)
                self._queue_log(pipe, store, chunk)
                return pipe.execute()

            with store.lock:
                replies = self._run("MULTI", go, key=lay.entry(chunk[0]), idempotent=False)
                store.applied((), chunk)
            deleted += int(replies[0])
            self._forget(namespace, chunk)
        return deleted

    def clear(self, namespace: str = "default") -> int:
        """Delete every memory of ``namespace``; return how many keys of entries were removed."""
        store = self._store(validate_namespace(namespace))
        lay = store.layout
        raw = self._run("ZRANGE", self._client.zrange, lay.ids, 0, -1, key=lay.ids)
        ids = [i.decode() if isinstance(i, bytes) else i for i in raw]
        removed = 0
        with store.lock:
            for start in range(0, len(ids), WRITE_CHUNK):
                keys = [lay.entry(i) for i in ids[start : start + WRITE_CHUNK]]
                removed += int(self._run("DEL", self._client.delete, *keys, key=keys[0]))

            def go() -> Any:
                pipe = WatchPipeline.open(self._client, lay.ids)
                pipe.delete(lay.ids, lay.dedup, lay.meta)  # not seq: versions stay unique
                pipe.incrby(lay.version, 1)
                pipe.xadd(
                    lay.log,
                    {"op": "clear", "n": 1, "w": self._writer},
                    maxlen=self.settings.change_log_length,
                    approximate=False,
                )
                return pipe.execute()

            self._run("MULTI", go, key=lay.version, idempotent=False)
            store.engine.clear()
            store.loaded = False
            store.dim = self.settings.dimension
        self._forget(namespace, ["*"])
        return removed

    # -- reads -------------------------------------------------------------------------------

    def get(self, memory_id: str, *, namespace: str = "default") -> MemoryEntry | None:
        """The memory ``memory_id`` (None if absent or expired)."""
        found = self.get_batch([memory_id], namespace=namespace)
        return found[memory_id]

    def get_batch(
        self, ids: Sequence[str], *, namespace: str = "default"
    ) -> dict[str, MemoryEntry | None]:
        """``{id: entry or None}`` in the order given, in one pipelined round trip per chunk."""
        ids = [validate_id(i) for i in ids]
        lay = KeyLayout(self.settings.key_prefix, validate_namespace(namespace))
        now = time.time()
        result: dict[str, MemoryEntry | None] = {}
        for memory_id, fields in zip(ids, self._read_raw(lay, ids)):
            entry = decode_entry(memory_id, namespace, fields) if fields else None
            if entry is not None and entry.expires_at is not None and entry.expires_at <= now:
                entry = None
            result[memory_id] = entry
        return result

    def _uncached(self, namespace: str, hits: Sequence[Hit], full: bool) -> list[str]:
        """Ids of ``hits`` whose hash is not in the entry cache (with the embedding if ``full``)."""
        missing = []
        for hit in hits:
            fields = self._entries.get((namespace, hit.id))
            if fields is None or (full and "embedding" not in fields):
                missing.append(hit.id)
        return missing

    def _read_raw(
        self, lay: KeyLayout, ids: Sequence[str], full: bool = True
    ) -> list[dict[Any, Any]]:
        """The hashes of ``ids`` (empty when absent; without the embedding unless ``full``)."""
        found: list[dict[Any, Any]] = []
        for start in range(0, len(ids), WRITE_CHUNK):
            chunk = ids[start : start + WRITE_CHUNK]

            def go(chunk: Sequence[str] = chunk) -> Any:
                pipe = self._client.pipeline(transaction=False)
                for memory_id in chunk:
                    _queue_read(pipe, lay.entry(memory_id), full)
                return pipe.execute()

            replies = self._run("HGETALL", go, key=lay.entry(chunk[0]))
            found.extend(_as_fields(r, full) for r in replies)
        return found

    def _fresh(self, namespace: str) -> NamespaceStore:
        store = self._store(namespace)
        with store.lock:
            stale = store.refresh()
        if stale:
            self._forget(namespace, stale)
        return store

    def query(self, query: MemoryQuery) -> list[MemoryResult]:
        """The best ``query.limit`` memories for ``query``, best first (exact; see MemoryQuery).

        The matrix of the namespace ranks every live entry; one pipelined round trip then both
        checks that nothing changed since the matrix was last brought up to date and reads the
        entries found (those not recently seen). If something changed, the change is patched in
        and the search repeated.
        """
        namespace = validate_namespace(query.namespace)
        store = self._store(namespace)
        vector = validate_query(query, self.settings.dimension or store.dim)
        self._counts["queries"] += 1
        lay = store.layout
        with store.lock:
            loaded_now = not store.loaded
            if loaded_now:
                store.load()
                self._forget(namespace, ["*"])
            if vector is not None and store.dim is not None and vector.shape[0] != store.dim:
                validate_query(query, store.dim)  # raises, naming both dimensions
            now = time.time()
            hits = store.engine.search(query, vector, now)
            full = bool(query.with_embeddings)
            missing = self._uncached(namespace, hits, full)

            def check_and_read() -> Any:
                pipe = self._client.pipeline(transaction=False)
                if not loaded_now:
                    store.queue_check(pipe, now)
                for memory_id in missing:
                    _queue_read(pipe, lay.entry(memory_id), full)
                return pipe.execute()

            replies: Any = []
            if missing or not loaded_now:
                replies = self._run("HGETALL", check_and_read, key=lay.log)
            checks = 0 if loaded_now else (3 if len(replies) - len(missing) == 3 else 2)
            found = [_as_fields(r, full) for r in replies[checks:]]
            if checks:
                changed, stale = store.settle(replies[:checks], now)
                self._forget(namespace, stale)
                if changed:  # search again on the patched matrix; read what it found
                    hits = store.engine.search(query, vector, now)
                    missing = self._uncached(namespace, hits, full)
                    found = self._read_raw(lay, missing, full)
        self._counts["entry_cache_hits"] += len(hits) - len(missing)
        self._counts["entry_cache_misses"] += len(missing)
        fresh = dict(zip(missing, found))
        for memory_id, fields in fresh.items():
            self._remember(namespace, memory_id, fields)
        results: list[MemoryResult] = []
        for hit in hits:
            raw = fresh.get(hit.id) or self._entries.get((namespace, hit.id))
            if not raw:
                continue  # deleted between the search and the read
            entry = decode_entry(hit.id, namespace, raw)
            if entry.expires_at is not None and entry.expires_at <= now:
                continue  # expired between the search and the read
            results.append(MemoryResult(entry, hit.score, hit.similarity, hit.recency))
        return results

    def search(self, query: MemoryQuery) -> list[MemoryResult]:
        """Alias of :meth:`query`."""
        return self.query(query)

    def count(self, namespace: str = "default", *, memory_type: Any = None) -> int:
        """Live memories in ``namespace`` (of ``memory_type`` if given)."""
        lay = KeyLayout(self.settings.key_prefix, validate_namespace(namespace))
        if memory_type is None:
            low = f"({time.time() * 1000!r}"
            return int(
                self._run("ZCOUNT", self._client.zcount, lay.ids, low, "+inf", key=lay.ids)
            )
        store = self._fresh(namespace)
        q = MemoryQuery(namespace=namespace, memory_types=[memory_type], limit=1)
        validate_query(q, None)
        return store.engine.count(q, time.time())

    def lock(
        self,
        memory_id: str,
        *,
        namespace: str = "default",
        ttl: float = 30.0,
        blocking_timeout: float | None = 10.0,
        auto_renew: bool = True,
    ) -> RedisLock:
        """The toolkit's renewing, fenced lock on one memory (``with backend.lock(id):``).

        For read-modify-write sequences longer than one :meth:`update`. The lock key shares the
        namespace's hash tag (same cluster slot as the entry). See the toolkit's ``lock``.
        """
        lay = KeyLayout(self.settings.key_prefix, validate_namespace(namespace))
        return self.toolkit.lock(
            lay.lock(validate_id(memory_id)),
            ttl=ttl,
            blocking_timeout=blocking_timeout,
            auto_renew=auto_renew,
        )

    # -- observability -----------------------------------------------------------------------

    def get_metrics(self) -> dict[str, Any]:
        """The toolkit's figures (``total_operations``, ``success_rate``, ``avg_latency_ms``,
        percentiles, retries, breaker) plus ``memory``: cached namespaces, entries and bytes,
        queries, refreshes, full loads and changes applied."""
        snapshot = self.toolkit.get_metrics()
        spaces = list(self._stores.values())
        snapshot["memory"] = {
            "namespaces_cached": sum(1 for s in spaces if s.loaded),
            "entries_cached": sum(len(s.engine) for s in spaces),
            "cache_bytes": sum(s.nbytes() for s in spaces),
            **self._counts,
            **{
                k: sum(s.stats[k] for s in spaces) + self._dropped_stats.get(k, 0)
                for k in ("refreshes", "full_loads", "changes_applied", "reclaimed")
            },
        }
        return snapshot

    def get_health_status(self) -> dict[str, Any]:
        """``state`` (breaker), ``connected`` (last health check, or last command when none
        runs), ``healthy`` and the checker's figures."""
        status = self.toolkit.get_health_status()
        if status.get("connected") is None:
            status["connected"] = self._initialized
        return status

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.toolkit._address} prefix={self.settings.key_prefix!r}>"
        )


#: The design's name for the async backend.
RedisBackendV2 = RedisMemoryBackend
