"""One namespace's client-side view: loads it, keeps it fresh from the change log, writes to it.

Used by :mod:`.memory` (the backend). Freshness protocol (docs/MEMORY_BACKEND.md):

- every write is one MULTI/EXEC that changes the entries (HSET plus PEXPIREAT/PERSIST each),
  ``INCRBY ver n`` and ``XADD log``
  a record ``{n, ids, w}`` (``w``: the writing backend), trimmed to ``change_log_length``;
- a reader holds ``(version, last log id)``. A query searches its matrix and sends, in one
  pipelined round trip, ``XRANGE log (last +``, ``GET ver`` and the reads of the entries found:
  when nothing is new that is the whole cost. Otherwise the changed ids are read again (one
  more round trip), patched into the matrix, and the search is repeated. If the records do not
  add up to the version step, the check is repeated in one MULTI/EXEC (a write may have landed
  between the two reads); if they still do not (the log was trimmed past the reader, or a
  namespace ``clear``), the namespace is loaded again in full;
- a backend applies its own writes to its matrix when they commit (under the namespace lock, so
  in commit order) and skips its own log records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from .._compat import AsyncLock, AsyncWatchPipeline
from ..memory.codec import INDEX_FIELDS, SEP, KeyLayout, _s, decode_vector
from ..memory.engine import ExactEngine, Row
from ..memory.models import MemoryType

__all__ = ["NamespaceStore", "row_from_fields"]

logger = logging.getLogger("redis_toolkit.memory")

#: Ids read per pipelined round trip when loading or patching a namespace.
READ_CHUNK = 2000

Runner = Callable[..., Any]


def row_from_fields(memory_id: str, values: Sequence[Any]) -> Row | None:
    """A :class:`Row` from an HMGET of ``INDEX_FIELDS`` (None when the entry is gone)."""
    raw_vec, kind, importance, created, expires, tags, content = values
    if kind is None or importance is None or created is None:
        return None
    exp = _s(expires) if expires is not None else ""
    tag_text = _s(tags) if tags else ""
    return Row(
        id=memory_id,
        vector=decode_vector(raw_vec),
        memory_type=MemoryType(_s(kind)),
        importance=float(importance),
        created_at=float(created),
        expires_at=float(exp) if exp else None,
        tags=tuple(tag_text.split(SEP)) if tag_text else (),
        content=_s(content) if content is not None else "",
    )


class NamespaceStore:
    """The cached, searchable view of one namespace, and the bookkeeping to keep it fresh."""

    def __init__(
        self,
        layout: KeyLayout,
        engine: ExactEngine,
        *,
        client: Any,
        run: Runner,
        writer: str,
        reclaim_interval: float,
    ) -> None:
        self.layout = layout
        self.engine = engine
        self.lock = AsyncLock()
        self.loaded = False
        self.version = 0
        self.last_id = "0-0"
        self.dim: int | None = engine.dim
        self._client = client
        self._run = run
        self._writer = writer
        self._reclaim_interval = reclaim_interval
        self._next_reclaim = 0.0
        #: The time of the last refresh: queries judge expiry by it, as the reclaim did.
        self.as_of = 0.0
        self.stats = {"refreshes": 0, "full_loads": 0, "changes_applied": 0, "reclaimed": 0}

    # -- reading the namespace -----------------------------------------------------------

    async def _read_rows(self, ids: Sequence[str]) -> tuple[list[Row], list[str]]:
        """Current rows of ``ids`` and the ids that are gone (pipelined HMGETs)."""
        rows: list[Row] = []
        gone: list[str] = []
        for start in range(0, len(ids), READ_CHUNK):
            chunk = ids[start : start + READ_CHUNK]

            async def fetch(chunk: Sequence[str] = chunk) -> Any:
                pipe = self._client.pipeline(transaction=False)
                for memory_id in chunk:
                    pipe.hmget(self.layout.entry(memory_id), INDEX_FIELDS)
                return await pipe.execute()

            replies = await self._run("HMGET", fetch, key=self.layout.entry(chunk[0]))
            for memory_id, values in zip(chunk, replies):
                row = row_from_fields(memory_id, values)
                if row is None:
                    gone.append(memory_id)
                else:
                    rows.append(row)
        return rows, gone

    async def load(self) -> None:
        """Load the whole namespace (first use, or after the log lost track)."""
        lay = self.layout

        async def head() -> Any:
            pipe = await AsyncWatchPipeline.open(self._client, lay.version)
            pipe.get(lay.version)
            pipe.xrevrange(lay.log, "+", "-", count=1)
            pipe.hget(lay.meta, "dim")
            pipe.zrangebyscore(lay.ids, f"({time.time() * 1000!r}", "+inf")
            return await pipe.execute()

        ver, last, dim, raw_ids = await self._run("MULTI", head, key=lay.version)
        ids = [_s(i) for i in raw_ids]
        rows, _gone = await self._read_rows(ids)
        self.engine.clear()
        if dim is not None and self.engine.dim is None:
            self.engine.dim = int(dim)
        self.engine.reserve(len(rows))
        self.engine.upsert(rows)
        self.dim = self.engine.dim
        self.version = int(ver or 0)
        self.last_id = _s(last[0][0]) if last else "0-0"
        self.loaded = True
        self.stats["full_loads"] += 1
        logger.debug("loaded namespace %r: %d entries", lay.namespace, len(rows))

    def queue_check(self, pipe: Any, now: float) -> int:
        """Queue the freshness check on ``pipe`` (XRANGE of new log records, GET of the version,
        and the periodic sweep of expired ids); return how many replies it adds."""
        lay = self.layout
        pipe.xrange(lay.log, f"({self.last_id}", "+")
        pipe.get(lay.version)
        if now >= self._next_reclaim:
            pipe.zremrangebyscore(lay.ids, "-inf", now * 1000)
            return 3
        return 2

    async def settle(self, replies: Sequence[Any], now: float) -> tuple[bool, list[str]]:
        """Apply the replies of :meth:`queue_check`: ``(changed, ids whose entries are stale)``.

        ``changed`` says whether rows other than expired ones changed (a search done before
        must be done again). Reads the changed entries (one round trip) or, when the records do
        not account for the version step, checks again atomically and reloads if they still
        do not. Call with ``self.lock`` held.
        """
        self.as_of = now
        records, ver = replies[0], int(replies[1] or 0)
        if len(replies) > 2:
            self._next_reclaim = now + self._reclaim_interval
            self.stats["reclaimed"] += int(replies[2])
        stale: list[str] = []
        expired = self.engine.expired(now)
        if expired:
            self.engine.remove(expired)
            stale.extend(expired)
        if ver == self.version and not records:
            return False, stale
        changed = self._changes(records, ver)
        if changed is None:
            # Not atomic with the records (a write landed in between), trimmed past us, or a
            # clear: ask again in one MULTI/EXEC, and reload if the log still cannot tell.
            lay = self.layout

            async def atomic() -> Any:
                pipe = await AsyncWatchPipeline.open(self._client, lay.version)
                pipe.xrange(lay.log, f"({self.last_id}", "+")
                pipe.get(lay.version)
                return await pipe.execute()

            records, raw_ver = await self._run("MULTI", atomic, key=lay.version)
            ver = int(raw_ver or 0)
            changed = self._changes(records, ver)
            if changed is None:
                await self.load()
                return True, ["*"]
        self.stats["refreshes"] += 1
        if changed:
            ids = list(changed)
            rows, gone = await self._read_rows(ids)
            self.engine.remove(gone)
            self.engine.upsert(rows)
            self.stats["changes_applied"] += len(ids)
            stale.extend(ids)
        self.version = ver
        if records:
            self.last_id = _s(records[-1][0])
        return bool(changed), stale

    def _changes(self, records: Sequence[Any], ver: int) -> dict[str, None] | None:
        """Ids changed by other backends in ``records``; None if they do not add up to ``ver``."""
        step = 0
        changed: dict[str, None] = {}
        for _record_id, fields in records:
            if not isinstance(fields, dict):  # the sync cluster transaction's raw reply
                fields = dict(zip(fields[::2], fields[1::2]))
            f = {_s(k): v for k, v in fields.items()}
            if _s(f.get("op", b"")) == "clear":
                return None
            step += int(f.get("n", 0))
            if _s(f.get("w", b"")) == self._writer:
                continue  # applied when it committed
            joined = _s(f.get("ids", b""))
            if joined:
                changed.update(dict.fromkeys(joined.split(SEP)))
        return changed if step == ver - self.version else None

    async def refresh(self) -> list[str]:
        """Bring the view up to date; return the ids whose cached entries are stale.

        One round trip when nothing changed; one more for the changed entries otherwise.
        Call with ``self.lock`` held.
        """
        now = time.time()
        self.as_of = now
        if not self.loaded:
            await self.load()
            return ["*"]

        async def check() -> Any:
            pipe = self._client.pipeline(transaction=False)
            self.queue_check(pipe, now)
            return await pipe.execute()

        replies = await self._run("XRANGE", check, key=self.layout.log)
        _changed, stale = await self.settle(replies, now)
        return stale

    # -- own writes ----------------------------------------------------------------------

    def log_args(self, ids: Sequence[str], maxlen: int) -> tuple[dict[str, Any], int]:
        """The XADD fields of a change record for ``ids`` and the trimming length."""
        return {"n": len(ids), "ids": SEP.join(ids), "w": self._writer}, maxlen

    def applied(self, rows: Sequence[Row], removed: Sequence[str]) -> None:
        """Reflect a committed write of this backend (only once the namespace is loaded)."""
        if not self.loaded:
            return
        if removed:
            self.engine.remove(removed)
        if rows:
            self.engine.upsert(rows)
        if self.engine.dim is not None:
            self.dim = self.engine.dim

    def nbytes(self) -> int:
        """Bytes held by the view."""
        return self.engine.nbytes()
