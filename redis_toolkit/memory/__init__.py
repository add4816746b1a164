"""Memory for AI agents on any Redis: models, scoring and the exact engine (pure), and backends.

    from redis_toolkit.memory import RedisBackendV2, RedisConfig, MemoryEntry, MemoryType

``RedisBackendV2`` / ``AsyncRedisMemoryBackend`` (asyncio) and ``RedisMemoryBackend`` (sync)
store entries in Redis hashes and search them exactly with a client-side float32 matrix per
namespace, kept fresh across processes by a version counter and a change log. Works on plain
Redis 7, Redis Cluster and ``memory://``. See docs/MEMORY_BACKEND.md.

The modules of this package do no I/O; the backends are imported lazily from
``redis_toolkit._async`` / ``redis_toolkit._sync`` (no import cycle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..options import RedisConfig, RedisConnectionConfig
from .codec import KeyLayout
from .engine import ExactEngine, Hit, MemoryEngine, Row
from .errors import MemoryConflictError, MemoryValidationError
from .models import MemoryEntry, MemoryQuery, MemoryResult, MemoryType
from .settings import DEFAULT_TTLS, MemorySettings

if TYPE_CHECKING:
    from .._async.memory import AsyncRedisMemoryBackend, RedisBackendV2
    from .._sync.memory import RedisMemoryBackend

__all__ = [
    "MemoryEntry",
    "MemoryType",
    "MemoryQuery",
    "MemoryResult",
    "MemorySettings",
    "DEFAULT_TTLS",
    "MemoryEngine",
    "ExactEngine",
    "Hit",
    "Row",
    "KeyLayout",
    "MemoryValidationError",
    "MemoryConflictError",
    "RedisConfig",
    "RedisConnectionConfig",
    "RedisBackendV2",
    "AsyncRedisMemoryBackend",
    "RedisMemoryBackend",
]


def __getattr__(name: str) -> Any:
    if name in ("RedisBackendV2", "AsyncRedisMemoryBackend"):
        from .._async import memory as _amem

        return getattr(_amem, name)
    if name == "RedisMemoryBackend":
        from .._sync import memory as _smem

        return _smem.RedisMemoryBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
