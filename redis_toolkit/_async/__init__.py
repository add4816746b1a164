"""The async implementation: the single source of truth for every module that does I/O.

``redis_toolkit/_sync`` is generated from this package by ``tools/run_unasync.py``.
"""

from __future__ import annotations

from .client import AsyncRedisToolkit
from .pool import AsyncConnectionPoolManager, async_pool_manager
from .pubsub import AsyncSubscriber
from .resilience import AsyncCircuitBreaker, AsyncHealthChecker, AsyncRetryHandler

__all__ = [
    "AsyncRedisToolkit",
    "AsyncConnectionPoolManager",
    "async_pool_manager",
    "AsyncSubscriber",
    "AsyncRetryHandler",
    "AsyncCircuitBreaker",
    "AsyncHealthChecker",
]
