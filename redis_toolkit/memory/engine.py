"""The search engine contract and the exact client-side engine (pure: numpy, no I/O).

An engine holds one namespace's searchable view and answers queries; the backend feeds it rows
(from its own writes, from the change log of other processes, or a full load) and asks it for
the best ids. ``ExactEngine`` keeps every embedding in one dense float32 matrix and scores a
query with one matrix-vector product plus ``argpartition``: exact, so recall is 1.0. A
server-side engine (Redis Query Engine FLAT/HNSW, Redis 8 vector sets) would implement the same
contract with ``upsert``/``remove`` as no-ops and ``search`` on the server.

Scoring (documented in docs/MEMORY_BACKEND.md)::

    similarity  cosine: cos(q, e);  dot: q . e;  l2: 1 / (1 + |q - e|)
    recency     0.5 ** (age / recency_half_life), age = now - created_at (>= 0)
    score       similarity_weight * similarity + importance_weight * importance
                + recency_weight * recency

Without a query vector the similarity term is left out; if both other weights are 0 the score
is the importance. With a query vector and ``similarity_weight > 0``, entries without an
embedding are not candidates.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .models import TYPE_CODES, MemoryQuery, MemoryType

__all__ = ["Hit", "Row", "MemoryEngine", "ExactEngine"]

_NEVER = np.inf


@dataclass(frozen=True)
class Row:
    """What an engine knows of one entry."""

    id: str
    vector: np.ndarray | None
    memory_type: MemoryType
    importance: float
    created_at: float
    expires_at: float | None
    tags: tuple[str, ...]
    content: str


@dataclass(frozen=True)
class Hit:
    """One search result: the id and its score parts."""

    id: str
    score: float
    similarity: float | None
    recency: float


class MemoryEngine(Protocol):
    """What the backend needs from a search engine for one namespace."""

    def upsert(self, rows: Sequence[Row]) -> None:
        """Insert or replace rows (by id)."""

    def remove(self, ids: Sequence[str]) -> int:
        """Forget these ids; return how many were known."""

    def clear(self) -> None:
        """Forget everything."""

    def search(self, query: MemoryQuery, vector: np.ndarray | None, now: float) -> list[Hit]:
        """The best ``query.limit`` live entries matching every filter, best first."""

    def expired(self, now: float) -> list[str]:
        """Ids whose expiry has passed."""

    def count(self, query: MemoryQuery, now: float) -> int:
        """How many live rows match the filters of ``query``."""

    def __len__(self) -> int:
        """How many rows are held."""

    def nbytes(self) -> int:
        """Memory held, in bytes (arrays plus the Python objects of ids, tags and content)."""


class ExactEngine:
    """Brute-force exact search over a dense float32 matrix (one per namespace).

    Rows are kept contiguous: a removed row is replaced by the last one, so a search is one
    ``matrix[:n] @ q``. For ``cosine`` rows are stored normalized. The matrix grows by 1/8
    (plus 64 rows) when full, so spare capacity stays under ~12.5% of the rows.
    """

    def __init__(self, metric: str = "cosine", dim: int | None = None) -> None:
        self.metric = metric
        self.dim = dim
        self._n = 0
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._tags: list[frozenset[str] | None] = []
        self._content: list[str] = []
        self._alloc(0)

    # -- storage -----------------------------------------------------------------------------

    def _alloc(self, capacity: int) -> None:
        dim = self.dim or 0
        self._vec = np.zeros((capacity, dim), dtype=np.float32)
        self._sq = np.zeros(capacity, dtype=np.float32)  # squared norms (l2)
        self._has = np.zeros(capacity, dtype=bool)
        self._imp = np.zeros(capacity, dtype=np.float32)
        self._created = np.zeros(capacity, dtype=np.float64)
        self._expires = np.full(capacity, _NEVER, dtype=np.float64)
        self._type = np.zeros(capacity, dtype=np.int8)

    def _arrays(self) -> list[np.ndarray]:
        """Every per-row array, the matrix first."""
        return [self._vec, self._sq, self._has, self._imp, self._created, self._expires, self._type]

    def _grow(self, need: int) -> None:
        cap = self._vec.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap + cap // 8 + 64)
        old = self._arrays()
        self._alloc(new_cap)
        n = self._n
        for dst, src in zip(self._arrays(), old):
            if dst.shape[1:] == src.shape[1:]:
                dst[:n] = src[:n]  # (a matrix still without a dimension has nothing to copy)

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` more rows in one allocation (a bulk load sizes it exactly)."""
        self._grow(self._n + rows)

    def _prepare(self, vector: np.ndarray) -> tuple[np.ndarray, float]:
        if self.metric == "cosine":
            norm = float(np.linalg.norm(vector))
            return (vector / norm if norm > 0 else vector), 1.0
        return vector, float(np.dot(vector, vector))

    def upsert(self, rows: Sequence[Row]) -> None:
        """Insert or replace rows (by id)."""
        if not rows:
            return
        if self.dim is None:
            first = next((r.vector for r in rows if r.vector is not None), None)
            if first is not None:
                self.dim = int(first.shape[0])
                n = self._n
                keep = self._arrays()[1:]
                self._alloc(self._vec.shape[0])
                for dst, src in zip(self._arrays()[1:], keep):
                    dst[:n] = src[:n]
        new = sum(1 for r in rows if r.id not in self._row)
        self._grow(self._n + new)
        for r in rows:
            i = self._row.get(r.id)
            if i is None:
                i = self._n
                self._n += 1
                self._row[r.id] = i
                self._ids.append(r.id)
                self._tags.append(None)
                self._content.append("")
            if r.vector is not None:
                vec, sq = self._prepare(r.vector)
                self._vec[i] = vec
                self._sq[i] = sq
                self._has[i] = True
            else:
                if self._vec.shape[1]:
                    self._vec[i] = 0.0
                self._has[i] = False
            self._imp[i] = r.importance
            self._created[i] = r.created_at
            self._expires[i] = _NEVER if r.expires_at is None else r.expires_at
            self._type[i] = TYPE_CODES[r.memory_type]
            self._tags[i] = frozenset(r.tags) if r.tags else None
            self._content[i] = r.content

    def remove(self, ids: Sequence[str]) -> int:
        """Forget these ids; return how many were known."""
        removed = 0
        arrays = self._arrays()
        for memory_id in ids:
            i = self._row.pop(memory_id, None)
            if i is None:
                continue
            removed += 1
            last = self._n - 1
            if i != last:
                for arr in arrays:
                    arr[i] = arr[last]
                moved = self._ids[last]
                self._ids[i] = moved
                self._tags[i] = self._tags[last]
                self._content[i] = self._content[last]
                self._row[moved] = i
            self._ids.pop()
            self._tags.pop()
            self._content.pop()
            self._n = last
        return removed

    def clear(self) -> None:
        """Forget everything (the dimension is kept)."""
        self._n = 0
        self._ids, self._row, self._tags, self._content = [], {}, [], []
        self._alloc(0)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, memory_id: object) -> bool:
        return memory_id in self._row

    def ids(self) -> list[str]:
        """The ids held, in row order."""
        return list(self._ids)

    def expired(self, now: float) -> list[str]:
        """Ids whose expiry has passed."""
        rows = np.flatnonzero(self._expires[: self._n] <= now)
        return [self._ids[i] for i in rows]

    def matrix(self) -> np.ndarray:
        """The live rows of the matrix (a view; normalized for cosine)."""
        return self._vec[: self._n]

    def nbytes(self) -> int:
        """Memory held, in bytes (arrays plus the Python objects of ids, tags and content)."""
        total = sum(a.nbytes for a in self._arrays())
        total += sys.getsizeof(self._ids) + sys.getsizeof(self._row)
        total += sys.getsizeof(self._tags) + sys.getsizeof(self._content)
        total += sum(sys.getsizeof(s) for s in self._ids)
        total += sum(sys.getsizeof(s) for s in self._content)
        total += sum(sys.getsizeof(t) for t in self._tags if t is not None)
        return total

    # -- search ------------------------------------------------------------------------------

    def _mask(self, query: MemoryQuery, now: float, need_vec: bool) -> np.ndarray | None:
        n = self._n
        mask: np.ndarray | None = None

        def both(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else (mask & m)

        expires = self._expires[:n]
        if n and expires.min() <= now:
            both(expires > now)
        if need_vec and not self._has[:n].all():
            both(self._has[:n].copy())
        if query.memory_types is not None:
            codes = [TYPE_CODES[MemoryType(t)] for t in query.memory_types]
            both(np.isin(self._type[:n], codes))
        if query.min_importance is not None:
            both(self._imp[:n] >= np.float32(query.min_importance))
        if query.created_after is not None:
            both(self._created[:n] >= query.created_after)
        if query.created_before is not None:
            both(self._created[:n] < query.created_before)
        if query.tags:
            wanted = frozenset(query.tags)
            both(
                np.fromiter(
                    (t is not None and wanted <= t for t in self._tags[:n]), dtype=bool, count=n
                )
            )
        if query.text:
            needle = query.text.casefold()
            both(
                np.fromiter(
                    (needle in c.casefold() for c in self._content[:n]), dtype=bool, count=n
                )
            )
        return mask

    def count(self, query: MemoryQuery, now: float) -> int:
        """How many live rows match the filters of ``query`` (its vector is ignored)."""
        mask = self._mask(query, now, False)
        return self._n if mask is None else int(mask.sum())

    def _similarity(self, vector: np.ndarray) -> np.ndarray:
        mat = self._vec[: self._n]
        if self.metric == "cosine":
            norm = float(np.linalg.norm(vector))
            return mat @ (vector / norm if norm > 0 else vector)
        dots = mat @ vector
        if self.metric == "dot":
            return dots
        sq = np.maximum(self._sq[: self._n] - 2.0 * dots + float(np.dot(vector, vector)), 0.0)
        return 1.0 / (1.0 + np.sqrt(sq))

    def search(self, query: MemoryQuery, vector: np.ndarray | None, now: float) -> list[Hit]:
        """The best ``query.limit`` live entries matching every filter, best first."""
        n = self._n
        if n == 0:
            return []
        use_vec = vector is not None and query.similarity_weight > 0 and self.dim is not None
        w_imp, w_rec = float(query.importance_weight), float(query.recency_weight)
        if not use_vec and w_imp == 0.0 and w_rec == 0.0:
            w_imp = 1.0
        mask = self._mask(query, now, use_vec)
        sims = self._similarity(vector) if use_vec and vector is not None else None
        rec: np.ndarray | None = None
        score: np.ndarray
        if sims is not None and w_imp == 0.0 and w_rec == 0.0:
            # The common case: rank by similarity alone, no extra pass over the rows.
            score = sims if query.similarity_weight == 1.0 else sims * query.similarity_weight
        else:
            score = np.zeros(n, dtype=np.float64)
            if sims is not None:
                score += float(query.similarity_weight) * sims
            if w_imp:
                score += w_imp * self._imp[:n]
            if w_rec:
                rec = self._recency(query, now)
                score += w_rec * rec
        if mask is not None:
            if not mask.any():
                return []
            score = np.where(mask, score, -np.inf)
        k = min(query.limit, n)
        if k < n:
            top = np.argpartition(-score, k - 1)[:k]
        else:
            top = np.arange(n)
        top = top[np.argsort(-score[top], kind="stable")]
        hits: list[Hit] = []
        for i in top:
            s = float(score[i])
            if s == -np.inf:
                break
            if query.min_score is not None and s < query.min_score:
                break
            r = float(rec[i]) if rec is not None else self._recency_one(query, now, int(i))
            hits.append(Hit(self._ids[i], s, float(sims[i]) if sims is not None else None, r))
        return hits

    def _recency(self, query: MemoryQuery, now: float) -> np.ndarray:
        age = np.maximum(now - self._created[: self._n], 0.0)
        return np.power(0.5, age / float(query.recency_half_life))

    def _recency_one(self, query: MemoryQuery, now: float, i: int) -> float:
        age = max(now - float(self._created[i]), 0.0)
        return float(0.5 ** (age / float(query.recency_half_life)))
