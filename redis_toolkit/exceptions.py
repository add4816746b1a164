"""The error hierarchy of redis_toolkit (pure: no I/O).

Every failure that reaches a caller is a :class:`RedisToolkitError` subclass. The message says
what failed, on which key or channel, and what to do; ``key`` and ``channel`` carry the same
facts for code. Errors raised because redis-py failed keep the redis-py error as ``__cause__``
(``raise ... from e``).

The names that redis-toolkit 0.4 exported (``RedisToolkitError``, ``SerializationError``,
``ValidationError``) keep their constructors, so ``except`` clauses written for 0.4 still match.
"""

from __future__ import annotations

import re
from typing import Any

import redis.exceptions as _redis_exceptions

__all__ = [
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
]


class RedisToolkitError(Exception):
    """Base class of every error the toolkit raises.

    ``key`` and ``channel`` name what the failed operation was about, when there was one.
    """

    def __init__(self, message: str = "", *, key: str | None = None, channel: str | None = None):
        super().__init__(message)
        self.key = key
        self.channel = channel


class SerializationError(RedisToolkitError):
    """A value could not be encoded, or stored bytes could not be decoded.

    Keeps the 0.4 constructor ``(message, original_data=None, original_exception=None)``.
    """

    def __init__(
        self,
        message: str,
        original_data: Any = None,
        original_exception: BaseException | None = None,
        *,
        key: str | None = None,
        channel: str | None = None,
    ):
        super().__init__(message, key=key, channel=channel)
        self.original_data = original_data
        self.original_exception = original_exception

    @classmethod
    def restate(
        cls,
        error: SerializationError,
        context: str,
        data: Any,
        *,
        key: str | None = None,
        channel: str | None = None,
    ) -> SerializationError:
        """The same failure told with its context: ``"<context>: <error>"``, naming the key or
        channel; raise it ``from error``."""
        return cls(
            f"{context}: {error}",
            original_data=data,
            original_exception=error.original_exception or error,
            key=key,
            channel=channel,
        )


class ValidationError(RedisToolkitError, ValueError):
    """Input was refused before anything was sent: a key too long, a value too large, a bad option.

    Also a ``ValueError``, so code that validates configuration with ``except ValueError`` works.
    """


class ConnectionFailedError(RedisToolkitError, _redis_exceptions.ConnectionError):
    """The server could not be reached, or the connection broke during the operation.

    Also a ``redis.exceptions.ConnectionError``, so ``except redis.ConnectionError`` written
    for redis-py or redis-toolkit 0.4 still catches it.
    """


class OperationTimeoutError(RedisToolkitError, _redis_exceptions.TimeoutError):
    """The server did not answer within the socket timeout.

    Also a ``redis.exceptions.TimeoutError``, for ``except redis.TimeoutError`` clauses.
    """


class CircuitOpenError(RedisToolkitError):
    """The circuit breaker is open: the call failed at once, without a network round trip.

    ``retry_after`` is the number of seconds until the breaker lets a trial call through.
    """

    def __init__(self, message: str, *, retry_after: float, key: str | None = None):
        super().__init__(message, key=key)
        self.retry_after = retry_after


class ClusterConfigError(RedisToolkitError):
    """A cluster configuration or topology problem (bad startup nodes, cross-slot batch, ...)."""


class ClusterValidationError(ClusterConfigError, ValidationError):
    """A cluster setting of :class:`~redis_toolkit.options.RedisConnectionConfig` is invalid.

    Both a :class:`ClusterConfigError` and a :class:`ValidationError` (a ``ValueError``); the
    message names the field.
    """


