# Generated from redis_toolkit/_async/__init__.py by tools/run_unasync.py. DO NOT EDIT.
"""The async implementation: the single source of truth for every module that does I/O.

``redis_toolkit/_sync`` is generated from this package by ``tools/run_unasync.py``.
"""

from __future__ import annotations

from .client import RedisToolkit
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
]
