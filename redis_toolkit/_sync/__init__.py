# Generated from redis_toolkit/_async/__init__.py by tools/run_unasync.py. DO NOT EDIT.
"""The modules that do I/O, written once for asyncio in ``redis_toolkit/_async``.

``redis_toolkit/_async`` is the source of truth; ``redis_toolkit/_sync`` is the sync copy that
``tools/run_unasync.py`` generates from it.
"""

from __future__ import annotations

from .client import RedisToolkit
from .memory import RedisMemoryBackend
from .pool import ConnectionPoolManager, pool_manager
from .pubsub import Subscriber
from .resilience import CircuitBreaker, HealthChecker, RetryHandler

__all__ = [
    "RedisToolkit",
    "ConnectionPoolManager",
    "pool_manager",
    "Subscriber",
    "RetryHandler",
    "CircuitBreaker",
    "HealthChecker",
    "RedisMemoryBackend",
]
