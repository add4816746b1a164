"""The retry decorators of redis-toolkit 0.4: ``simple_retry`` and ``with_retry`` (their one home).

``redis_toolkit.retry``, ``redis_toolkit.utils`` and ``redis_toolkit.utils.retry`` (0.4's path)
re-export these same objects. Unlike the rest of :mod:`redis_toolkit.resilience`, this module
sleeps (``time.sleep``, or ``AsyncRuntime.sleep`` for ``async def`` functions): it is the
executor of its own small policy, and the package does not import it.

Both keep their 0.4 signatures and defaults, and now also decorate ``async def`` functions
(the wait then does not block the event loop). They retry only the exception types given,
with exponential backoff, and re-raise the last error when the attempts run out.

Retrying is only safe for idempotent work: a command that timed out may have run on the server,
so retrying an ``INCR`` can apply it twice.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

from .._compat import AsyncRuntime
from ..exceptions import ConnectionFailedError, OperationTimeoutError

__all__ = ["simple_retry", "with_retry"]

logger = logging.getLogger("redis_toolkit.retry")

F = TypeVar("F", bound=Callable[..., Any])

# The toolkit reports redis-py's connection errors and timeouts as its own errors: both kinds
# are retried, so the decorators work around toolkit calls as well as raw redis-py calls.
_DEFAULT_RETRYABLE: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionFailedError,
    OperationTimeoutError,
)


def _retrying(
    func: Callable[..., Any],
    attempts: int,
    delays: Callable[[int], float],
    exceptions: tuple[type[BaseException], ...],
    on_retry: Callable[[BaseException, int], None] | None,
) -> Callable[..., Any]:
    """Wrap sync or async ``func``: up to ``attempts`` calls, ``delays(n)`` after the nth."""
    name = getattr(func, "__qualname__", repr(func))

    def report(error: BaseException, attempt: int, delay: float) -> None:
        logger.warning("%s failed (attempt %d of %d): %s; retrying in %.2fs", name, attempt,
                       attempts, error, delay)  # fmt: skip
        if on_retry is not None:
            try:
                on_retry(error, attempt)
            except Exception:
                logger.exception("on_retry callback of %s raised", name)

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(1, attempts + 1):
                try:
                    return await func(*args, **kwargs)
                except exceptions as e:
                    if attempt == attempts:
                        logger.error("%s failed after %d attempts: %s", name, attempts, e)
                        raise
                    delay = delays(attempt)
                    report(e, attempt, delay)
                    await AsyncRuntime.sleep(delay)
            raise AssertionError("unreachable")

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except exceptions as e:
                if attempt == attempts:
                    logger.error("%s failed after %d attempts: %s", name, attempts, e)
                    raise
                delay = delays(attempt)
                report(e, attempt, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    return wrapper


def _as_tuple(exceptions: Any) -> tuple[type[BaseException], ...]:
    if isinstance(exceptions, type) and issubclass(exceptions, BaseException):
        return (exceptions,)
    return tuple(exceptions)


def simple_retry(
    func: Callable[..., Any] | None = None,
    max_retries: int = 3,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
    exceptions: tuple[type[BaseException], ...] = _DEFAULT_RETRYABLE,
) -> Any:
    """Retry on connection errors and timeouts: ``max_retries`` retries after the first call.

    Waits ``base_delay * 2**n`` seconds (capped at ``max_delay``) before retry ``n + 1``. Use as
    ``@simple_retry`` or ``@simple_retry(max_retries=5)``; works on sync and async functions.
    """
    retries = max(0, max_retries)

    def decorator(f: F) -> F:
        return _retrying(  # type: ignore[return-value]
            f,
            retries + 1,
            lambda attempt: min(base_delay * (2 ** (attempt - 1)), max_delay),
            _as_tuple(exceptions),
            None,
        )

    return decorator if func is None else decorator(func)


def with_retry(
    max_attempts: int = 3,
    delay: float = 0.1,
    backoff_factor: float = 2,
    exceptions: Any = (redis.RedisError, ConnectionFailedError, OperationTimeoutError),
    on_retry: Callable[[BaseException, int], None] | None = None,
) -> Callable[[F], F]:
    """Retry up to ``max_attempts`` calls in all, waiting ``delay * backoff_factor**n`` between.

    ``exceptions`` is a type or tuple of types to retry (0.4 default: any ``RedisError``; the
    toolkit's ``ConnectionFailedError`` and ``OperationTimeoutError`` are added);
    ``on_retry(error, attempt)`` is called before each wait. Works on sync and async functions.
    """
    retryable = _as_tuple(exceptions)

    def decorator(f: F) -> F:
        return _retrying(  # type: ignore[return-value]
            f,
            max(1, max_attempts),
            lambda attempt: delay * backoff_factor ** (attempt - 1),
            retryable,
            on_retry,
        )

    return decorator
