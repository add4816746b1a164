"""Memory settings beside the connection's ``RedisConfig``: TTLs, key prefix, vectors (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import MemoryValidationError
from .models import MemoryType

__all__ = ["MemorySettings", "DEFAULT_TTLS", "METRICS"]

HOUR = 3600.0
DAY = 24 * HOUR

#: Default seconds to live per memory type (None: never expires). The design's advice:
#: short-term memories 1-4 hours, long-term ones up to 30 days.
DEFAULT_TTLS: dict[MemoryType, float | None] = {
    MemoryType.WORKING: 1 * HOUR,
    MemoryType.SHORT_TERM: 4 * HOUR,
    MemoryType.EPISODIC: 7 * DAY,
    MemoryType.LONG_TERM: 30 * DAY,
    MemoryType.SEMANTIC: None,
}

METRICS = ("cosine", "dot", "l2")
_PREFIX_RE = re.compile(r"^[^\s{}]{1,64}$")


@dataclass
class MemorySettings:
    """How the memory backend stores and searches.

    - ``key_prefix``: first part of every key (``<prefix>:{<namespace>}:...``).
    - ``dimension``: the embedding size; None learns it per namespace from the first embedding.
    - ``metric``: ``"cosine"`` (default), ``"dot"`` or ``"l2"``.
    - ``ttls``: seconds to live per :class:`MemoryType` (None: never); merged over DEFAULT_TTLS.
    - ``deduplicate``: adding content identical to a live entry's (same namespace) returns that
      entry's id instead of storing a copy.
    - ``change_log_length``: changes kept per namespace for other processes' caches; a cache
      further behind reloads the namespace.
    - ``entry_cache_size``: decoded entries kept per backend for query results (0: none).
    - ``reclaim_interval``: seconds between sweeps of expired ids from a namespace's index
      (piggybacked on a query's freshness check; 0: at every query).
    - ``max_cached_namespaces``: namespaces whose matrix a backend keeps; the least recently
      used one beyond that is dropped (and loaded again if queried again).
    """

    key_prefix: str = "mem"
    dimension: int | None = None
    metric: str = "cosine"
    ttls: Mapping[MemoryType | str, float | None] = field(default_factory=dict)
    deduplicate: bool = False
    change_log_length: int = 10_000
    entry_cache_size: int = 4096
    reclaim_interval: float = 60.0
    max_cached_namespaces: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.key_prefix, str) or not _PREFIX_RE.match(self.key_prefix):
            raise MemoryValidationError(
                f"key_prefix {self.key_prefix!r} must be 1-64 characters without whitespace or "
                "braces"
            )
        if self.dimension is not None and (
            isinstance(self.dimension, bool)
            or not isinstance(self.dimension, int)
            or self.dimension < 1
        ):
            raise MemoryValidationError(f"dimension must be an int >= 1, got {self.dimension!r}")
        self.metric = str(self.metric).lower()
        if self.metric not in METRICS:
            raise MemoryValidationError(f"metric must be one of {METRICS}, got {self.metric!r}")
        merged: dict[MemoryType, float | None] = dict(DEFAULT_TTLS)
        for kind, ttl in dict(self.ttls).items():
            try:
                mtype = MemoryType(kind)
            except ValueError:
                raise MemoryValidationError(f"ttls: unknown memory type {kind!r}") from None
            if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0):
                raise MemoryValidationError(f"ttls[{mtype.value}] must be > 0 seconds or None")
            merged[mtype] = None if ttl is None else float(ttl)
        self.ttls = merged  # type: ignore[assignment]
        for name in ("change_log_length", "entry_cache_size", "max_cached_namespaces"):
            value: Any = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MemoryValidationError(f"{name} must be an int >= 0, got {value!r}")
        if self.change_log_length < 1 or self.max_cached_namespaces < 1:
            raise MemoryValidationError("change_log_length and max_cached_namespaces must be >= 1")
        if not isinstance(self.reclaim_interval, (int, float)) or self.reclaim_interval < 0:
            raise MemoryValidationError("reclaim_interval must be >= 0 seconds")

    def ttl_for(self, memory_type: MemoryType) -> float | None:
        """Seconds to live of a new entry of ``memory_type`` (None: it never expires)."""
        return self.ttls[memory_type]
