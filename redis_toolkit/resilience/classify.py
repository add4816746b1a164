"""Which errors may be retried, and which ones mean the server is failing (pure: no I/O).

A retry is safe when the command cannot run twice. That depends on *when* the error happened:

* :attr:`ErrorKind.NOT_SENT` — the command never reached the server, or the server refused it
  without running it: connection refused while connecting, connect timeout, pool checks that
  fail before anything is written, ``LOADING``, ``TRYAGAIN``, ``CLUSTERDOWN``, ``MASTERDOWN``,
  ``MOVED``/``ASK``. Always safe to retry.
* :attr:`ErrorKind.MAYBE_SENT` — the command may have run: a timeout while reading the reply, the
  connection reset or closed mid-command, a failed write. Safe only for idempotent commands
  (:data:`IDEMPOTENT_COMMANDS`) or when the caller opts in.
* :attr:`ErrorKind.NOT_RETRYABLE` — repeating cannot help: a ``ResponseError`` (a bad command or
  wrong type), ``DataError``, authentication failures, the toolkit's validation and serialization
  errors, an open circuit, and every error that is not from redis-py.

Toolkit errors raised ``from`` a redis-py error (``ConnectionFailedError``,
``OperationTimeoutError``, ...) are classified by their ``__cause__``.

The redis-py 8.1 messages relied on (sync and async raise the same classes and messages):
``ConnectionError("Error 111 connecting to host:port. Connection refused.")`` from
``redis.utils.format_error_message`` while connecting, ``TimeoutError("Timeout connecting to
server")``, ``TimeoutError("Timeout reading from host:port")``, ``TimeoutError("Timeout reading
from socket")``, ``TimeoutError("Timeout writing to socket")``, ``ConnectionError("Connection
closed by server.")``, ``ConnectionError("Error 32 while writing to socket. Broken pipe.")``.
"""

from __future__ import annotations

from enum import Enum

from redis import exceptions as rex

from ..exceptions import (
    BatchWriteError,
    CircuitOpenError,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisToolkitError,
    SerializationError,
    ValidationError,
)

__all__ = [
    "ErrorKind",
    "IDEMPOTENT_COMMANDS",
    "classify",
    "counts_as_failure",
    "is_idempotent",
    "TRANSIENT_ERRORS",
    "is_transient",
]


class ErrorKind(str, Enum):
    """When an error happened relative to the command, which decides whether a retry is safe."""

    NOT_SENT = "not_sent"
    """The command did not run on the server: always safe to retry."""

    MAYBE_SENT = "maybe_sent"
    """The command may have run: retry only idempotent commands, or when the caller opts in."""

    NOT_RETRYABLE = "not_retryable"
    """Retrying cannot help (a bad command, bad input, bad credentials, not a Redis error)."""


_READS = {
    # strings and keys
    "GET", "MGET", "GETRANGE", "SUBSTR", "STRLEN", "EXISTS", "TTL", "PTTL", "EXPIRETIME",
    "PEXPIRETIME", "TYPE", "KEYS", "SCAN", "RANDOMKEY", "DUMP", "OBJECT", "TOUCH", "LCS",
    # server and connection
    "PING", "ECHO", "INFO", "DBSIZE", "TIME", "LASTSAVE", "COMMAND", "MEMORY",
    # hashes
    "HGET", "HGETALL", "HMGET", "HKEYS", "HVALS", "HLEN", "HEXISTS", "HSTRLEN", "HSCAN",
    "HRANDFIELD", "HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME",
    # sets
    "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SRANDMEMBER", "SINTER", "SUNION", "SDIFF",
    "SINTERCARD", "SSCAN",
    # sorted sets
    "ZRANGE", "ZRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGE", "ZREVRANGEBYSCORE",
    "ZREVRANGEBYLEX", "ZSCORE", "ZMSCORE", "ZCARD", "ZCOUNT", "ZLEXCOUNT", "ZRANK", "ZREVRANK",
    "ZRANDMEMBER", "ZINTER", "ZUNION", "ZDIFF", "ZINTERCARD", "ZSCAN",
    # lists
    "LRANGE", "LLEN", "LINDEX", "LPOS",
    # bitmaps, hyperloglog, geo
    "GETBIT", "BITCOUNT", "BITPOS", "PFCOUNT", "GEOPOS", "GEODIST", "GEOHASH", "GEOSEARCH",
    "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO",
    # streams (XREADGROUP is not a read: it moves entries into the pending list)
    "XRANGE", "XREVRANGE", "XLEN", "XREAD", "XINFO", "XPENDING",
    # read-only variants
    "SORT_RO", "EVAL_RO", "EVALSHA_RO", "FCALL_RO",
}  # fmt: skip

_OVERWRITES = {
    "SET", "SETEX", "PSETEX", "MSET", "GETEX", "SETRANGE", "SETBIT",
    "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST",
    "HSET", "HMSET", "HDEL", "HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT", "HPERSIST",
    "SADD", "SREM",
    "ZADD", "ZREM", "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX",
    "LSET",
    "PFADD", "PFMERGE", "GEOADD",
    "XACK", "XDEL",
}  # fmt: skip

