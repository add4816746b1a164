"""The async API under the plain names: migrate a module with one import line plus ``await``.

    # was: from redis_toolkit import RedisToolkit
    from redis_toolkit.asyncio import RedisToolkit

    async with RedisToolkit(config=config) as toolkit:
        await toolkit.setter("key", {"a": 1})

Like ``redis.asyncio`` for redis-py. Pure names (configs, options, errors) are the same objects
as in ``redis_toolkit``.
"""

from __future__ import annotations

from ._async import AsyncCircuitBreaker as CircuitBreaker
from ._async import AsyncConnectionPoolManager as ConnectionPoolManager
from ._async import AsyncHealthChecker as HealthChecker
from ._async import AsyncRedisLock as RedisLock
from ._async import AsyncRedisMemoryBackend as RedisBackendV2
from ._async import AsyncRedisMemoryBackend as RedisMemoryBackend
from ._async import AsyncRedisToolkit as RedisToolkit
from ._async import AsyncRetryHandler as RetryHandler
from ._async import AsyncSubscriber as Subscriber
from ._async import AsyncTransaction as Transaction
from ._async import async_pool_manager as pool_manager
from .exceptions import (
    BatchWriteError,
    CircuitOpenError,
    ClusterConfigError,
    ConflictError,
    ConnectionFailedError,
    CrossSlotError,
    LockError,
    LockTimeoutError,
    OperationTimeoutError,
    RedisToolkitError,
    SerializationError,
    ValidationError,
)
from .options import DEFAULT_OPTIONS, RedisConfig, RedisConnectionConfig, RedisOptions
from .resilience import CircuitState, RedisMetrics, RetryPolicy, RetryStrategy
from .serialization import deserialize_value, serialize_value

__all__ = [
    "RedisToolkit",
    "Subscriber",
    "Transaction",
    "RedisLock",
    "RetryHandler",
    "CircuitBreaker",
    "HealthChecker",
    "RetryStrategy",
    "RetryPolicy",
    "CircuitState",
    "RedisMetrics",
    "RedisMemoryBackend",
    "RedisBackendV2",
    "ConnectionPoolManager",
    "pool_manager",
    "RedisConnectionConfig",
    "RedisConfig",
    "RedisOptions",
    "DEFAULT_OPTIONS",
    "RedisToolkitError",
    "SerializationError",
    "ValidationError",
    "ConnectionFailedError",
    "OperationTimeoutError",
    "CircuitOpenError",
    "ClusterConfigError",
    "BatchWriteError",
    "ConflictError",
    "CrossSlotError",
    "LockError",
    "LockTimeoutError",
    "serialize_value",
    "deserialize_value",
]
