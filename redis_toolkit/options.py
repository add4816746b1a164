"""Configuration: where to connect (``RedisConnectionConfig``) and how to behave (``RedisOptions``).

Pure: no I/O. Both are dataclasses validated at construction, so a bad value fails where it is
written, with a message naming the field. Every field and default of redis-toolkit 0.4 is
accepted; the new fields are documented on each class. The password never appears in a ``repr``.

Why this module is over the house's ~600 lines (about 720): each of the two dataclasses holds
every 0.4 field plus the URL, pool, resilience and cluster fields, with the validation and the
comment that explain them, and a field, its default and its check are best read in one place.
The next split, if it grows: URL parsing (``_apply_url``, ``_apply_cluster_url``,
``_parse_node``, ``_split_cluster_netloc``, about 150 lines) into a pure module of its own.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .exceptions import ClusterValidationError, ValidationError

__all__ = [
    "RedisConnectionConfig",
    "RedisConfig",
    "RedisOptions",
    "DEFAULT_OPTIONS",
    "DEFAULT_CONNECTION_CONFIG",
]

logger = logging.getLogger("redis_toolkit.options")

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SSL_CERT_REQS = ("none", "optional", "required")
_CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
_SCHEMES = ("redis", "rediss", "unix", "memory", *_CLUSTER_SCHEMES)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(message)


def _cluster_require(condition: bool, message: str) -> None:
    if not condition:
        raise ClusterValidationError(message)


def _parse_node(node: Any) -> tuple[str, int]:
    """Accept ``("host", port)``, ``{"host": h, "port": p}`` or ``"host:port"``."""
    host: Any
    port: Any
    if isinstance(node, str):
        host, sep, port = node.rpartition(":")
        _cluster_require(
            bool(sep) and port.isdigit(), f"startup_nodes: {node!r} is not 'host:port'"
        )
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # [::1]:7000
    elif isinstance(node, dict):
        _cluster_require(
            "host" in node and "port" in node,
            f"startup_nodes: {node!r} needs the keys 'host' and 'port'",
        )
        host, port = node["host"], node["port"]
    elif isinstance(node, (tuple, list)) and len(node) == 2:
        host, port = node
    else:
        raise ClusterValidationError(
            f"startup_nodes: {node!r} is not 'host:port', (host, port) or "
            "{'host': ..., 'port': ...}"
        )
    _cluster_require(isinstance(host, str) and bool(host), f"startup_nodes: {node!r} has no host")
    try:
        number = int(port)
    except (TypeError, ValueError):
        number = 0
    _cluster_require(
        not isinstance(port, bool) and 1 <= number <= 65535,
        f"startup_nodes: {node!r} has an invalid port (1-65535)",
    )
    return host, number


def _split_cluster_netloc(netloc: str, url: str) -> tuple[str, list[tuple[str, int]]]:
    """``user:pass@h1:p1,h2:p2`` -> (userinfo, nodes); ``url`` (redacted) is for messages."""
    userinfo, _, hosts = netloc.rpartition("@")
    nodes = []
    for item in hosts.split(","):
        item = item.strip()
        if not item:
            continue
        if ":" not in item:
            item = f"{item}:6379"
        nodes.append(_parse_node(item))
    _cluster_require(bool(nodes), f"cluster url names no node: {url}")
    return userinfo, nodes


_BEHAVIOUR_FIELDS = frozenset(
    {
        "circuit_breaker_enabled",
        "failure_threshold",
        "recovery_timeout",
        "half_open_max_calls",
        "health_check_enabled",
        "health_checker_interval",
        "max_retries",
        "retry_strategy",
        "retry_delay",
        "max_retry_delay",
        "retry_jitter",
        "retry_deadline",
        "metrics_enabled",
        "cluster_node_timeout",
    }
)


@dataclass
class RedisConnectionConfig:
    """How to reach Redis: a standalone server, a unix socket, a cluster or the embedded backend.

    Fields of redis-toolkit 0.4 keep their names and meaning. New in 0.5:

    - ``url``: ``redis://``, ``rediss://``, ``unix://``, ``memory://name``, or
      ``redis+cluster://h1:p1,h2:p2`` (``rediss+cluster://`` with TLS) for a cluster; what it
      names (host, port, db, credentials, TLS, socket path, startup nodes) overrides the
      matching fields.
    - ``max_connections``: pool limit, 50 by default (``None``: unbounded, as 0.4); the real
      field of the pool limit (``RedisOptions.max_connections``, 0.4's spelling, overrides it
      when set). A caller finding every connection busy waits up to ``pool_timeout`` seconds
      (5 by default; ``None``: forever) for one to come back, then fails with
      :class:`~redis_toolkit.exceptions.ConnectionFailedError` (pool exhausted);
      ``min_connections``: connections opened ahead when the toolkit is entered (``with`` /
      ``async with``).
    - ``cluster_mode``, ``startup_nodes`` (``"host:port"``, ``(host, port)`` or
      ``{"host": ..., "port": ...}``; default: ``host``/``port``), ``max_connections_per_node``
      (``None``: unbounded; redis-py's async cluster client *raises* when a node's limit is
      reached instead of waiting, so a low limit fails busy async apps), ``readonly_mode`` (reads
      are spread over the primary and its replicas: replicas lag, so a read right after a write
      may return the old value) and ``skip_full_coverage_check`` (accept a cluster whose slots
      are not all served): Redis Cluster, see docs/CLUSTER_GUIDE.md and
      :meth:`validate_cluster_config`.
    - ``client_name`` and ``protocol`` (RESP2 by default, so reply shapes do not change with the
      installed redis-py).
    - Resilience: ``circuit_breaker_enabled``, ``failure_threshold``, ``recovery_timeout``,
      ``half_open_max_calls``, ``health_check_enabled`` (a background PING every
      ``health_checker_interval`` seconds, 30 by default), ``max_retries``, ``retry_strategy``
      (``"exponential_backoff"``, ``"linear_backoff"``, ``"fixed_delay"``), ``retry_delay``,
      ``max_retry_delay``, ``retry_jitter``, ``retry_deadline`` (seconds for the whole call,
      all attempts included: 20 by default; see below),
      ``metrics_enabled``. These are the real retry fields; ``RedisOptions``' 0.4 retry fields
      override them when set (see :meth:`RetryPolicy.from_settings
      <redis_toolkit.resilience.RetryPolicy.from_settings>`).

    ``health_check_interval`` keeps its 0.4 meaning only: redis-py PINGs a pooled connection
    idle for longer than that many seconds before using it (0 turns that off). It does not
    drive the background checker (``health_checker_interval`` does).

    Every wait is finite by default: 5 s to connect (``connection_timeout``), 5 s for a reply
    (``socket_timeout``; 0.4 had none, so a server that accepts and never answers hung a call
    forever), 5 s for a free pooled connection (``pool_timeout``). One attempt therefore ends
    within 15 s, and ``retry_deadline`` (20 s) bounds the whole call: a retry is started only if
    its backoff plus one attempt's worst case (the sum of those three timeouts) ends before the
    deadline. A blocking command that waits longer than ``socket_timeout`` on purpose (BLPOP with
    a long timeout) needs a larger ``socket_timeout`` (or ``None``: no read timeout, and then no
    bound on the call either).
    """

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    password: str | None = field(default=None, repr=False)
    username: str | None = None
    encoding: str = "utf-8"
    socket_keepalive: bool = True
    socket_keepalive_options: dict[int, int | bytes] | None = None
    connection_timeout: float | None = 5.0
    socket_timeout: float | None = 5.0
    retry_on_timeout: bool = False
    retry_on_error: list[type[Exception]] | None = None
    health_check_interval: int = 30
    ssl: bool = False
    ssl_keyfile: str | None = None
    ssl_certfile: str | None = None
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: str = "required"
    # new in 0.5
    url: str | None = field(default=None, repr=False)
    unix_socket_path: str | None = None
    max_connections: int | None = 50
    #: seconds a caller waits for a free pooled connection when all are busy (None: forever)
    pool_timeout: float | None = 5.0
    min_connections: int = 0
    client_name: str | None = None
    protocol: int = 2
    cluster_mode: bool = False
    startup_nodes: list[Any] | None = None
    max_connections_per_node: int | None = None
    readonly_mode: bool = False
    skip_full_coverage_check: bool = False
    #: The servers' ``cluster-node-timeout`` in seconds (Redis's default: 15). Only sizes the
    #: default retry budget of ``cluster_mode``: ``2 x cluster_node_timeout + 2`` seconds.
    cluster_node_timeout: float = 15.0
    #: ``memory://NAME``: the embedded backend's server name; set from ``url``.
    embedded_name: str | None = None
    # resilience (new in 0.5; see docs/RESILIENCE.md)
    circuit_breaker_enabled: bool = True
    failure_threshold: int = 5
    recovery_timeout: float = 60.0
    half_open_max_calls: int = 1
    health_check_enabled: bool = True
    health_checker_interval: float = 30.0
    max_retries: int = 3
    retry_strategy: str = "exponential_backoff"
    retry_delay: float = 0.1
    max_retry_delay: float = 10.0
    retry_jitter: bool = True
    retry_deadline: float | None = 20.0
    metrics_enabled: bool = True

    def __post_init__(self) -> None:
        if self.url is not None:
            self._apply_url(self.url)
        self.validate()

    # -- url parsing -------------------------------------------------------------------------

    def _apply_url(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        _require(
            scheme in _SCHEMES,
            f"url scheme {scheme!r} is not supported; use one of "
            + ", ".join(f"{s}://" for s in _SCHEMES),
        )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if scheme in _CLUSTER_SCHEMES:
            self._apply_cluster_url(scheme, parts.netloc, parts.path, query)
            return
        if scheme == "memory":
            self.embedded_name = (parts.netloc + parts.path) or "default"
            return
        if parts.username:
            self.username = unquote(parts.username)
        if parts.password:
            self.password = unquote(parts.password)
        if scheme == "unix":
            _require(bool(parts.path), f"unix:// url needs a socket path: {self.redacted_url()}")
            self.unix_socket_path = unquote(parts.path)
            if "db" in query:
                self.db = self._int_from_url("db", query["db"])
            return
        if parts.hostname:
            self.host = parts.hostname
        try:
            port = parts.port
        except ValueError as e:
            raise ValidationError(f"url has an invalid port: {self.redacted_url()}") from e
        if port is not None:
            self.port = port
        path = parts.path.lstrip("/")
        if path:
            self.db = self._int_from_url("db", path)
        elif "db" in query:
            self.db = self._int_from_url("db", query["db"])
        if scheme == "rediss":
            self.ssl = True

    def _apply_cluster_url(
        self, scheme: str, netloc: str, path: str, query: dict[str, str]
    ) -> None:
        # urlsplit cannot read a port out of "h1:p1,h2:p2", so the node list is split here.
        userinfo, nodes = _split_cluster_netloc(netloc, str(self.redacted_url()))
        if userinfo:
            user, sep, password = userinfo.partition(":")
            self.username = unquote(user) or None
            if sep:
                self.password = unquote(password)
        self.cluster_mode = True
        self.startup_nodes = [{"host": host, "port": port} for host, port in nodes]
        self.host, self.port = nodes[0]
        db = path.lstrip("/")
        if db:
            self.db = self._int_from_url("db", db)
        if scheme == "rediss+cluster":
            self.ssl = True
        for name in ("readonly_mode", "skip_full_coverage_check"):
            if name in query:
                raw = query[name].lower()
                _cluster_require(
                    raw in _TRUE + _FALSE,
                    f"url {name}={query[name]!r} is not a boolean: {self.redacted_url()}",
                )
                setattr(self, name, raw in _TRUE)
        if "max_connections_per_node" in query:
            self.max_connections_per_node = self._int_from_url(
                "max_connections_per_node", query["max_connections_per_node"]
            )

    def _int_from_url(self, name: str, raw: str) -> int:
        _require(raw.isdigit(), f"url {name} {raw!r} is not a number: {self.redacted_url()}")
        return int(raw)

    def redacted_url(self) -> str | None:
        """The ``url`` with its password replaced by ``***`` (safe for logs and errors)."""
        if self.url is None:
            return None
        parts = urlsplit(self.url)
        userinfo, at, hosts = parts.netloc.rpartition("@")
        if not at or ":" not in userinfo:
            return self.url
        netloc = f"{userinfo.partition(':')[0]}:***@{hosts}"
        return parts._replace(netloc=netloc).geturl()

    # -- what kind of backend ----------------------------------------------------------------

    @property
    def is_embedded(self) -> bool:
        """True for ``memory://``: the in-process fakeredis backend."""
        return self.embedded_name is not None

    @property
    def address(self) -> str:
        """Where this config points, for messages and logs (never includes credentials)."""
        if self.is_embedded:
            return f"memory://{self.embedded_name}"
        if self.unix_socket_path:
            return f"unix://{self.unix_socket_path}"
        if self.cluster_mode and self.startup_nodes:
            return "cluster " + ",".join(f"{h}:{p}" for h, p in self.cluster_nodes())
        scheme = "rediss" if self.ssl else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.db}"

    @property
    def pool_size(self) -> int:
        """``max_connections`` as redis-py needs it: ``None`` means unbounded, as in 0.4.

        Passed explicitly because redis-py's own default for ``None`` changed (8.x: 100).
        """
        return self.max_connections if self.max_connections is not None else 2**31 - 1

    @property
    def attempt_timeout(self) -> float:
        """The longest one attempt of a call can take: ``pool_timeout + connection_timeout +
        socket_timeout`` (a ``None`` among them counts 0: that wait has no bound to add).

        :meth:`RetryPolicy.from_settings <redis_toolkit.resilience.RetryPolicy.from_settings>`
        starts a retry only if its backoff plus this ends before ``retry_deadline``.
        """
        waits = (self.pool_timeout, self.connection_timeout, self.socket_timeout)
        return float(sum(w for w in waits if w is not None))

    def cluster_nodes(self) -> list[tuple[str, int]]:
        """The startup nodes as ``(host, port)`` pairs (the host/port fields if none are given)."""
        if not self.startup_nodes:
            return [(self.host, self.port)]
        return [_parse_node(node) for node in self.startup_nodes]

    # -- validation --------------------------------------------------------------------------

    def validate(self) -> None:
        """Check every field; raise :class:`ValidationError` (a ``ValueError``) naming the field."""
        _require(isinstance(self.host, str) and bool(self.host), "host must be a non-empty string")
        _require(
            isinstance(self.port, int) and 1 <= self.port <= 65535,
            f"port must be 1-65535, got {self.port!r}",
        )
        _require(isinstance(self.db, int) and self.db >= 0, f"db must be >= 0, got {self.db!r}")
        for name in ("connection_timeout", "socket_timeout", "pool_timeout"):
            value = getattr(self, name)
            _require(
                value is None or (isinstance(value, (int, float)) and value > 0),
                f"{name} must be > 0 seconds or None, got {value!r}",
            )
        _require(
            isinstance(self.health_check_interval, (int, float))
            and self.health_check_interval >= 0,
            f"health_check_interval must be >= 0 (0 disables), got {self.health_check_interval!r}",
        )
        _require(
            self.ssl_cert_reqs in _SSL_CERT_REQS,
            f"ssl_cert_reqs must be one of {_SSL_CERT_REQS}, got {self.ssl_cert_reqs!r}",
        )
        _require(
            self.max_connections is None
            or (isinstance(self.max_connections, int) and self.max_connections >= 1),
            f"max_connections must be >= 1 or None, got {self.max_connections!r}",
        )
        _require(
            isinstance(self.min_connections, int) and self.min_connections >= 0,
            f"min_connections must be >= 0, got {self.min_connections!r}",
        )
        _require(
            self.max_connections is None or self.min_connections <= self.max_connections,
            f"min_connections ({self.min_connections}) exceeds max_connections "
            f"({self.max_connections})",
        )
        _require(self.protocol in (2, 3), f"protocol must be 2 or 3, got {self.protocol!r}")
        self._validate_resilience()
        self.validate_cluster_config()
        if self.ssl and self.socket_timeout is None:
            logger.warning(
                "%s: ssl=True with socket_timeout=None. redis-py's sync client runs the TLS "
                "handshake under socket_timeout, not connection_timeout, so a peer that accepts "
                "the TCP connection but never completes the handshake blocks forever; set "
                "socket_timeout",
                self.address,
            )

    def validate_cluster_config(self) -> None:
        """Check the cluster fields; raise :class:`ClusterValidationError` naming the field.

        ``ClusterValidationError`` is both a ``ClusterConfigError`` and a ``ValidationError``
        (a ``ValueError``). Runs as part of :meth:`validate` (so at construction); call it again
        after changing fields by hand. Without ``cluster_mode`` only the types are checked.
        """
        for name in ("cluster_mode", "readonly_mode", "skip_full_coverage_check"):
            value = getattr(self, name)
            _cluster_require(
                isinstance(value, bool), f"{name} must be True or False, got {value!r}"
            )
        value = self.max_connections_per_node
        _cluster_require(
            value is None
            or (isinstance(value, int) and not isinstance(value, bool) and value >= 1),
            f"max_connections_per_node must be an int >= 1 or None, got {value!r}",
        )
        _cluster_require(
            self.startup_nodes is None or isinstance(self.startup_nodes, (list, tuple)),
            f"startup_nodes must be a list of nodes, got {type(self.startup_nodes).__name__}",
        )
        if not self.cluster_mode:
            return
        _cluster_require(not self.is_embedded, "cluster_mode cannot be used with memory://")
        _cluster_require(
            self.unix_socket_path is None,
            "cluster_mode cannot be used with a unix socket (unix_socket_path)",
        )
        _cluster_require(self.db == 0, f"db: Redis Cluster has only db 0, got db={self.db}")
        self.cluster_nodes()  # raises, naming startup_nodes, on a malformed node

    def get_cluster_options(self) -> dict[str, Any]:
        """Keyword arguments for redis-py's ``RedisCluster`` (sync or ``redis.asyncio``).

        Everything except ``startup_nodes`` and ``decode_responses``, which the caller passes::

            RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in config.cluster_nodes()],
                         decode_responses=False, **config.get_cluster_options())

        The toolkit adds ``retry`` (redis-py's own retries off). ``readonly_mode`` becomes
        ``load_balancing_strategy=ROUND_ROBIN``: reads rotate over each slot's primary and
        replicas (stale reads possible); writes always go to the primary.
        """
        from redis.cluster import LoadBalancingStrategy

        kwargs = self.to_redis_kwargs()
        for name in ("db", "host", "port", "unix_socket_path", "decode_responses"):
            kwargs.pop(name, None)
        kwargs["require_full_coverage"] = not self.skip_full_coverage_check
        kwargs["load_balancing_strategy"] = (
            LoadBalancingStrategy.ROUND_ROBIN if self.readonly_mode else None
        )
        if self.max_connections_per_node is not None:
            kwargs["max_connections"] = self.max_connections_per_node
        return kwargs

    def _validate_resilience(self) -> None:
        from .resilience import RetryStrategy

        for name in ("failure_threshold", "half_open_max_calls"):
            value = getattr(self, name)
            _require(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                f"{name} must be an int >= 1, got {value!r}",
            )
        _require(
            isinstance(self.health_checker_interval, (int, float))
            and not isinstance(self.health_checker_interval, bool)
            and self.health_checker_interval > 0,
            f"health_checker_interval must be > 0 seconds (health_check_enabled=False turns the "
            f"checker off), got {self.health_checker_interval!r}",
        )
        _require(
            isinstance(self.max_retries, int) and self.max_retries >= 0,
            f"max_retries must be an int >= 0, got {self.max_retries!r}",
        )
        _require(
            isinstance(self.cluster_node_timeout, (int, float))
            and not isinstance(self.cluster_node_timeout, bool)
            and self.cluster_node_timeout > 0,
            f"cluster_node_timeout must be > 0 seconds, got {self.cluster_node_timeout!r}",
        )
        for name in ("recovery_timeout", "retry_delay", "max_retry_delay"):
            value = getattr(self, name)
            _require(
                isinstance(value, (int, float)) and value >= 0,
                f"{name} must be >= 0, got {value!r}",
            )
        _require(
            self.retry_deadline is None or self.retry_deadline > 0,
            f"retry_deadline must be > 0 seconds or None, got {self.retry_deadline!r}",
        )
        valid = [s.value for s in RetryStrategy]
        _require(
            str(getattr(self.retry_strategy, "value", self.retry_strategy)) in valid,
            f"retry_strategy must be one of {', '.join(valid)}, got {self.retry_strategy!r}",
        )

    # -- redis-py arguments ------------------------------------------------------------------

    def to_redis_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the redis-py client classes (0.4 API).

        Every option that changed default across redis-py majors is set explicitly. The client
        factory adds ``retry`` (redis-py's own retries off: the toolkit decides what is safe to
        retry).
        """
        kwargs: dict[str, Any] = {
            "db": self.db,
            "username": self.username,
            "password": self.password,
            "encoding": self.encoding,
            "decode_responses": False,
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.connection_timeout,
            "socket_keepalive": self.socket_keepalive,
            "health_check_interval": self.health_check_interval,
            "client_name": self.client_name,
            "protocol": self.protocol,
        }
        if self.socket_keepalive_options:
            kwargs["socket_keepalive_options"] = self.socket_keepalive_options
        if self.retry_on_timeout:
            kwargs["retry_on_timeout"] = True
        if self.retry_on_error is not None:
            kwargs["retry_on_error"] = list(self.retry_on_error)
        if self.unix_socket_path:
            kwargs["unix_socket_path"] = self.unix_socket_path
        else:
            kwargs["host"] = self.host
            kwargs["port"] = self.port
        if self.ssl:
            kwargs.update(
                ssl=True,
                ssl_keyfile=self.ssl_keyfile,
                ssl_certfile=self.ssl_certfile,
                ssl_ca_certs=self.ssl_ca_certs,
                ssl_cert_reqs=self.ssl_cert_reqs,
            )
        return kwargs

    def pool_key(self) -> tuple[Any, ...]:
        """Identity of the pool this config needs: equal only for configs that can share one.

        Every connection field takes part (TLS, timeouts and limits included), so two configs
        share a pool only when they are really the same; the resilience settings do not, as they
        act above the pool.
        """
        values = []
        for f in fields(self):
            if f.name in _BEHAVIOUR_FIELDS:
                continue
            value = getattr(self, f.name)
            if isinstance(value, (list, dict)):
                value = repr(value)
            values.append(value)
        return tuple(values)


#: Short alias used throughout the docs.
RedisConfig = RedisConnectionConfig


@dataclass
class RedisOptions:
    """How the toolkit behaves: validation limits, logging, subscriber and retry settings.

    All 0.4 fields keep their meaning. Three of them are 0.4 spellings of settings whose real
    home is :class:`RedisConnectionConfig`; they default to ``None`` ("not set") and win over
    the config when set: ``max_connections`` (the pool limit), and ``retry_attempts`` (attempts
    in all, so ``max_retries = retry_attempts - 1``), ``retry_delay`` (first wait) and
    ``retry_backoff`` (exponential factor). Setting any of the three retry fields selects 0.4's
    schedule: waits of ``retry_delay * retry_backoff**n`` with no jitter, unset ones taken from
    the config (``retry_backoff``: 2.0). New in 0.5: ``serializer`` — ``"json"`` (default:
    writes redis-toolkit 0.4's format byte for byte, so 0.4 readers keep working; types 0.4
    could not store are refused with an error naming them; ``"legacy-json"`` is an alias) or
    ``"msgpack"`` (exact tuples, sets, datetimes, Decimal, numpy as raw buffers; only 0.5 reads
    it: choose it once every reader is upgraded, see docs/SERIALIZATION.md); reading accepts
    both formats either way. ``max_batch_size`` (total bytes of one batch;
    ``None``: ``max_value_size * 10``, as 0.4) and
    ``auto_pipeline`` (async API: commands that concurrent tasks issue while others are in flight
    share one pipelined round trip; no effect in the sync API).
    """

    is_logger_info: bool = True
    max_log_size: int = 256
    log_level: str = "INFO"
    log_path: str | None = None
    subscriber_retry_delay: int = 5
    subscriber_stop_timeout: int = 5
    max_value_size: int = 10 * 1024 * 1024
    max_key_length: int = 512
    enable_validation: bool = True
    use_connection_pool: bool = True
    max_connections: int | None = None
    retry_attempts: int | None = None
    retry_delay: float | None = None
    retry_backoff: float | None = None
    enable_dynamic_subscription: bool = True
    subscription_expire_minutes: float = 5.0
    subscription_check_interval: float = 30.0
    subscription_auto_cleanup: bool = True
    subscription_max_expired: int = 100
    # new in 0.5
    serializer: str = "json"
    max_batch_size: int | None = None
    auto_pipeline: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field; raise :class:`ValidationError` (a ``ValueError``) naming the field."""
        from .serialization import FORMATS

        _require(
            self.log_level in _LOG_LEVELS,
            f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}",
        )
        for name in (
            "max_log_size",
            "subscriber_retry_delay",
            "subscriber_stop_timeout",
            "max_value_size",
            "max_key_length",
        ):
            value = getattr(self, name)
            _require(
                isinstance(value, (int, float)) and value >= 1,
                f"{name} must be >= 1, got {value!r}",
            )
        _require(
            self.max_connections is None or self.max_connections >= 1,
            f"max_connections must be >= 1 or None, got {self.max_connections!r}",
        )
        _require(
            self.max_batch_size is None or self.max_batch_size >= 1,
            f"max_batch_size must be >= 1 or None, got {self.max_batch_size!r}",
        )
        _require(
            self.retry_attempts is None
            or (
                isinstance(self.retry_attempts, int)
                and not isinstance(self.retry_attempts, bool)
                and self.retry_attempts >= 0
            ),
            f"retry_attempts must be an int >= 0 or None, got {self.retry_attempts!r}",
        )
        _require(
            self.retry_delay is None
            or (isinstance(self.retry_delay, (int, float)) and self.retry_delay >= 0),
            f"retry_delay must be >= 0 or None, got {self.retry_delay!r}",
        )
        _require(
            self.retry_backoff is None
            or (isinstance(self.retry_backoff, (int, float)) and self.retry_backoff >= 1),
            f"retry_backoff must be >= 1 or None, got {self.retry_backoff!r}",
        )
        _require(
            self.subscription_expire_minutes > 0,
            f"subscription_expire_minutes must be > 0, got {self.subscription_expire_minutes}",
        )
        _require(
            self.subscription_check_interval > 0,
            f"subscription_check_interval must be > 0, got {self.subscription_check_interval}",
        )
        _require(
            self.serializer in FORMATS,
            f"serializer must be one of {', '.join(FORMATS)}, got {self.serializer!r}",
        )
        if self.log_path is not None:
            log_dir = os.path.dirname(self.log_path)
            _require(
                not log_dir or os.path.isdir(log_dir),
                f"log_path directory {log_dir!r} does not exist; create it or set log_path=None",
            )

    @property
    def sets_legacy_retry(self) -> bool:
        """Whether any of 0.4's retry fields (``retry_attempts``, ``retry_delay``,
        ``retry_backoff``) was set: the toolkit then follows 0.4's retry schedule."""
        return (
            self.retry_attempts is not None
            or self.retry_delay is not None
            or self.retry_backoff is not None
        )

    @property
    def batch_limit(self) -> int:
        """Total serialized bytes one batch may hold: ``max_batch_size``, or as in 0.4
        ``max_value_size * 10``."""
        if self.max_batch_size is not None:
            return self.max_batch_size
        return self.max_value_size * 10

    @property
    def logging_level(self) -> int:
        """``log_level`` as a :mod:`logging` level number."""
        return int(getattr(logging, self.log_level))


#: The options used when none are given (0.4 name).
DEFAULT_OPTIONS = RedisOptions()

#: The connection config used when none is given (0.4 name): localhost:6379, db 0.
DEFAULT_CONNECTION_CONFIG = RedisConnectionConfig()