#: Upper-case names of the commands that are safe to send again after a timeout or a broken
#: connection. The rule: running the command a second time leaves the server in the same state as
#: running it once. Reads qualify; so do writes that set an absolute value or remove something
#: (``SET``, ``MSET``, ``DEL``, ``EXPIRE``, ``HSET``, ``SADD``, ``ZADD``, ...). Commands whose
#: effect accumulates (``INCR``, ``INCRBY``, ``DECR``, ``INCRBYFLOAT``, ``HINCRBY``, ``ZINCRBY``,
#: ``APPEND``, ``LPUSH``, ``RPUSH``, ``XADD``, ``PUBLISH``, ``SPUBLISH``), that consume
#: (``LPOP``, ``RPOP``, ``BLPOP``, ``GETDEL``, ``XREADGROUP``), that answer with state they changed
#: (``GETSET``, ``SETNX``, ``HSETNX``, ``MSETNX``, ``RENAME``, ``COPY``, ``SMOVE``) or that run code
#: (``EVAL``, ``EVALSHA``, ``FCALL``, ``MULTI``/``EXEC``) are not in the set.
#:
#: The *reply* of a repeat may differ: a retried ``DEL`` answers 0 if the first one did delete,
#: ``SET ... NX`` answers nil if the first one did set. Callers that act on such a reply (a lock
#: acquired with ``SET NX``, "did I delete it?") pass ``idempotent=False``. ``ZADD ... INCR`` is
#: not idempotent either; ``SET``, ``EXPIRE`` and ``GETEX`` with a relative expiry restart it from
#: the retry.
IDEMPOTENT_COMMANDS: frozenset[str] = frozenset(_READS | _OVERWRITES)


def is_idempotent(command: str | bytes | None) -> bool:
    """Whether ``command`` (any case; its first word) is in :data:`IDEMPOTENT_COMMANDS`."""
    if command is None:
        return False
    if isinstance(command, bytes):
        command = command.decode("latin-1")
    words = command.split(None, 1)
    return bool(words) and words[0].upper() in IDEMPOTENT_COMMANDS


# ConnectionError messages that redis-py raises before anything is written on the socket.
_NOT_SENT_CONNECTION_MESSAGES = frozenset(
    {
        "Connection has data",  # pool: a pooled connection was dirty, discarded before use
        "Connection not ready",
        "No connection available.",  # BlockingConnectionPool timed out waiting
        "Too many connections",
        "Bad response from PING health check",  # health check before the command
        "READONLY command failed",  # cluster replica handshake
        "The previous master is now a slave",  # sentinel: the command got READONLY, did not run
        "max number of clients reached",  # the server refused the connection (maxclients)
    }
)

# ConnectionErrors of the handshake that retrying cannot fix: configuration mistakes.
_CONFIG_CONNECTION_MESSAGES = frozenset(
    {
        "Invalid Database",
        "Invalid RESP version",
        "Error setting client name",
        "protocol must be an integer",
        "protocol must be either 2 or 3",
    }
)

_SENTINEL_DISCOVERY_ERRORS = frozenset({"MasterNotFoundError", "SlaveNotFoundError"})

# Toolkit errors never worth a retry, whatever their cause.
_TOOLKIT_FINAL = (CircuitOpenError, ValidationError, SerializationError, BatchWriteError)

# How deep to follow __cause__ chains of toolkit errors (they are short; this bounds cycles).
_MAX_CAUSE_DEPTH = 8


def _classify_redis(error: BaseException) -> ErrorKind:
    """Classify an error that is not a toolkit error."""
    if isinstance(error, rex.ConnectionError):
        # Subclasses first: some are not about the network at all.
        if isinstance(error, (rex.AuthenticationError, rex.AuthorizationError)):
            return ErrorKind.NOT_RETRYABLE
        if isinstance(error, (rex.BusyLoadingError, rex.MaxConnectionsError)):
            return ErrorKind.NOT_SENT
        if type(error).__name__ in _SENTINEL_DISCOVERY_ERRORS:
            return ErrorKind.NOT_SENT
        if type(error) is not rex.ConnectionError:
            # ExternalAuthProviderError and anything newer: not known to be safe.
            return ErrorKind.NOT_RETRYABLE
        message = str(error)
        # redis.utils.format_error_message, used only by connect(): "Error 111 connecting to
        # host:port. Connection refused." or "Error connecting to host:port." without args.
        if message.startswith("Error ") and "connecting to " in message:
            return ErrorKind.NOT_SENT
        if message in _NOT_SENT_CONNECTION_MESSAGES:
            return ErrorKind.NOT_SENT
        if message in _CONFIG_CONNECTION_MESSAGES:
            return ErrorKind.NOT_RETRYABLE
        # "Connection closed by server.", "Error while reading from ...", "Error 32 while writing
        # to socket. ...": the command may have been (partly) written and run.
        return ErrorKind.MAYBE_SENT
    if isinstance(error, rex.TimeoutError):
        if str(error) == "Timeout connecting to server":
            return ErrorKind.NOT_SENT
        return ErrorKind.MAYBE_SENT
    # Cluster replies that mean "not run here, not now": ClusterDownError and MasterDownError
    # are ClusterErrors (and ResponseErrors, hence checked before ResponseError), as is
    # ClusterError("TTL exhausted.") after too many redirections. MovedError is an AskError.
    if isinstance(error, (rex.ClusterError, rex.TryAgainError, rex.AskError)):
        return ErrorKind.NOT_SENT
    if isinstance(error, rex.SlotNotCoveredError):
        return ErrorKind.NOT_SENT
    if isinstance(error, rex.RedisClusterException) and str(error).startswith(
        "Redis Cluster cannot be connected"
    ):
        # Raised while (re)discovering the topology when no node answered. redis-py's sync
        # client also rediscovers right after a command failed (a read timeout, say): then the
        # command may have run, and that first error decides.
        context = error.__context__
        if (
            isinstance(context, (rex.RedisError, rex.RedisClusterException))
            and context is not error
        ):
            return _classify_redis(context)
        return ErrorKind.NOT_SENT
    return ErrorKind.NOT_RETRYABLE


