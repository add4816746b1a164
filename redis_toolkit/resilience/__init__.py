"""The pure half of the toolkit's resilience layer: no I/O, no asyncio, no sleeping.

* :mod:`.classify` — which errors may be retried (:func:`classify`, :class:`ErrorKind`,
  :data:`IDEMPOTENT_COMMANDS`) and which ones count against the circuit breaker
  (:func:`counts_as_failure`).
* :mod:`.policy` — :class:`RetryPolicy` and :class:`RetryStrategy`: the wait before each retry
  and the decision to retry at all.
* :mod:`.breaker_state` — :class:`CircuitBreakerState`: CLOSED / OPEN / HALF_OPEN with an
  injected clock.
* :mod:`.metrics` — :class:`RedisMetrics`: counters and latency percentiles in bounded memory.
* :mod:`.prometheus` — optional export (``pip install 'redis-toolkit[prometheus]'``).
* :mod:`.retry` — 0.4's retry decorators ``simple_retry`` and ``with_retry``: the one module
  here that sleeps, so this package does not import it (``redis_toolkit`` and
  ``redis_toolkit.utils.retry`` re-export them).

The executors that run operations through these (retry loop, breaker, health checker) live in
``redis_toolkit._async`` and its generated sync twin.
"""

from __future__ import annotations

from .breaker_state import CircuitBreakerState, CircuitState, Permit, StateListener
from .classify import (
    IDEMPOTENT_COMMANDS,
    TRANSIENT_ERRORS,
    ErrorKind,
    classify,
    counts_as_failure,
    is_idempotent,
    is_transient,
)
from .metrics import LATENCY_BUCKET_BOUNDS, OTHER_COMMAND, RedisMetrics
from .policy import RetryPolicy, RetryStrategy
from .prometheus import BREAKER_STATE_VALUES, PrometheusCollector, register_prometheus

__all__ = [
    # classification
    "ErrorKind",
    "IDEMPOTENT_COMMANDS",
    "classify",
    "counts_as_failure",
    "is_idempotent",
    "TRANSIENT_ERRORS",
    "is_transient",
    # retry policy
    "RetryPolicy",
    "RetryStrategy",
    # circuit breaker
    "CircuitBreakerState",
    "CircuitState",
    "Permit",
    "StateListener",
    # metrics
    "RedisMetrics",
    "LATENCY_BUCKET_BOUNDS",
    "OTHER_COMMAND",
    # prometheus (optional dependency, imported lazily)
    "PrometheusCollector",
    "register_prometheus",
    "BREAKER_STATE_VALUES",
]