class CrossSlotError(ClusterConfigError, ValidationError):
    """A multi-key atomic operation named keys of several cluster slots; nothing was sent.

    The fix is a common hash tag (``{user:123}:a``, ``{user:123}:b``): see
    :func:`redis_toolkit.cluster_utils.hash_tag`. ``slots`` lists the slots involved (empty when
    the server reported the error and the slots are not known).
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        channel: str | None = None,
        slots: list[int] | None = None,
    ):
        super().__init__(message, key=key, channel=channel)
        self.slots = slots or []


class BatchWriteError(RedisToolkitError):
    """Part of a batch was not written. ``failed_keys`` lists every key that did not land."""

    def __init__(
        self, message: str, *, failed_keys: list[str], written_keys: list[str] | None = None
    ):
        super().__init__(message)
        self.failed_keys = failed_keys
        self.written_keys = written_keys or []


class ClientClosedError(RedisToolkitError):
    """The toolkit was closed (``close()``, ``aclose()`` or leaving its ``with`` block).

    Nothing was sent: a closed toolkit never reconnects on its own. Create a new toolkit, or
    enter the closed one again with ``with`` / ``async with`` (entering reopens it).
    """


class ConflictError(RedisToolkitError):
    """An optimistic transaction kept losing to concurrent writers and gave up.

    ``key`` is the (first) watched key and ``attempts`` how many attempts were made; nothing
    of the last attempt was written. Raise ``retries`` or reduce contention on the key.
    """

    def __init__(self, message: str, *, key: str | None = None, attempts: int):
        super().__init__(message, key=key)
        self.attempts = attempts


class LockError(RedisToolkitError, _redis_exceptions.LockError):
    """A lock could not be acquired, or was no longer held when released.

    ``name`` is the lock's key. Also a ``redis.exceptions.LockError``, so ``except`` clauses
    written for redis-py locks still catch it.
    """

    def __init__(self, message: str, *, name: str | None = None):
        super().__init__(message, key=name)
        self.name = name
        self.lock_name = name


class LockTimeoutError(LockError):
    """The lock was held by someone else for the whole ``blocking_timeout``."""


def wrap_redis_exceptions(func: Any) -> Any:
    """0.4's decorator: redis-py errors raised by ``func`` come out as :class:`RedisToolkitError`.

    Kept for 0.4 code; the toolkit's own calls already raise the precise subclasses.
    """
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _redis_exceptions.RedisError as e:
            if isinstance(e, RedisToolkitError):
                raise
            raise wrap_redis_error(e, getattr(func, "__name__", "call")) from e

    return wrapper


def wrap_redis_error(
    error: BaseException,
    operation: str,
    *,
    key: str | None = None,
    channel: str | None = None,
    address: str | None = None,
) -> RedisToolkitError:
    """Translate a redis-py error into the toolkit error that says what failed and where.

    The caller raises the result ``from error``. A connection failure is never reported as a
    serialization problem (a 0.4 bug).
    """
    import redis.exceptions as rex

    target = f" on key {key!r}" if key is not None else ""
    target += f" on channel {channel!r}" if channel is not None else ""
    where = f" ({address})" if address else ""
    if isinstance(error, (rex.AuthenticationError, rex.AuthorizationError)):
        return ConnectionFailedError(
            f"{operation}{target} failed{where}: authentication refused ({error}). Check the "
            "username and password.",
            key=key,
            channel=channel,
        )
    if isinstance(error, rex.MaxConnectionsError) or (
        isinstance(error, rex.ConnectionError) and str(error) == "No connection available."
    ):
        return ConnectionFailedError(
            f"{operation}{target} failed{where}: the connection pool is exhausted ({error}). "
            "Raise max_connections or pool_timeout, or use fewer concurrent callers.",
            key=key,
            channel=channel,
        )
    if isinstance(error, rex.RedisClusterException) and "cannot be connected" in str(error):
        return ConnectionFailedError(
            f"{operation}{target} failed: no node of the cluster{where} answered: {error}",
            key=key,
            channel=channel,
        )
    if isinstance(error, rex.TimeoutError):
        return OperationTimeoutError(
            f"{operation}{target} timed out{where}: {error}. The server did not answer within "
            "the socket timeout; check its load or raise socket_timeout.",
            key=key,
            channel=channel,
        )
    text = str(error)
    if isinstance(error, rex.ConnectionError) and ("SSL" in text or "certificate" in text):
        return ConnectionFailedError(
            f"{operation}{target} failed{where}: the TLS handshake failed: {error}. Check "
            "ssl_ca_certs (the server's CA), ssl_certfile/ssl_keyfile (if the server requires a "
            "client certificate) and ssl_cert_reqs.",
            key=key,
            channel=channel,
        )
    if isinstance(error, (rex.ConnectionError, rex.BusyLoadingError)):
        return ConnectionFailedError(
            f"{operation}{target} failed: cannot reach Redis{where}: {error}. Check that the "
            "server is running and reachable.",
            key=key,
            channel=channel,
        )
    if (
        isinstance(error, rex.ClusterCrossSlotError)
        or "CROSSSLOT" in text
        or ("same key slot" in text or "hash to the same slot" in text)
    ):
        return CrossSlotError(
            f"{operation}{target} failed{where}: its keys span several cluster slots ({error}). "
            "A multi-key command or transaction on a cluster needs every key in one slot: give "
            "the keys a common hash tag ('{user:123}:a', '{user:123}:b'; see "
            "redis_toolkit.cluster_utils.hash_tag), or use the batch calls, which split by slot.",
            key=key,
            channel=channel,
        )
    if isinstance(error, (rex.ClusterError, rex.RedisClusterException)):
        return ClusterConfigError(
            f"{operation}{target} failed in the cluster{where}: {error}", key=key
        )
    # The server echoes the arguments of an unknown command ("ERR unknown command 'AUHT', with
    # args beginning with: 's3cret'"): a mistyped AUTH would put the password in the message.
    text = _ECHOED_ARGS.sub(r"\1<redacted>", text)
    return RedisToolkitError(
        f"{operation}{target} failed{where}: {type(error).__name__}: {text}",
        key=key,
        channel=channel,
    )


_ECHOED_ARGS = re.compile(r"(with args beginning with:).*", re.DOTALL)