#: What a retry handler retries when its caller names no command: the caller who wraps an
#: operation in a handler has chosen to retry it, so every connection failure and timeout counts,
#: redis-py's and the built-in ones (the toolkit's ``ConnectionFailedError`` and
#: ``OperationTimeoutError`` subclass redis-py's). ``retry_on=`` replaces this tuple.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    rex.ConnectionError,
    rex.TimeoutError,
    ConnectionError,
    TimeoutError,
)

# Connection errors of the handshake that no retry can fix (wrong credentials).
_PERMANENT_CONNECTION_ERRORS = (rex.AuthenticationError, rex.AuthorizationError)


def is_transient(
    error: BaseException, retry_on: tuple[type[BaseException], ...] | None = None
) -> bool:
    """Whether a caller-chosen retry should repeat after ``error``, whatever the command.

    With ``retry_on`` (a tuple of exception types), exactly its instances. Without it, the
    instances of :data:`TRANSIENT_ERRORS` except authentication and authorization failures.
    """
    if retry_on is not None:
        return isinstance(error, retry_on)
    return isinstance(error, TRANSIENT_ERRORS) and not isinstance(
        error, _PERMANENT_CONNECTION_ERRORS
    )


def classify(error: BaseException) -> ErrorKind:
    """Tell whether ``error`` happened before the command was sent, maybe after, or is final.

    Works on redis-py errors (sync and async raise the same classes) and on toolkit errors: a
    :class:`~redis_toolkit.exceptions.RedisToolkitError` raised ``from`` a redis-py error is
    classified by that cause. A ``ConnectionFailedError`` or ``OperationTimeoutError`` without a
    Redis cause counts as :attr:`ErrorKind.MAYBE_SENT`. ``CircuitOpenError``,
    ``ValidationError``, ``SerializationError`` and ``BatchWriteError`` are never retried, and
    neither is cancellation (``asyncio.CancelledError``, ``KeyboardInterrupt``) or any error that
    does not come from Redis.
    """
    current: BaseException = error
    for _ in range(_MAX_CAUSE_DEPTH):
        if not isinstance(current, RedisToolkitError):
            break
        if isinstance(current, _TOOLKIT_FINAL):
            return ErrorKind.NOT_RETRYABLE
        cause = current.__cause__
        if isinstance(cause, (rex.RedisError, rex.RedisClusterException, RedisToolkitError)):
            current = cause
            continue
        if isinstance(current, (ConnectionFailedError, OperationTimeoutError)):
            return ErrorKind.MAYBE_SENT
        return ErrorKind.NOT_RETRYABLE
    else:
        return ErrorKind.NOT_RETRYABLE
    if not isinstance(current, Exception):
        return ErrorKind.NOT_RETRYABLE  # cancellation, KeyboardInterrupt, SystemExit
    return _classify_redis(current)


def counts_as_failure(error: BaseException) -> bool:
    """Whether ``error`` means the server is failing, for the circuit breaker.

    True for connection failures and timeouts (:attr:`ErrorKind.NOT_SENT` and
    :attr:`ErrorKind.MAYBE_SENT`, wrapped in toolkit errors or not). False for a
    ``ResponseError`` (the command was bad, the server answered), ``ValidationError``,
    ``SerializationError``, ``CircuitOpenError``, authentication errors, a full connection pool
    (the client is busy, not the server), errors that are not from Redis, and cancellation:
    ``asyncio.CancelledError``, ``KeyboardInterrupt`` and ``SystemExit`` are not ``Exception``
    subclasses and never count.
    """
    if not isinstance(error, Exception):
        return False
    root: BaseException = error
    for _ in range(_MAX_CAUSE_DEPTH):
        cause = root.__cause__ if isinstance(root, RedisToolkitError) else None
        if cause is None:
            break
        root = cause
    if isinstance(root, rex.MaxConnectionsError) or (
        isinstance(root, rex.ConnectionError) and str(root) == "No connection available."
    ):
        return False
    return classify(error) is not ErrorKind.NOT_RETRYABLE
