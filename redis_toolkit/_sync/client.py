# Generated from redis_toolkit/_async/client.py by tools/run_unasync.py. DO NOT EDIT.
"""The toolkit client ``RedisToolkit``: typed values, batches, pub/sub and resilience
over redis-py.

Why this module is over the house's ~600 lines (about 1,100): it is the one public class users
see, and it keeps every call of redis-toolkit 0.4 and of the design (values, TTLs, batches,
``execute_command``, transactions and locks, pub/sub with dynamic subscriptions, health,
metrics, lifecycle) with a docstring each. The methods are thin: validate, encode, one call
through the resilience path; the work lives in ``transactions``, ``locks``, ``pubsub``,
``cluster``, ``cluster_failover``, ``pool`` and the pure modules. The next split, if it grows:
the pub/sub methods (``publisher`` to ``get_expired_channels``, about 280 lines) into a module
of their own that the class delegates to.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from .._compat import RedisCluster, Runtime
from .._logging import apply_legacy_logging, describe
from .._validation import (
    as_key_list,
    check_batch_size,
    check_encodable,
    check_key,
    check_value_size,
    chunks,
    ttl_args,
    ttl_millis,
)
from ..exceptions import (
    BatchWriteError,
    ClientClosedError,
    RedisToolkitError,
    SerializationError,
    ValidationError,
    wrap_redis_error,
)
from ..options import DEFAULT_OPTIONS, RedisConnectionConfig, RedisOptions
from ..resilience import RedisMetrics, RetryPolicy
from ..resilience.commands import OTHER_COMMAND, command_label
from ..serialization import Serializer, get_serializer
from ..subscription_manager import SubscriptionManager
from .cluster import ClusterOperations
from .cluster_failover import (
    ClusterHealthChecker,
    ClusterResiliencePath,
    ClusterTopology,
)
from .locks import RedisLock
from .pool import pool_manager
from .pubsub import Subscriber, check_names
from .resilience import (
    CircuitBreaker,
    HealthChecker,
    ResiliencePath,
    RetryHandler,
)
from .transactions import DEFAULT_RETRIES, Transaction
from .transactions import atomic_batch_set as _atomic_batch_set
from .transactions import update as _update

__all__ = ["RedisToolkit"]

logger = logging.getLogger("redis_toolkit.client")

#: Keys per round trip in batch operations; each chunk is written atomically (MSET or MULTI).
BATCH_CHUNK_SIZE = 1000

# Commands whose first argument must never appear in an error message as if it were a key.
_NOT_A_KEY = frozenset(
    {"AUTH", "HELLO", "ACL", "CONFIG", "CLIENT", "MIGRATE", "SCRIPT", "FUNCTION", "MODULE"}
)


def _log_call(opts: RedisOptions, what: str, target: Any, value: Any) -> None:
    """0.4's per-call INFO line, when ``is_logger_info`` and the logger is enabled for INFO.

    Runs after the write or publish succeeded, so it never raises: a caller that retried on an
    error from here would write or publish twice.
    """
    if opts.is_logger_info and logger.isEnabledFor(logging.INFO):
        try:
            logger.info("%s %r: %s", what, target, describe(value, opts.max_log_size))
        except Exception as e:  # a filter that raises: say so if it lets us, never fail the call
            with contextlib.suppress(Exception):
                logger.debug("the per-call log line of %s %r failed: %r", what, target, e)


class RedisToolkit:
    """Typed values, batches and pub/sub over one Redis connection config.

    Constructor as in redis-toolkit 0.4: pass an existing redis-py client as ``redis`` *or* a
    :class:`RedisConnectionConfig` as ``config`` (neither: ``localhost:6379``), and optionally
    :class:`RedisOptions`. Use it as a context manager (entering pings the server, leaving
    closes) or call :meth:`close` when done. Values are stored in 0.4's format by default
    (``RedisOptions.serializer="json"``); ``serializer="msgpack"`` keeps every type exactly.
    """

    def __init__(
        self,
        redis: Any = None,
        config: RedisConnectionConfig | None = None,
        channels: list[str] | None = None,
        message_handler: Any = None,
        options: RedisOptions | None = None,
    ) -> None:
        if redis is not None and config is not None:
            raise ValueError(
                "pass either an existing client as `redis` or a `config`, not both: the config "
                "would be ignored"
            )
        self.options = options if options is not None else DEFAULT_OPTIONS
        if not isinstance(self.options, RedisOptions):
            raise ValidationError(
                f"options must be RedisOptions, got {type(self.options).__name__}"
            )
        self._serializer: Serializer = get_serializer(self.options.serializer)
        apply_legacy_logging(self.options)
        self._closed = False
        if redis is not None:
            self.config: RedisConnectionConfig | None = None
            self._client = redis
            self._owns_client = False
            # Standalone clients expose get_retry(); cluster clients keep it in .retry.
            retry: Any = redis.get_retry() if hasattr(redis, "get_retry") else None
            retry = retry if retry is not None else getattr(redis, "retry", None)
            retries = retry.get_retries() if hasattr(retry, "get_retries") else 0
            if retries:
                logger.warning(
                    "the redis-py client passed to %s retries %d times on its own, below the "
                    "toolkit's policy (a timed-out INCR can run twice); create it with "
                    "retry=Retry(NoBackoff(), 0) or pass a config instead",
                    type(self).__name__,
                    retries,
                )
        else:
            self.config = config if config is not None else RedisConnectionConfig()
            self._client, shared = pool_manager.client_for(
                self.config, self.options.max_connections, shared=self.options.use_connection_pool
            )
            # A shared cluster client serves every toolkit of this config: the manager closes it.
            self._owns_client = not (self.config.cluster_mode and shared)
        self._cluster = isinstance(self._client, RedisCluster)
        self._cluster_ops: ClusterOperations | None = None  # `cluster`, created on first use
        self._address = self.config.address if self.config is not None else "user-supplied client"
        self._setup_resilience(self.config if self.config is not None else RedisConnectionConfig())
        # Bound once for the hot path: setter's plain SET goes to execute_command, skipping
        # redis-py's per-call argument inspection in ``set`` (two wrappers that look for
        # deprecated and experimental arguments); neither needs an attribute look-up per call.
        self._commands = self._client
        # A client the toolkit created: plain SET and GET also skip redis-py's retry
        # wrapper and observability records (the resilience path does that work), see _lean.
        from .._lean import lean_commands

        lean = lean_commands(self._client) if redis is None else None
        self._execute = (
            lean.execute_command if lean is not None else self._client.execute_command
        )
        self._get = lean.get if lean is not None else self._client.get
        self._message_handler = message_handler
        self._subscription_manager: SubscriptionManager | None = None
        if self.options.enable_dynamic_subscription:
            self._subscription_manager = SubscriptionManager(
                expire_minutes=self.options.subscription_expire_minutes,
                check_interval=self.options.subscription_check_interval,
                auto_cleanup=self.options.subscription_auto_cleanup,
                max_expired=self.options.subscription_max_expired,
            )
        self._subscriber: Subscriber | None = None
        self._shard_subscriber: Subscriber | None = None
        self._stopped_task: Any = None  # the last listener's task/thread, for `sub_thread`
        if channels and message_handler is not None:
            # The 0.4 form: channels and a handler in the constructor start listening.
            self._subscriber = self._new_subscriber(list(channels), None, message_handler, None)
            self._subscriber.start_nowait()

    def _setup_resilience(self, settings: RedisConnectionConfig) -> None:
        # Every Redis call of the toolkit goes through self._run: breaker, retries, metrics.
        self.metrics = RedisMetrics()
        metrics = self.metrics if settings.metrics_enabled else None
        policy = RetryPolicy.from_settings(settings, self.options)
        # Public since 0.5's first releases; the path below applies the same policy itself.
        self.retry_handler = RetryHandler(policy=policy, metrics=metrics)
        self.circuit_breaker: CircuitBreaker | None = None
        self._topology: ClusterTopology | None = None
        self._resilience: ResiliencePath
        if self._cluster:
            # A breaker per node (picked by the key's slot owner), backoff with topology
            # refresh: see docs/CLUSTER_FAILOVER.md. circuit_breaker is the key-less commands'.
            self._topology = ClusterTopology(
                self._client,
                metrics=metrics,
                breaker_settings=self._breaker_settings(settings),
                address=self._address,
            )
            self.circuit_breaker = self._topology.cluster_breaker
            self._resilience = ClusterResiliencePath(
                policy=policy, topology=self._topology, metrics=metrics, address=self._address
            )
        else:
            if settings.circuit_breaker_enabled:
                self.circuit_breaker = CircuitBreaker(
                    failure_threshold=settings.failure_threshold,
                    recovery_timeout=settings.recovery_timeout,
                    half_open_max_calls=settings.half_open_max_calls,
                    name=self._address,
                )
            self._resilience = ResiliencePath(
                policy=policy, breaker=self.circuit_breaker, metrics=metrics, address=self._address
            )
        # The first command starts the health checker (see _first_run): a toolkit that is
        # constructed but never used starts no task or thread and opens no connection.
        self._run = self._first_run
        self.health_checker: HealthChecker | None = None
        if self.config is not None:
            self.health_checker = HealthChecker.for_config(
                self.config, breaker=self.circuit_breaker, metrics=metrics
            )
            if self._topology is not None:
                self.health_checker = ClusterHealthChecker.for_cluster(
                    self.health_checker, self._topology
                )

    def _first_run(self, command: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # Stands in for the resilience path until the first command: starts the health checker.
        self._run = self._resilience.run
        if self.health_checker is not None:
            self.health_checker.start()
        return self._resilience.run(command, fn, *args, **kwargs)

    @staticmethod
    def _breaker_settings(settings: RedisConnectionConfig) -> dict[str, Any] | None:
        if not settings.circuit_breaker_enabled:
            return None
        return {
            "failure_threshold": settings.failure_threshold,
            "recovery_timeout": settings.recovery_timeout,
            "half_open_max_calls": settings.half_open_max_calls,
        }

    @property
    def topology(self) -> ClusterTopology | None:
        """On a cluster: per-node breakers, topology refreshes and failovers seen (else None)."""
        return self._topology

    @classmethod
    def from_url(
        cls, url: str, *, options: RedisOptions | None = None, **config_fields: Any
    ) -> RedisToolkit:
        """A toolkit for ``redis://``, ``rediss://``, ``unix://`` or ``memory://name`` URLs.

        ``memory://name`` is the embedded backend: an in-process fakeredis server shared by every
        client of the same name. ``redis+cluster://h1:p1,h2:p2`` (``rediss+cluster://`` for TLS)
        is a Redis Cluster reached through those startup nodes. Other keyword arguments are
        :class:`RedisConnectionConfig` fields. ``None``, an empty string or a URL without a
        supported scheme raise :class:`~redis_toolkit.exceptions.ValidationError` (never a silent
        ``localhost``).
        """
        if not isinstance(url, str) or not url.strip():
            raise ValidationError(
                f"from_url needs a redis://, rediss://, unix:// or memory:// URL, got {url!r}"
            )
        return cls(config=RedisConnectionConfig(url=url, **config_fields), options=options)

    # -- properties --------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The underlying redis-py client, for commands the toolkit does not wrap."""
        return self._client

    @property
    def _redis_client(self) -> Any:
        # 0.4's attribute name for the client; its tests and users reach for it.
        return self._client

    @property
    def closed(self) -> bool:
        """Whether the toolkit was closed; commands then raise ClientClosedError."""
        return self._closed

    @property
    def cluster(self) -> ClusterOperations:
        """Cluster-wide operations (``scan_cluster``, ``mget_cluster``, ``mset_cluster``,
        ``get_nodes_info``, ``keyslot``, ...) through this toolkit; also on a standalone server,
        as its one node. See docs/CLUSTER_GUIDE.md."""
        if self._cluster_ops is None:
            self._cluster_ops = ClusterOperations(self)
        return self._cluster_ops

    # -- helpers -----------------------------------------------------------------------------

    def _refuse_closed(self, command: str, *args: Any, **kwargs: Any) -> Any:
        # Stands in for the resilience path once closed: nothing is sent, nothing reconnects.
        raise self._closed_error(command, key=kwargs.get("key"), channel=kwargs.get("channel"))

    def _closed_error(
        self, what: str, key: str | None = None, channel: str | None = None
    ) -> ClientClosedError:
        target = f" on key {key!r}" if key else f" on channel {channel!r}" if channel else ""
        return ClientClosedError(
            f"{what}{target}: this toolkit ({self._address}) was closed; create a new one or "
            f"enter it again with a with-block",
            key=key,
            channel=channel,
        )

    def _serializer_for(self, opts: RedisOptions) -> Serializer:
        if opts is self.options or opts.serializer == self.options.serializer:
            return self._serializer
        return get_serializer(opts.serializer)

    def _encode(self, name: str, value: Any, opts: RedisOptions, serializer: Serializer) -> bytes:
        try:
            data = serializer.dumps(value)
        except SerializationError as e:
            context = f"value for key {name!r} cannot be stored (nothing was written)"
            raise SerializationError.restate(e, context, value, key=name) from e
        check_value_size(name, data, opts)
        return data

    def _decode(self, name: str, data: Any) -> Any:
        try:
            return self._serializer.loads(data)
        except SerializationError as e:
            context = f"value at key {name!r} cannot be decoded"
            raise SerializationError.restate(e, context, data, key=name) from e

    # -- values ------------------------------------------------------------------------------

    def setter(
        self,
        name: str,
        value: Any,
        options: RedisOptions | None = None,
        *,
        ttl: float | timedelta | None = None,
        nx: bool = False,
        xx: bool = False,
        keep_ttl: bool = False,
    ) -> bool:
        """Store ``value`` at ``name``; return whether it was written.

        ``ttl`` (seconds or timedelta) sets an expiry; ``nx`` writes only a new key, ``xx`` only
        an existing one (False then means the condition was not met); ``keep_ttl`` keeps the
        key's current expiry (a plain write clears it, as Redis SET does). Everything is
        validated and serialized before anything is sent.
        """
        opts = self.options if options is None else options
        check_key(name, opts)
        if nx and xx:
            raise ValidationError(f"setter({name!r}): nx and xx exclude each other", key=name)
        if keep_ttl and ttl is not None:
            raise ValidationError(
                f"setter({name!r}): keep_ttl and ttl exclude each other", key=name
            )
        if ttl is None and not (nx or xx or keep_ttl):
            # The common call: a plain SET, with no per-call argument dicts.
            data = self._encode(name, value, opts, self._serializer_for(opts))
            result = self._run("SET", self._execute, "SET", name, data, key=name)
            if opts.is_logger_info:
                _log_call(opts, "set", name, value)
            return bool(result)
        extra: dict[str, Any] = ttl_args(ttl, name)
        data = self._encode(name, value, opts, self._serializer_for(opts))
        result = self._run(
            "SET",
            self._commands.set,
            name,
            data,
            nx=nx,
            xx=xx,
            keepttl=keep_ttl,
            key=name,
            # A repeated SET NX/XX could report "not written" for its own first write.
            idempotent=False if (nx or xx) else None,
            **extra,
        )
        _log_call(opts, "set", name, value)
        return bool(result)

    def setter_with_ttl(
        self, name: str, value: Any, ttl: float | timedelta, options: RedisOptions | None = None
    ) -> bool:
        """Store ``value`` at ``name`` expiring after ``ttl`` seconds (or a timedelta)."""
        return self.setter(name, value, options, ttl=ttl)

    def getter(
        self, name: str, options: RedisOptions | None = None, default: Any = None
    ) -> Any:
        """The value stored at ``name``, or ``default`` when the key does not exist.

        A stored ``None`` is returned as ``None`` even when ``default`` is something else.
        """
        opts = self.options if options is None else options
        check_key(name, opts, writing=False)
        data = self._run("GET", self._get, name, key=name)
        if data is None:
            return default
        value = self._decode(name, data)
        if opts.is_logger_info:
            _log_call(opts, "get", name, value)
        return value

    def deleter(self, name: str) -> bool:
        """Delete ``name``; return whether it existed."""
        check_key(name, self.options, writing=False)
        return bool(self._run("DEL", self._commands.delete, name, key=name))

    def exists(self, name: str) -> bool:
        """Whether ``name`` exists."""
        check_key(name, self.options, writing=False)
        return bool(self._run("EXISTS", self._commands.exists, name, key=name))

    def get_ttl(self, name: str) -> float | None:
        """Seconds until ``name`` expires; ``-1`` if it has no expiry; ``None`` if it is absent."""
        check_key(name, self.options, writing=False)
        millis = self._run("PTTL", self._commands.pttl, name, key=name)
        if millis == -2:
            return None
        if millis == -1:
            return -1
        return millis / 1000

    def expire(self, name: str, ttl: float | timedelta) -> bool:
        """Make ``name`` expire after ``ttl``; False when the key does not exist."""
        check_key(name, self.options, writing=False)
        millis = ttl_millis(ttl, name)
        return bool(self._run("PEXPIRE", self._commands.pexpire, name, millis, key=name))

    def persist(self, name: str) -> bool:
        """Remove the expiry of ``name``; False when it had none or does not exist."""
        check_key(name, self.options, writing=False)
        return bool(self._run("PERSIST", self._commands.persist, name, key=name))

    def execute_command(self, *args: Any, idempotent: bool | None = None) -> Any:
        """Run a raw Redis command through the toolkit's breaker, retries and metrics.

        ``toolkit.execute_command("INCR", "hits")``. The reply is redis-py's, not
        deserialized. After a timeout the command is retried only if it is idempotent (known
        by name, or ``idempotent=True``): an INCR that timed out is not sent twice. Metrics and
        errors name the command by its first word when it is a known Redis command, else
        ``OTHER``: arguments (a password, a key) typed into the command string never appear
        there.
        """
        if not args:
            raise ValidationError("execute_command needs a command name")
        # The label in metrics and errors: the first word, if a known command, else OTHER. A
        # whole command line in one string ("AUTH <password>") never reaches a label or an error.
        command = command_label(args[0])
        # The second argument names the key in error messages, except where it is a secret
        # or not a key at all (AUTH's password, CONFIG's parameter, an unknown command's, ...).
        key = None
        if (
            len(args) > 1
            and isinstance(args[1], str)
            and command not in _NOT_A_KEY
            and command != OTHER_COMMAND
        ):
            key = args[1]
        for position, arg in enumerate(args):
            if isinstance(arg, str) and not arg.isascii():
                if arg is key:
                    check_encodable(arg, "key")
                else:
                    try:
                        arg.encode("utf-8")
                    except UnicodeEncodeError:
                        raise ValidationError(
                            f"execute_command: argument {position} cannot be encoded as UTF-8 "
                            "(a lone surrogate); nothing was sent"
                        ) from None
        return self._run(
            command, self._client.execute_command, *args, key=key, idempotent=idempotent
        )

    # -- batches -----------------------------------------------------------------------------

    def batch_set(
        self,
        mapping: Mapping[str, Any],
        options: RedisOptions | None = None,
        *,
        ttl: float | timedelta | None = None,
        atomic: bool = False,
    ) -> None:
        """Store every ``key -> value`` of ``mapping``, with an optional common ``ttl``.

        ``atomic=True`` writes all or nothing in one step (MSET, or MULTI/EXEC with a TTL; no
        chunking): no reader sees part of it. On a cluster the keys must share one slot (a
        common hash tag such as ``{user:1}:a``), else
        :class:`~redis_toolkit.exceptions.CrossSlotError` before anything is written.

        Every key and value is validated and serialized first: a bad item raises before anything
        is written. Items go in chunks of ``BATCH_CHUNK_SIZE``, one round trip each, each chunk
        atomic (MSET, or MULTI/EXEC when a TTL is set). If a chunk fails,
        :class:`~redis_toolkit.exceptions.BatchWriteError` lists the keys written and the keys not
        confirmed written. On a cluster, keys are grouped per node (atomic per node, not overall).
        """
        if self._closed:
            raise self._closed_error("batch_set")
        opts = self.options if options is None else options
        if not isinstance(mapping, Mapping):
            raise ValidationError(f"batch_set takes a mapping, got {type(mapping).__name__}")
        serializer = self._serializer_for(opts)
        extra = ttl_args(ttl, "<batch>")
        names = list(mapping)
        datas = self._encode_batch(names, list(mapping.values()), opts, serializer)
        if atomic:
            _atomic_batch_set(self, list(zip(names, datas)), extra)
            return

        written = 0
        for start in range(0, len(names), BATCH_CHUNK_SIZE):
            end = start + BATCH_CHUNK_SIZE
            chunk = names[start:end]
            try:
                self._run(
                    "MSET", self._write_chunk, chunk, datas[start:end], extra, key=chunk[0]
                )
            except RedisToolkitError as e:
                failed = names[written:]
                raise BatchWriteError(
                    f"batch_set wrote {written} of {len(names)} keys; {len(failed)} were "
                    f"not confirmed written (first: {failed[0]!r}): {e}",
                    failed_keys=failed,
                    written_keys=names[:written],
                ) from e
            written += len(chunk)

    def _encode_batch(
        self, names: list[Any], values: list[Any], opts: RedisOptions, serializer: Serializer
    ) -> list[bytes]:
        """Validate every key and value of a batch and return the values serialized.

        The common batch (ASCII str keys within the limits, values that encode within
        max_value_size) is checked a list at a time; anything else goes item by item through
        the full checks, which raise for the first bad key or value, naming it.
        """
        max_key = opts.max_key_length if opts.enable_validation else math.inf
        max_value = opts.max_value_size if opts.enable_validation else math.inf
        datas = None
        if (
            set(map(type, names)) <= {str}
            and all(map(str.isascii, names))
            and max(map(len, names), default=0) <= max_key
        ):
            datas = serializer._dumps_all(values)
        if datas is None:
            datas = []
            for name, value in zip(names, values):
                check_key(name, opts)
                datas.append(self._encode(name, value, opts, serializer))
        sizes = list(map(len, datas))
        if max(sizes, default=0) > max_value:
            for name, data in zip(names, datas):
                check_value_size(name, data, opts)
        check_batch_size(sum(sizes), len(datas), opts)
        return datas

    def _write_chunk(
        self, names: list[str], datas: list[bytes], extra: dict[str, int]
    ) -> None:
        if not extra:
            if self._cluster:
                self._client.mset_nonatomic(dict(zip(names, datas)))
            else:
                # MSET k1 v1 k2 v2 ...: the flat argument list, built by two slice assignments.
                args: list[Any] = [None] * (2 * len(names))
                args[::2] = names
                args[1::2] = datas
                self._execute("MSET", *args)  # the lean path, as setter's SET
            return
        pipe = self._client.pipeline(transaction=not self._cluster)
        for name, data in zip(names, datas):
            pipe.set(name, data, **extra)
        pipe.execute()

    def batch_get(
        self, names: list[str], options: RedisOptions | None = None
    ) -> dict[str, Any]:
        """The values of ``names`` as a dict in the order given; a missing key maps to ``None``.

        One MGET round trip per ``BATCH_CHUNK_SIZE`` keys (and one EXISTS for a chunk with missing
        keys). A value that cannot be decoded raises
        :class:`~redis_toolkit.exceptions.SerializationError` naming its key; a key holding
        another Redis type raises the same WRONGTYPE error as :meth:`getter`.
        """
        opts = self.options if options is None else options
        keys = as_key_list(names, "batch_get")
        for name in keys:
            if type(name) is not str or not name.isascii():  # ASCII str: nothing to check
                check_key(name, opts, writing=False)
        result: dict[str, Any] = {}
        for chunk in chunks(keys, BATCH_CHUNK_SIZE):
            mget = self.cluster._mget_values if self._cluster else self._commands.mget
            values = self._run("MGET", mget, chunk, key=chunk[0])
            missing = [name for name, data in zip(chunk, values) if data is None]
            if missing and self._run(
                "EXISTS", self._commands.exists, *missing, key=missing[0]
            ):
                # MGET answers nil for a key of another type too: read those as getter does, so
                # that such a key raises the same WRONGTYPE error instead of looking absent.
                values = [
                    data if data is not None else self._get_raw(name)
                    for name, data in zip(chunk, values)
                ]
            try:
                result.update(zip(chunk, self._serializer._loads_all(values)))
            except SerializationError:
                for name, data in zip(chunk, values):
                    if data is not None:
                        self._decode(name, data)  # raises for the first bad value, naming its key
                raise
        return result

    def _get_raw(self, name: str) -> Any:
        return self._run("GET", self._commands.get, name, key=name)

    def batch_delete(self, names: list[str]) -> int:
        """Delete ``names``; return how many existed."""
        keys = as_key_list(names, "batch_delete")
        for name in keys:
            check_key(name, self.options, writing=False)
        deleted = 0
        for chunk in chunks(keys, BATCH_CHUNK_SIZE):
            deleted += int(self._run("DEL", self._commands.delete, *chunk, key=chunk[0]))
        return deleted

    # -- transactions and locks ---------------------------------------------------------------

    def update(
        self,
        key: str,
        fn: Any,
        *,
        retries: int = DEFAULT_RETRIES,
        ttl: float | timedelta | None = None,
        default: Any = None,
        options: RedisOptions | None = None,
    ) -> Any:
        """Atomically replace the value at ``key`` with ``fn(old_value)``; return the new value.

        WATCH and GET the key, call ``fn`` (``default`` when the key is absent), then
        MULTI/SET/EXEC. If another client changed the key in between, nothing is written and
        it starts over, up to ``retries`` more times, then
        :class:`~redis_toolkit.exceptions.ConflictError` (``attempts`` says how many were made).
        ``ttl`` sets an expiry; without it the key keeps its current one. ``fn`` may run more
        than once: keep it free of side effects. Conflicts count in ``get_metrics()``.
        """
        return _update(
            self, key, fn, retries=retries, ttl=ttl, default=default, options=options
        )

    def transaction(
        self,
        *keys: str,
        retries: int = DEFAULT_RETRIES,
        options: RedisOptions | None = None,
    ) -> Transaction:
        """An optimistic transaction watching ``keys``: typed reads, queued writes, one EXEC.

        ``with toolkit.transaction("a") as tx:`` runs the block once and raises
        :class:`~redis_toolkit.exceptions.ConflictError` if a watched key changed before the
        commit. ``for attempt in toolkit.transaction("a", retries=5): with attempt
        as tx:`` runs it again on conflict (``with`` / ``for`` in the sync API). See
        :class:`Transaction`.
        """
        return Transaction(self, keys, retries=retries, options=options)

    def lock(
        self,
        name: str,
        *,
        ttl: float | timedelta = 30.0,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        auto_renew: bool = True,
        on_error: Any = None,
    ) -> RedisLock:
        """A lease lock on key ``name`` with auto-renewal and a fencing token (not yet taken).

        ``with toolkit.lock("jobs:nightly", ttl=10, blocking_timeout=5) as lock:`` waits
        up to ``blocking_timeout`` seconds (``None``: forever), then raises
        :class:`~redis_toolkit.exceptions.LockTimeoutError`. While the block runs the lease is
        renewed every ``ttl / 3`` (``auto_renew``); ``lock.token`` is the fencing token and
        ``lock.lost`` tells when the lease may have run out. See :class:`RedisLock`.
        """
        return RedisLock(
            self,
            name,
            ttl=ttl,
            blocking=blocking,
            blocking_timeout=blocking_timeout,
            auto_renew=auto_renew,
            on_error=on_error,
        )

    # -- pub/sub -----------------------------------------------------------------------------

    def publisher(
        self,
        channel: str,
        data: Any,
        options: RedisOptions | None = None,
        *,
        sharded: bool = False,
    ) -> int:
        """Publish ``data`` (any value the options' serializer supports) on ``channel``.

        ``sharded=True`` publishes with SPUBLISH to shard-channel subscribers (Redis 7; on a
        cluster only the node owning the channel's slot carries it, so it scales with the
        cluster). Returns how many subscribers received it: exact on one server, and for
        ``sharded`` on a cluster while the toolkit's slot map is current (the subscribers on
        the slot's primary; right after a failover a stale map can reach the demoted node,
        which relays the message uncounted: 0, and the toolkit then re-reads the map). A
        classic PUBLISH on a cluster is relayed to every node and the count is only that of
        the node that took it: the toolkit cannot know the total, and 0 does not mean nobody
        received it. Pub/sub is at-most-once: a subscriber
        that is disconnected at that moment never sees the message.
        """
        opts = self.options if options is None else options
        check_names([channel])
        try:
            payload = self._serializer_for(opts).dumps(data)
        except SerializationError as e:
            context = f"message for channel {channel!r} cannot be encoded (nothing was published)"
            raise SerializationError.restate(e, context, data, channel=channel) from e
        if opts.enable_validation and len(payload) > opts.max_value_size:
            raise ValidationError(
                f"message for channel {channel!r} is {len(payload)} bytes serialized, over "
                f"max_value_size={opts.max_value_size}; nothing was published",
                channel=channel,
            )
        if sharded:
            command, fn = "SPUBLISH", self._commands.spublish
        else:
            command, fn = "PUBLISH", self._commands.publish
        receivers = int(self._run(command, fn, channel, payload, channel=channel))
        if sharded and not receivers and self._topology is not None:
            # After a failover a stale slot map sends SPUBLISH to the demoted node, which relays
            # it to the shard uncounted: re-read the map (at most once a second) so that the
            # next count is right. Never published again: it may have been delivered.
            self._topology.refresh(min_interval=1.0)
        _log_call(opts, "publish to", channel, data)
        return receivers

    def publish(
        self,
        channel: str,
        data: Any,
        options: RedisOptions | None = None,
        *,
        sharded: bool = False,
    ) -> int:
        """Alias of :meth:`publisher`."""
        return self.publisher(channel, data, options, sharded=sharded)

    def _new_subscriber(
        self,
        channels: list[str] | None,
        patterns: list[str] | None,
        handler: Any,
        on_error: Any,
        sharded: bool = False,
    ) -> Subscriber:
        return Subscriber(
            self._client,
            self._serializer,
            handler=handler,
            channels=channels,
            patterns=patterns,
            manager=self._subscription_manager,
            on_error=on_error,
            reconnect_delay=0.1,
            max_reconnect_delay=float(self.options.subscriber_retry_delay),
            stop_timeout=float(self.options.subscriber_stop_timeout),
            address=self._address,
            sharded=sharded,
            topology=self._topology,
        )

    def start_subscriber(
        self,
        channels: list[str] | None = None,
        handler: Any = None,
        patterns: list[str] | None = None,
        *,
        on_error: Any = None,
        sharded: bool = False,
    ) -> bool:
        """Start listening; return once Redis confirmed every subscription.

        ``sharded=True`` runs a second listener, of shard channels (SSUBSCRIBE, Redis 7), next
        to the classic one: on a cluster each shard channel lives on the node owning its slot
        (put related channels in one slot with a hash tag, ``{user:123}:events``). On a
        cluster both listeners heal on their own after a node dies or a failover: see
        docs/CLUSTER_FAILOVER.md.

        ``handler(channel, value)`` gets each message (a pattern's handler learns the real
        channel); it may be a plain callable. ``on_error(error, channel)`` hears about
        handler errors and lost connections. A running listener gets the new channels and
        patterns without a restart. Returns False if Redis did not confirm within 5 s (the
        listener keeps trying); called from one of the listener's own handlers (to restart it)
        it returns True at once. After :meth:`stop_subscriber`, a new ``handler`` (or
        ``on_error``) starts a new listener with it, on ``channels`` and ``patterns`` (the old
        ones when not given), as in 0.4.
        """
        if self._closed:
            raise self._closed_error("start_subscriber")
        if sharded:
            return self._start_shard_subscriber(channels, handler, patterns, on_error)
        old = self._subscriber
        if old is not None and not old.running and (handler is not None or on_error is not None):
            # 0.4: stop_subscriber() then start_subscriber(channels, new_handler) restarts.
            self._subscriber = None
            channels = channels if channels is not None else old.channels
            patterns = patterns if patterns is not None else old.patterns
        if self._subscriber is None:
            self._subscriber = self._new_subscriber(
                channels, patterns, handler or self._message_handler, on_error
            )
            return self._subscriber.start()
        if handler is not None or on_error is not None:
            raise ValidationError(
                "a subscriber is already set up; stop_subscriber() before changing its handler"
            )
        if not self._subscriber.running:
            self._subscriber.start_nowait()
        ok = True
        if channels:
            ok = self._subscriber.subscribe(*channels) and ok
        if patterns:
            ok = self._subscriber.psubscribe(*patterns) and ok
        return self._subscriber.start() and ok

    def _start_shard_subscriber(
        self, channels: list[str] | None, handler: Any, patterns: list[str] | None, on_error: Any
    ) -> bool:
        if patterns:
            raise ValidationError(
                f"sharded pub/sub has no patterns (Redis has no PSSUBSCRIBE): {patterns!r}"
            )
        current = self._shard_subscriber
        if current is not None and current.running:
            if handler is not None or on_error is not None:
                raise ValidationError(
                    "a sharded subscriber is already set up; stop_subscriber() before changing "
                    "its handler"
                )
            return current.subscribe(*(channels or []))
        if current is not None:
            channels = channels if channels is not None else current.channels
            handler = handler or current._handler
            on_error = on_error or current._on_error
        self._shard_subscriber = self._new_subscriber(
            channels, None, handler or self._message_handler, on_error, sharded=True
        )
        return self._shard_subscriber.start()

    @property
    def shard_subscriber(self) -> Subscriber | None:
        """The sharded pub/sub listener, once ``start_subscriber(..., sharded=True)`` set one up."""
        return self._shard_subscriber

    def stop_subscriber(self) -> bool:
        """Stop the listener (and the sharded one); a handler that is running may finish first.

        Returns within the poll interval plus the running handler's time (at most
        ``subscriber_stop_timeout``); True if the listener ended in time.
        """
        stopped = True
        if self._shard_subscriber is not None:
            stopped = self._shard_subscriber.stop()
        if self._subscriber is None:
            return stopped
        self._stopped_task = self._subscriber._task or self._stopped_task
        return self._subscriber.stop() and stopped

    @property
    def subscriber(self) -> Subscriber | None:
        """The pub/sub listener, once one was set up."""
        return self._subscriber

    @property
    def sub_thread(self) -> Any:
        """0.4 name: the listener's thread, or None.

        After :meth:`stop_subscriber` it is the stopped one, as in 0.4 (``is_alive()`` False).
        """
        task = self._subscriber._task if self._subscriber is not None else None
        return task if task is not None else self._stopped_task

    @property
    def run_subscriber(self) -> bool:
        """0.4 name: whether the listener is running."""
        return self._subscriber is not None and self._subscriber.running

    @property
    def subscription_manager(self) -> SubscriptionManager | None:
        """The dynamic-subscription registry (None when disabled)."""
        return self._subscription_manager

    def set_subscription_manager(self, manager: SubscriptionManager | None) -> None:
        """Replace the dynamic-subscription registry; None disables dynamic subscriptions.

        Channels of the old registry stay subscribed until the listener next reconciles.
        """
        if self._subscription_manager is not None:
            self._subscription_manager.stop()
        self._subscription_manager = manager
        if self._subscriber is not None:
            self._subscriber.set_manager(manager)

    def subscribe_dynamic(self, channel: str, callback: Any) -> bool:
        """Subscribe ``channel`` with its own ``callback`` while the listener runs (no restart).

        Starts the listener if needed; returns once Redis confirmed. False when dynamic
        subscriptions are disabled.
        """
        check_names([channel])
        if self._closed:
            raise self._closed_error("subscribe_dynamic", channel=channel)
        if self._subscription_manager is None:
            logger.error("subscribe_dynamic(%r): dynamic subscriptions are disabled", channel)
            return False
        Runtime.check_callable(callback, "callback")
        self._subscription_manager.subscribe_dynamic(channel, callback)
        if self._subscriber is None:
            self._subscriber = self._new_subscriber(None, None, self._message_handler, None)
        if not self._subscriber.running:
            return self._subscriber.start()
        return self._subscriber.sync_subscriptions()

    def unsubscribe_dynamic(self, channel: str) -> bool:
        """Unsubscribe a dynamic channel in Redis (no restart); False if it was not subscribed."""
        if self._subscription_manager is None:
            return False
        if not self._subscription_manager.unsubscribe_dynamic(channel):
            return False
        if self._subscriber is not None:
            self._subscriber.sync_subscriptions()
        return True

    def resubscribe_channel(self, channel: str) -> bool:
        """Subscribe again an expired dynamic channel with its old callback."""
        if self._subscription_manager is None or not self._subscription_manager.resubscribe(
            channel
        ):
            return False
        if self._subscriber is not None and self._subscriber.running:
            return self._subscriber.sync_subscriptions()
        return True

    def get_subscription_stats(self) -> dict[str, Any]:
        """Dynamic-subscription statistics plus the listener's counters."""
        if self._subscription_manager is None:
            stats: dict[str, Any] = {
                "enabled": False,
                "message": "dynamic subscriptions are disabled",
            }
        else:
            stats = self._subscription_manager.get_statistics()
            stats["enabled"] = True
        stats["static_channels"] = (
            len(self._subscriber.channels) if self._subscriber is not None else 0
        )
        stats["listener"] = self._subscriber.stats() if self._subscriber is not None else None
        return stats

    def get_expired_channels(self) -> dict[str, dict[str, Any]]:
        """Dynamic channels that expired (idle) or were unsubscribed, with their activity."""
        if self._subscription_manager is None:
            return {}
        return self._subscription_manager.get_expired_channels()

    # -- lifecycle ---------------------------------------------------------------------------

    def get_metrics(self) -> dict[str, Any]:
        """Operation counts, success rate, latencies (avg, p50/p95/p99), retries, breaker state.

        Per command under ``"commands"``. Key names never appear (only command names).
        """
        return self.metrics.snapshot()

    def get_health_status(self) -> dict[str, Any]:
        """Breaker state, whether the last background check reached the server, and its figures.

        On a cluster the check PINGs every primary: ``nodes`` holds per node whether it
        answered, its latency, last error and breaker state, and ``cluster`` the primaries last
        seen, topology refreshes and failovers.
        """
        if self.health_checker is not None:
            status = self.health_checker.status()
        else:
            status = {"state": None, "connected": None, "healthy": None, "running": False}
        status["state"] = (
            self.circuit_breaker.state.value if self.circuit_breaker is not None else "disabled"
        )
        status["circuit_breaker"] = (
            self.circuit_breaker.snapshot() if self.circuit_breaker is not None else None
        )
        return status

    def health_check(self) -> bool:
        """PING the server; True when it answers, False (and a warning logged) when it does not.

        Never raises (as in 0.4): any failure, and a closed toolkit, give False.
        """
        if self._closed:
            logger.warning("health check of %s: the toolkit was closed", self._address)
            return False
        try:
            return bool(self._client.ping())
        except Exception as e:  # 0.4's contract: a health check answers, it does not raise
            logger.warning("health check of %s failed: %r", self._address, e)
            return False

    def cleanup(self) -> None:
        """Release the client (0.4 name of :meth:`close`)."""
        self.close()

    def close(self) -> None:
        """Close the client this toolkit created (a client passed in stays open). Idempotent.

        Afterwards every command raises :class:`~redis_toolkit.exceptions.ClientClosedError`
        (nothing reconnects silently) and :meth:`health_check` is False. Entering the toolkit
        again (``with``) reopens it.
        """
        if self._closed:
            return
        self._closed = True
        self._run = self._refuse_closed
        if self._subscriber is not None:
            self._stopped_task = self._subscriber._task or self._stopped_task
            self._subscriber.stop()
        if self._shard_subscriber is not None:
            self._shard_subscriber.stop()
        if self.health_checker is not None:
            self.health_checker.stop()
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RedisToolkit:
        # Entering again after a close (or a failed enter) reopens it: the with-block is an
        # explicit lifecycle, and a failed enter must be retryable once the server is back.
        self._closed = False
        self._run = self._resilience.run
        try:
            self._enter()
        except BaseException:
            self.close()  # nothing started here keeps running after a failed enter
            raise
        return self

    def _enter(self) -> None:
        try:
            self._client.ping()
            if (
                self.config is not None
                and self.config.min_connections
                and self.options.use_connection_pool
            ):
                pool_manager.fill_pool(
                    getattr(self._client, "connection_pool", None), self.config.min_connections
                )
        except (RedisError, RedisClusterException) as e:
            raise wrap_redis_error(e, "PING", address=self._address) from e
        if self._subscriber is not None and not self._subscriber.running:
            self._subscriber.start()
        if self.health_checker is not None:
            self.health_checker.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A toolkit dropped without close() must not leave its health check running forever.
        # Only an event is set here: no I/O, nothing awaited.
        checker = getattr(self, "health_checker", None)
        if checker is not None:
            checker.signal_stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._address}>"
