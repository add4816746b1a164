# Generated from redis_toolkit/_async/__init__.py by tools/run_unasync.py. DO NOT EDIT.
"""The modules that do I/O, written once for asyncio in ``redis_toolkit/_async``.

``redis_toolkit/_async`` is the source of truth; ``redis_toolkit/_sync`` is the sync copy that
``tools/run_unasync.py`` generates from it.
"""

from __future__ import annotations

from .client import RedisToolkit
from .cluster import ClusterOperations
from .locks import RedisLock
from .memory import RedisMemoryBackend
from .pool import ConnectionPoolManager, pool_manager
from .pubsub import Subscriber
from .resilience import CircuitBreaker, HealthChecker, RetryHandler
from .transactions import Transaction

__all__ = [
    "RedisToolkit",
    "ConnectionPoolManager",
    "pool_manager",
    "Subscriber",
    "RetryHandler",
    "CircuitBreaker",
    "HealthChecker",
    "ClusterOperations",
    "Transaction",
    "RedisLock",
    "RedisMemoryBackend",
]
