"""redis_toolkit: typed values, batches, pub/sub, resilience and cluster tools over redis-py.

Two identical APIs from one source: ``AsyncRedisToolkit`` for asyncio apps and ``RedisToolkit``
for sync code (generated from the async one). ``redis_toolkit.asyncio`` offers the async classes
under the plain names, so a module migrates with one import line plus ``await``.

A drop-in for redis-toolkit 0.4: the names it exported are here with the same behaviour, and data
it stored is still read.
"""

from __future__ import annotations

__version__ = "0.5.0.dev0"

from ._async import (
    AsyncCircuitBreaker,
    AsyncClusterOperations,
    AsyncHealthChecker,
    AsyncRedisLock,
    AsyncRedisMemoryBackend,
    AsyncRedisToolkit,
    AsyncRetryHandler,
    AsyncSubscriber,
    AsyncTransaction,
)
from ._sync import (
    CircuitBreaker,
    ClusterOperations,
    HealthChecker,
    RedisLock,
    RedisMemoryBackend,
    RedisToolkit,
    RetryHandler,
    Subscriber,
    Transaction,
)
from .async_pool_manager import AsyncConnectionPoolManager, async_pool_manager
from .exceptions import (
    BatchWriteError,
    CircuitOpenError,
    ClientClosedError,
    ClusterConfigError,
    ClusterValidationError,
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

# Imported through their module paths so that the attributes `redis_toolkit.pool_manager` and
# `redis_toolkit.async_pool_manager` stay the instances (importing the submodules later would
# otherwise rebind them to the modules).
from .pool_manager import ConnectionPoolManager, pool_manager  # noqa: I001
from .resilience import CircuitState, RedisMetrics, RetryPolicy, RetryStrategy
from .resilience.retry import simple_retry, with_retry
from .serialization import deserialize_value, register_codec, serialize_value
from .subscription_manager import SubscriptionManager

__all__ = [
    "__version__",
    # clients
    "AsyncRedisToolkit",
    "RedisToolkit",
    # transactions and locks
    "AsyncTransaction",
    "Transaction",
    "AsyncRedisLock",
    "RedisLock",
    # pub/sub
    "AsyncSubscriber",
    "Subscriber",
    "SubscriptionManager",
    # resilience
    "AsyncRetryHandler",
    "RetryHandler",
    "AsyncCircuitBreaker",
    "CircuitBreaker",
    "AsyncHealthChecker",
    "HealthChecker",
    "RetryStrategy",
    "RetryPolicy",
    "CircuitState",
    "RedisMetrics",
    # cluster (more in redis_toolkit.cluster_utils)
    "AsyncClusterOperations",
    "ClusterOperations",
    # memory for AI agents (models in redis_toolkit.memory)
    "AsyncRedisMemoryBackend",
    "RedisMemoryBackend",
    # pools
    "AsyncConnectionPoolManager",
    "ConnectionPoolManager",
    "async_pool_manager",
    "pool_manager",
    # configuration
    "RedisConnectionConfig",
    "RedisConfig",
    "RedisOptions",
    "DEFAULT_OPTIONS",
    # errors
    "RedisToolkitError",
    "SerializationError",
    "ValidationError",
    "ConnectionFailedError",
    "OperationTimeoutError",
    "CircuitOpenError",
    "ClusterConfigError",
    "ClusterValidationError",
    "CrossSlotError",
    "BatchWriteError",
    "ClientClosedError",
    "ConflictError",
    "LockError",
    "LockTimeoutError",
    # serialization
    "serialize_value",
    "deserialize_value",
    "register_codec",
    # 0.4 retry decorators
    "simple_retry",
    "with_retry",
]
