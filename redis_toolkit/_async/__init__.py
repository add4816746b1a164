"""The modules that do I/O, written once for asyncio in ``redis_toolkit/_async``.

``redis_toolkit/_async`` is the source of truth; ``redis_toolkit/_sync`` is the sync copy that
``tools/run_unasync.py`` generates from it.
"""

from __future__ import annotations

from .client import AsyncRedisToolkit
from .cluster import AsyncClusterOperations
from .locks import AsyncRedisLock
from .memory import AsyncRedisMemoryBackend
from .pool import AsyncConnectionPoolManager, async_pool_manager
from .pubsub import AsyncSubscriber
from .resilience import AsyncCircuitBreaker, AsyncHealthChecker, AsyncRetryHandler
from .transactions import AsyncTransaction

__all__ = [
    "AsyncRedisToolkit",
    "AsyncConnectionPoolManager",
    "async_pool_manager",
    "AsyncSubscriber",
    "AsyncRetryHandler",
    "AsyncCircuitBreaker",
    "AsyncHealthChecker",
    "AsyncClusterOperations",
    "AsyncTransaction",
    "AsyncRedisLock",
    "AsyncRedisMemoryBackend",
]
