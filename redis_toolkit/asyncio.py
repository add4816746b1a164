"""The async API under the plain names: migrate a module with one import line plus ``await``.

    # was: from redis_toolkit import RedisToolkit
    from redis_toolkit.asyncio import RedisToolkit

    async with RedisToolkit(config=config) as toolkit:
        await toolkit.setter("key", {"a": 1})

Like ``redis.asyncio`` for redis-py. Every public name of ``redis_toolkit`` is here: a class with
an async flavour under its plain name (``RedisToolkit`` is ``AsyncRedisToolkit``, ``pool_manager``
is ``async_pool_manager``), the ``Async*`` names themselves, and the pure names (configs,
options, errors, serialization, ``SubscriptionManager``) as the same objects as in
``redis_toolkit``. ``simple_retry`` and ``with_retry`` decorate ``async def`` functions too.
"""

from __future__ import annotations

from . import __version__
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
from ._async import AsyncCircuitBreaker as CircuitBreaker
from ._async import AsyncClusterOperations as ClusterOperations
from ._async import AsyncHealthChecker as HealthChecker
from ._async import AsyncRedisLock as RedisLock
from ._async import AsyncRedisMemoryBackend as RedisBackendV2
from ._async import AsyncRedisMemoryBackend as RedisMemoryBackend
from ._async import AsyncRedisToolkit as RedisToolkit
from ._async import AsyncRetryHandler as RetryHandler
from ._async import AsyncSubscriber as Subscriber
from ._async import AsyncTransaction as Transaction
from .async_pool_manager import AsyncConnectionPoolManager, async_pool_manager
from .async_pool_manager import AsyncConnectionPoolManager as ConnectionPoolManager
from .async_pool_manager import async_pool_manager as pool_manager
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
from .resilience import CircuitState, RedisMetrics, RetryPolicy, RetryStrategy
from .retry import simple_retry, with_retry
from .serialization import deserialize_value, register_codec, serialize_value
from .subscription_manager import SubscriptionManager

__all__ = [
    "__version__",
    # clients
    "RedisToolkit",
    "AsyncRedisToolkit",
    # pub/sub
    "Subscriber",
    "AsyncSubscriber",
    "SubscriptionManager",
    # transactions and locks
    "Transaction",
    "AsyncTransaction",
    "RedisLock",
    "AsyncRedisLock",
    # resilience
    "RetryHandler",
    "AsyncRetryHandler",
    "CircuitBreaker",
    "AsyncCircuitBreaker",
    "HealthChecker",
    "AsyncHealthChecker",
    "RetryStrategy",
    "RetryPolicy",
    "CircuitState",
    "RedisMetrics",
    # cluster
    "ClusterOperations",
    "AsyncClusterOperations",
    # memory for AI agents (models in redis_toolkit.memory)
    "RedisMemoryBackend",
    "AsyncRedisMemoryBackend",
    "RedisBackendV2",
    # pools
    "ConnectionPoolManager",
    "AsyncConnectionPoolManager",
    "pool_manager",
    "async_pool_manager",
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
    # 0.4 retry decorators (sync and async functions)
    "simple_retry",
    "with_retry",
]
