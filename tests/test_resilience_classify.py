"""classify() and counts_as_failure() on real redis-py errors, produced by really failing.

Every failure a real redis-server produces on demand comes from one: the private servers the test
session starts (tests/conftest.py). Connection refused is a closed loopback port; a read timeout
is ``DEBUG SLEEP``; a connection closed mid-command is ``CLIENT KILL`` of a client blocked in
``BLPOP``; the error replies come from a server put in the state that makes it answer that way
(a wrong command, a wrong type, an unknown script, a password, an ACL user without permissions,
a replica, ``maxmemory``, ``maxclients``, a cluster node serving no slots, a replica whose master
is unreachable). Only the replies of states that cannot be created cheaply on demand (a dataset
being loaded, slot migration, a slot owned by another cluster node) come from
:class:`ScriptedReplies`, and so does the ``maxclients`` rejection as read by the async client,
which a real server cannot make it read deterministically. Both the sync and the async redis-py
clients are used.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError

from redis_toolkit.exceptions import (
    BatchWriteError,
    CircuitOpenError,
    ClusterConfigError,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisToolkitError,
    SerializationError,
    ValidationError,
    wrap_redis_error,
)
from redis_toolkit.resilience import (
    IDEMPOTENT_COMMANDS,
    ErrorKind,
    classify,
    counts_as_failure,
    is_idempotent,
)
from tests.servers import RedisServer, free_port, wait_until

NOT_SENT, MAYBE_SENT, FINAL = ErrorKind.NOT_SENT, ErrorKind.MAYBE_SENT, ErrorKind.NOT_RETRYABLE

# key -> (redis-py class, kind, counts against the breaker)
EXPECTED: dict[str, tuple[type[BaseException], ErrorKind, bool]] = {
    "hang": (redis.TimeoutError, MAYBE_SENT, True),
    "close": (redis.ConnectionError, MAYBE_SENT, True),
    "bad-command": (redis.ResponseError, FINAL, False),
    "wrongtype": (redis.ResponseError, FINAL, False),
    "loading": (redis.BusyLoadingError, NOT_SENT, True),
    "tryagain": (redis.exceptions.TryAgainError, NOT_SENT, True),
    "clusterdown": (redis.exceptions.ClusterDownError, NOT_SENT, True),
    "masterdown": (redis.exceptions.MasterDownError, NOT_SENT, True),
    "moved": (redis.exceptions.MovedError, NOT_SENT, True),
    "ask": (redis.exceptions.AskError, NOT_SENT, True),
    "maxclients": (redis.ConnectionError, NOT_SENT, True),
    "noscript": (redis.exceptions.NoScriptError, FINAL, False),
    "readonly": (redis.exceptions.ReadOnlyError, FINAL, False),
    "oom": (redis.exceptions.OutOfMemoryError, FINAL, False),
    "noauth": (redis.AuthenticationError, FINAL, False),
    "noperm": (redis.exceptions.NoPermissionError, FINAL, False),
}

# Provoked on real private servers (RealFailures below), with both clients.
REAL = [
    "hang", "close", "bad-command", "wrongtype", "noscript", "noauth", "noperm", "readonly",
    "oom", "maxclients", "clusterdown", "masterdown",
]  # fmt: skip
# Replies of states a test cannot create cheaply on demand: ScriptedReplies.
SCRIPTED = ["loading", "tryagain", "moved", "ask"]
assert sorted(REAL + SCRIPTED) == sorted(EXPECTED)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def sync_client(port: int, **options: Any) -> redis.Redis:
    """A plain redis-py client without redis-py's own retries (a failure must show as one)."""
    settings: dict[str, Any] = {
        "protocol": 2,
        "socket_timeout": 0.3,
        "socket_connect_timeout": 2,
        "retry": Retry(NoBackoff(), 0),
    }
    return redis.Redis(host="127.0.0.1", port=port, **{**settings, **options})


def async_client(port: int, **options: Any) -> redis.asyncio.Redis:
    settings: dict[str, Any] = {
        "protocol": 2,
        "socket_timeout": 0.3,
        "socket_connect_timeout": 2,
        "retry": AsyncRetry(NoBackoff(), 0),
    }
    return redis.asyncio.Redis(host="127.0.0.1", port=port, **{**settings, **options})


def wrapped(error: BaseException) -> RedisToolkitError:
    """The toolkit error for ``error``, really raised ``from`` it."""
    try:
        raise wrap_redis_error(error, "GET", key="k") from error
    except RedisToolkitError as e:
        return e


# -- real servers, really failing ------------------------------------------------------------


@dataclass
class Fault:
    """One command that a real server, prepared for it, answers with an error."""

    port: int
    command: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict)  # client options over the defaults
    warm_up: bool = False  # connect (PING) first, so that the failure hits the command itself
    trigger: Callable[[], None] | None = None  # breaks things between the warm-up and the command


def sync_failure(fault: Fault) -> BaseException:
    client = sync_client(fault.port, **fault.options)
    try:
        if fault.warm_up:
            assert client.ping()
        if fault.trigger is not None:
            fault.trigger()
        try:
            client.execute_command(*fault.command)
        except Exception as e:
            return e
        raise AssertionError(f"{fault.command} did not fail")
    finally:
        client.close()


async def async_failure(fault: Fault) -> BaseException:
    client = async_client(fault.port, **fault.options)
    try:
        if fault.warm_up:
            assert await client.ping()
        if fault.trigger is not None:
            fault.trigger()
        try:
            await client.execute_command(*fault.command)
        except Exception as e:
            return e
        raise AssertionError(f"{fault.command} did not fail")
    finally:
        await client.aclose()


class RealFailures:
    """Puts real private servers into the state that makes them fail a command.

    Each method is a context manager yielding a :class:`Fault`; leaving it undoes what it did on
    the shared session server (``redis_server``: keys, ACL users, stalls, helper threads). Servers
    that must be configured specially come from ``server_factory`` and are stopped at test end.
    """

    def __init__(
        self, shared: RedisServer, factory: Callable[..., RedisServer], prefix: str
    ) -> None:
        self.shared = shared
        self.factory = factory
        self.prefix = prefix

    def __call__(self, name: str) -> Any:
        """The context manager for the case ``name`` of :data:`REAL`."""
        return getattr(self, name.replace("-", "_"))()

    @contextmanager
    def hang(self) -> Iterator[Fault]:
        """``DEBUG SLEEP 1`` after the client connected: the 0.2 s read timeout expires."""
        server = self.factory()
        stalls: list[threading.Thread] = []
        try:
            yield Fault(
                server.port,
                ("GET", self.prefix + "k"),
                {"socket_timeout": 0.2},
                warm_up=True,
                trigger=lambda: stalls.append(server.debug_sleep(1.0)),
            )
        finally:
            for stall in stalls:
                stall.join(timeout=10)
        assert stalls and not any(stall.is_alive() for stall in stalls)

    @contextmanager
    def close(self) -> Iterator[Fault]:
        """``CLIENT KILL`` of the client while it waits in ``BLPOP``: its read finds the socket
        closed by the server."""
        name = f"classify-victim-{uuid.uuid4().hex[:8]}"
        killed: list[int] = []
        failures: list[BaseException] = []
        killers: list[threading.Thread] = []

        def kill_when_blocked() -> None:
            try:
                with self.shared.admin() as admin:

                    def blocked() -> str | None:
                        for client in admin.client_list():
                            if client.get("name") == name and client.get("cmd") == "blpop":
                                return str(client["id"])
                        return None

                    client_id = wait_until(blocked, timeout=5, what=f"{name} blocked in BLPOP")
                    killed.append(admin.client_kill_filter(_id=client_id))
            except BaseException as e:  # reported by the test thread below
                failures.append(e)

        def start_killer() -> None:
            killer = threading.Thread(target=kill_when_blocked, daemon=True, name=name)
            killer.start()
            killers.append(killer)

        try:
            yield Fault(
                self.shared.port,
                ("BLPOP", self.prefix + "empty", 5),  # returns nil after 5 s if never killed
                {"client_name": name, "socket_timeout": 10},
                trigger=start_killer,
            )
        finally:
            for killer in killers:
                killer.join(timeout=10)
        if failures:
            raise failures[0]
        assert killed == [1]

    @contextmanager
    def bad_command(self) -> Iterator[Fault]:
        yield Fault(self.shared.port, ("NOPE", self.prefix + "k"))

    @contextmanager
    def wrongtype(self) -> Iterator[Fault]:
        """``LPUSH`` onto a string."""
        key = self.prefix + "string"
        with self.shared.admin() as admin:
            admin.set(key, "v")
            try:
                yield Fault(self.shared.port, ("LPUSH", key, "x"))
            finally:
                admin.delete(key)

    @contextmanager
    def noscript(self) -> Iterator[Fault]:
        """``EVALSHA`` of a script the server never saw."""
        yield Fault(self.shared.port, ("EVALSHA", "0" * 40, 0))

    @contextmanager
    def noauth(self) -> Iterator[Fault]:
        """A server with a password, a client without one.

        The password is set after start: ``RedisServer.start`` waits for an unauthenticated PING.
        """
        server = self.factory()
        with server.admin() as admin:
            assert admin.config_set("requirepass", uuid.uuid4().hex)
        yield Fault(server.port, ("GET", self.prefix + "k"))

    @contextmanager
    def noperm(self) -> Iterator[Fault]:
        """An ACL user that may log in and run nothing."""
        user, password = f"classify-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        with self.shared.admin() as admin:
            admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "-@all")
            try:
                yield Fault(
                    self.shared.port,
                    ("GET", self.prefix + "k"),
                    {"username": user, "password": password},
                )
            finally:
                assert admin.execute_command("ACL", "DELUSER", user) == 1

    @contextmanager
    def readonly(self) -> Iterator[Fault]:
        """A write sent to a replica whose link to its primary is up."""
        primary = self.factory(["--repl-diskless-sync-delay", "0"])
        replica = self.factory()
        with replica.admin() as admin:
            admin.replicaof(primary.host, primary.port)

            def link_up() -> bool:
                return admin.info("replication").get("master_link_status") == "up"

            wait_until(link_up, timeout=10, what="master_link_status:up on the replica")
        yield Fault(replica.port, ("SET", self.prefix + "k", "v"))

    @contextmanager
    def oom(self) -> Iterator[Fault]:
        """``maxmemory 1mb`` with ``noeviction``, written full until a write is refused.

        The refused write is larger than the fill values: the check counts the command's own
        arguments, so a small write could still fit after the fill stopped just short.
        """
        server = self.factory(["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"])
        with server.admin() as admin:
            for i in range(1000):
                try:
                    admin.set(f"{self.prefix}fill:{i}", b"x" * 8192)
                except redis.exceptions.OutOfMemoryError:
                    break
            else:
                raise AssertionError("8 MB written under maxmemory 1mb")
        yield Fault(server.port, ("SET", self.prefix + "k", b"x" * 131072))

    @contextmanager
    def maxclients(self) -> Iterator[Fault]:
        """``maxclients 1`` with the one connection taken: the server rejects the next one."""
        server = self.factory(["--maxclients", "1"])
        with server.admin(socket_timeout=2) as holder:
            # The server may not have reaped start()'s PING connection yet: poll for the slot.
            wait_until(holder.ping, timeout=5, what="the one connection maxclients allows")
            yield Fault(server.port, ("GET", self.prefix + "k"))
            assert int(holder.info("stats")["rejected_connections"]) >= 1

    @contextmanager
    def clusterdown(self) -> Iterator[Fault]:
        """A cluster-enabled node that serves no slot: the cluster is down for every key."""
        server = self.factory(["--cluster-enabled", "yes", "--cluster-port", str(free_port())])
        yield Fault(server.port, ("GET", self.prefix + "k"))

    @contextmanager
    def masterdown(self) -> Iterator[Fault]:
        """A replica of an unreachable primary, told not to serve stale data."""
        server = self.factory()
        with server.admin() as admin:
            admin.config_set("replica-serve-stale-data", "no")
            admin.replicaof("127.0.0.1", closed_port())
            assert admin.info("replication").get("master_link_status") == "down"
        yield Fault(server.port, ("GET", self.prefix + "k"))


@pytest.fixture
def real(
    redis_server: RedisServer, server_factory: Callable[..., RedisServer], prefix: str
) -> RealFailures:
    return RealFailures(redis_server, server_factory, prefix)


def real_cases(*names: str) -> list[Any]:
    """``names`` as parameters; the ones that stall a server or kill a connection are faults."""
    faults = {"hang", "close"}
    return [pytest.param(n, marks=pytest.mark.fault) if n in faults else n for n in names]


def test_connection_refused_sync_is_not_sent() -> None:
    error = sync_failure(Fault(closed_port(), ("GET", "k")))
    assert type(error) is redis.ConnectionError
    assert str(error).startswith("Error ") and "connecting to" in str(error)
    assert classify(error) is NOT_SENT
    assert counts_as_failure(error)
    toolkit_error = wrapped(error)
    assert isinstance(toolkit_error, ConnectionFailedError)
    assert classify(toolkit_error) is NOT_SENT
    assert counts_as_failure(toolkit_error)


async def test_connection_refused_async_is_not_sent() -> None:
    error = await async_failure(Fault(closed_port(), ("GET", "k")))
    assert type(error) is redis.ConnectionError
    assert "connecting to" in str(error)
    assert classify(error) is NOT_SENT
    assert counts_as_failure(error)
    assert classify(wrapped(error)) is NOT_SENT


def check_sync(key: str, error: BaseException) -> None:
    cls, kind, counts = EXPECTED[key]
    assert isinstance(error, cls), (key, error)
    assert classify(error) is kind, (key, error)
    assert counts_as_failure(error) is counts, (key, error)
    # Wrapped by the toolkit (raise ... from error), the verdict is the same.
    toolkit_error = wrapped(error)
    assert toolkit_error.__cause__ is error
    assert classify(toolkit_error) is kind, (key, toolkit_error)
    assert counts_as_failure(toolkit_error) is counts, (key, toolkit_error)


def check_async(key: str, error: BaseException) -> None:
    cls, kind, counts = EXPECTED[key]
    assert isinstance(error, cls), (key, error)
    assert classify(error) is kind, (key, error)
    assert counts_as_failure(error) is counts
    assert classify(wrapped(error)) is kind


@pytest.mark.parametrize("key", real_cases(*REAL))
def test_real_server_failures_sync(real: RealFailures, key: str) -> None:
    with real(key) as fault:
        error = sync_failure(fault)
    check_sync(key, error)


@pytest.mark.parametrize("key", real_cases(*(k for k in REAL if k != "maxclients")))
async def test_real_server_failures_async(real: RealFailures, key: str) -> None:
    with real(key) as fault:
        error = await async_failure(fault)
    check_async(key, error)


async def test_real_maxclients_rejection_async(real: RealFailures) -> None:
    """The server writes the rejection and closes at once. The sync client reads it during its
    handshake; the async client pipelines two ``CLIENT SETINFO`` writes first, and the second
    one usually meets the closed socket. Nothing of the command was sent either way, but only
    the rejection itself says so: a failed write is MAYBE_SENT. (The rejection read by the async
    client is checked with a scripted reply in test_scripted_replies_async.)"""
    with real("maxclients") as fault:
        error = await async_failure(fault)
    assert type(error) is redis.ConnectionError, error
    assert counts_as_failure(error)
    if str(error) == "max number of clients reached":
        assert classify(error) is NOT_SENT
    else:
        assert "while writing to socket" in str(error) or "while reading from" in str(error)
        assert classify(error) is MAYBE_SENT
    assert classify(wrapped(error)) is classify(error)


@pytest.mark.fault
async def test_read_timeout_messages_of_both_clients_are_maybe_sent(real: RealFailures) -> None:
    with real("hang") as fault:
        sync = sync_client(fault.port, **fault.options)
        async_ = async_client(fault.port, **fault.options)
        try:
            assert sync.ping() and await async_.ping()
            assert fault.trigger is not None
            fault.trigger()  # one stall for both clients
            errors: list[BaseException] = []
            try:
                sync.get("k")
            except redis.TimeoutError as e:
                errors.append(e)
            try:
                await async_.get("k")
            except redis.TimeoutError as e:
                errors.append(e)
        finally:
            sync.close()
            await async_.aclose()
    assert len(errors) == 2
    for error in errors:
        assert isinstance(error, redis.TimeoutError)
        assert str(error).startswith("Timeout reading from")
        assert classify(error) is MAYBE_SENT
        toolkit_error = wrapped(error)
        assert isinstance(toolkit_error, OperationTimeoutError)
        assert classify(toolkit_error) is MAYBE_SENT


# -- scripted replies -------------------------------------------------------------------------


def _parse_command(buf: bytes) -> tuple[list[bytes] | None, bytes]:
    """One RESP array of bulk strings from ``buf``, or None if incomplete."""
    if b"\r\n" not in buf:
        return None, buf
    head, rest = buf.split(b"\r\n", 1)
    args = []
    for _ in range(int(head[1:])):
        if b"\r\n" not in rest:
            return None, buf
        line, rest = rest.split(b"\r\n", 1)
        size = int(line[1:])
        if len(rest) < size + 2:
            return None, buf
        args.append(rest[:size])
        rest = rest[size + 2 :]
    return args, rest


class ScriptedReplies:
    """A loopback peer that answers ``GET <key>`` with the error reply ``replies[key]`` and every
    other command with ``+OK``: for the error replies a test cannot get from a real server cheaply.

    Why it exists: redis-py turns a reply's error prefix (``LOADING``, ``TRYAGAIN``, ``MOVED``,
    ``ASK``) into an exception class, and what classify() sees is that class. The server states
    behind those replies cannot be created on demand cheaply: a dataset still being loaded
    (``LOADING``), a slot being migrated between cluster nodes (``TRYAGAIN``, ``ASK``), a slot
    owned by another node of a multi-node cluster (``MOVED``). So those replies are scripted; every
    other case in this file comes from a real server. The one other use: the async client reading
    a ``maxclients`` rejection, which a real server cannot deliver deterministically (see
    test_real_maxclients_rejection_async). The toolkit's own I/O paths, retries and breaker
    included, are tested against real servers elsewhere (tests/_async, tests/_sync).
    """

    def __init__(self, replies: dict[str, bytes]):
        self.replies = replies
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buf = b""
        with conn:
            while not self._stop.is_set():
                command, buf = _parse_command(buf)
                if command is None:
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    buf += data
                    continue
                if command[0].upper() == b"GET":
                    conn.sendall(self.replies[command[1].decode()])
                else:
                    conn.sendall(b"+OK\r\n")

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)


REPLIES: dict[str, bytes] = {
    "loading": b"-LOADING Redis is loading the dataset in memory\r\n",
    "tryagain": b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
    "moved": b"-MOVED 3999 127.0.0.1:6381\r\n",
    "ask": b"-ASK 3999 127.0.0.1:6381\r\n",
    "maxclients": b"-ERR max number of clients reached\r\n",  # async client only, see above
}


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedReplies]:
    srv = ScriptedReplies(REPLIES)
    yield srv
    srv.close()


@pytest.mark.parametrize("key", SCRIPTED)
def test_scripted_replies_sync(scripted: ScriptedReplies, key: str) -> None:
    check_sync(key, sync_failure(Fault(scripted.port, ("GET", key))))


@pytest.mark.parametrize("key", [*SCRIPTED, "maxclients"])
async def test_scripted_replies_async(scripted: ScriptedReplies, key: str) -> None:
    check_async(key, await async_failure(Fault(scripted.port, ("GET", key))))


def test_scripted_replies_server_really_answers(scripted: ScriptedReplies) -> None:
    """The scripted server is a real peer: a command it answers with +OK succeeds."""
    client = sync_client(scripted.port)
    try:
        assert client.set("k", "v") is True
    finally:
        client.close()


# -- errors built with the messages redis-py uses ----------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "counts"),
    [
        # connect phase (redis/connection.py connect_check_health, format_error_message)
        (redis.TimeoutError("Timeout connecting to server"), NOT_SENT, True),
        (redis.ConnectionError("Error connecting to 127.0.0.1:1."), NOT_SENT, True),
        (
            redis.ConnectionError("Error -2 connecting to nohost:6379. Name or service not known."),
            NOT_SENT,
            True,
        ),
        # after the command may have been written
        (redis.TimeoutError("Timeout writing to socket"), MAYBE_SENT, True),
        (redis.TimeoutError("Timeout reading from socket"), MAYBE_SENT, True),
        (redis.ConnectionError("Error 32 while writing to socket. Broken pipe."), MAYBE_SENT, True),
        (
            redis.ConnectionError("Error while reading from 127.0.0.1:6379 : (104, 'reset')"),
            MAYBE_SENT,
            True,
        ),
        (redis.ConnectionError("something new"), MAYBE_SENT, True),
        # pool and handshake checks before anything is sent
        (redis.exceptions.MaxConnectionsError("Too many connections"), NOT_SENT, False),
        (redis.ConnectionError("No connection available."), NOT_SENT, False),
        (redis.ConnectionError("Connection has data"), NOT_SENT, True),
        (redis.ConnectionError("Connection not ready"), NOT_SENT, True),
        (redis.ConnectionError("The previous master is now a slave"), NOT_SENT, True),
        (MasterNotFoundError("No master found for 'mymaster'"), NOT_SENT, True),
        # configuration mistakes found during the handshake
        (redis.ConnectionError("Invalid Database"), FINAL, False),
        (redis.ConnectionError("Invalid RESP version"), FINAL, False),
        (redis.AuthenticationError("Invalid Username or Password"), FINAL, False),
        (redis.exceptions.AuthorizationError("no"), FINAL, False),
        # cluster
        (redis.exceptions.ClusterError("TTL exhausted."), NOT_SENT, True),
        (redis.exceptions.SlotNotCoveredError('Slot "1" is not covered'), NOT_SENT, True),
        (redis.exceptions.ClusterCrossSlotError(), FINAL, False),
        (redis.exceptions.CrossSlotTransactionError("x"), FINAL, False),
        # everything else
        (redis.DataError("Invalid input of type: 'dict'"), FINAL, False),
        (redis.WatchError("Watched variable changed."), FINAL, False),
        (redis.exceptions.LockError("Cannot release an unlocked lock"), FINAL, False),
        (redis.exceptions.InvalidResponse("Protocol Error"), FINAL, False),
        (redis.RedisError("Python wasn't built with SSL support"), FINAL, False),
        (ValueError("x"), FINAL, False),
        (OSError(111, "Connection refused"), FINAL, False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_classify_known_messages(error: BaseException, kind: ErrorKind, counts: bool) -> None:
    assert classify(error) is kind
    assert counts_as_failure(error) is counts


def test_toolkit_errors_without_redis_cause() -> None:
    assert classify(ConnectionFailedError("down")) is MAYBE_SENT
    assert classify(OperationTimeoutError("slow")) is MAYBE_SENT
    assert counts_as_failure(ConnectionFailedError("down"))
    assert classify(RedisToolkitError("other")) is FINAL
    assert not counts_as_failure(RedisToolkitError("other"))
    # A non-Redis cause does not make a connection failure final.
    try:
        raise ConnectionFailedError("down") from ValueError("x")
    except ConnectionFailedError as e:
        assert classify(e) is MAYBE_SENT


@pytest.mark.parametrize(
    "error",
    [
        CircuitOpenError("open", retry_after=1.0),
        ValidationError("key too long"),
        SerializationError("bad bytes"),
        BatchWriteError("partial", failed_keys=["a"]),
    ],
    ids=lambda e: type(e).__name__,
)
def test_final_toolkit_errors_even_with_a_retryable_cause(error: RedisToolkitError) -> None:
    error.__cause__ = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Refused.")
    assert classify(error) is FINAL
    assert not counts_as_failure(error)


def test_wrapped_cluster_error_is_classified_by_its_cause() -> None:
    cause = redis.exceptions.ClusterDownError("The cluster is down")
    error = wrapped(cause)
    assert isinstance(error, ClusterConfigError)
    assert classify(error) is NOT_SENT
    assert classify(wrapped(redis.ResponseError("ERR syntax error"))) is FINAL


def test_chains_of_toolkit_errors_and_cycles() -> None:
    inner = wrapped(redis.TimeoutError("Timeout connecting to server"))
    try:
        raise RedisToolkitError("outer") from inner
    except RedisToolkitError as outer:
        assert classify(outer) is NOT_SENT
    looped = ConnectionFailedError("loop")
    looped.__cause__ = looped
    assert classify(looped) is FINAL  # bounded walk, no hang


@pytest.mark.parametrize(
    "error", [asyncio.CancelledError(), KeyboardInterrupt(), SystemExit(1), GeneratorExit()]
)
def test_cancellation_is_never_retried_nor_counted(error: BaseException) -> None:
    assert classify(error) is FINAL
    assert not counts_as_failure(error)


def test_classify_module_does_not_import_asyncio() -> None:
    import redis_toolkit.resilience as pkg

    package = Path(pkg.__file__).parent
    # The 0.4 retry decorators sleep; they live here so retry has one home, and the package
    # does not import them.
    assert "from .retry import" not in (package / "__init__.py").read_text()
    for path in package.glob("*.py"):
        if path.name == "retry.py":
            continue
        source = path.read_text()
        assert "import asyncio" not in source, path
        assert "redis.asyncio" not in source, path
        assert "time.sleep" not in source, path


# -- idempotent commands ----------------------------------------------------------------------

READS = "GET MGET EXISTS TTL PTTL TYPE STRLEN HGET HGETALL HMGET SMEMBERS SISMEMBER ZRANGE ZSCORE"
READS += " LRANGE LLEN SCAN KEYS PING INFO DBSIZE"
OVERWRITES = "SET MSET DEL UNLINK EXPIRE PEXPIRE PERSIST HSET HDEL SADD SREM ZADD ZREM"
NOT_IDEMPOTENT = (
    "INCR INCRBY DECR DECRBY INCRBYFLOAT HINCRBY HINCRBYFLOAT ZINCRBY LPUSH RPUSH LPOP RPOP BLPOP"
    " BRPOP LMOVE APPEND PUBLISH SPUBLISH XADD XREADGROUP EVAL EVALSHA FCALL GETDEL GETSET SETNX"
    " MSETNX HSETNX RENAME RENAMENX COPY SMOVE SPOP MULTI EXEC LTRIM LREM SUNIONSTORE ZUNIONSTORE"
    " BITOP BITFIELD"
)


@pytest.mark.parametrize("command", (READS + " " + OVERWRITES).split())
def test_idempotent_commands_include(command: str) -> None:
    assert command in IDEMPOTENT_COMMANDS
    assert is_idempotent(command)
    assert is_idempotent(command.lower())


@pytest.mark.parametrize("command", NOT_IDEMPOTENT.split())
def test_idempotent_commands_exclude(command: str) -> None:
    assert command not in IDEMPOTENT_COMMANDS
    assert not is_idempotent(command)


def test_idempotent_set_shape() -> None:
    assert isinstance(IDEMPOTENT_COMMANDS, frozenset)
    assert all(name == name.upper() and " " not in name for name in IDEMPOTENT_COMMANDS)
    assert is_idempotent(b"get")
    assert is_idempotent("object encoding")  # first word decides
    assert not is_idempotent(None)
    assert not is_idempotent("")
    assert not is_idempotent("   ")


def test_cluster_rediscovery_after_a_read_timeout_keeps_the_timeouts_verdict() -> None:
    """redis-py's sync cluster client rediscovers the topology right after a command failed;
    when no node answers, the command may still have run: the first error decides."""
    refused = redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
    try:
        try:
            raise redis.TimeoutError("Timeout reading from socket")
        except redis.TimeoutError:
            # As in redis-py: raised `from` the connect error, while the timeout is handled.
            raise redis.exceptions.RedisClusterException(
                "Redis Cluster cannot be connected. Please provide at least one reachable node: "
                "Error 111 connecting to 127.0.0.1:1. Connection refused."
            ) from refused
    except redis.exceptions.RedisClusterException as error:
        assert isinstance(error.__context__, redis.TimeoutError)
        assert classify(error) is MAYBE_SENT
    fresh = redis.exceptions.RedisClusterException(
        "Redis Cluster cannot be connected. Please provide at least one reachable node: x"
    )
    assert classify(fresh) is NOT_SENT


# -- redis-py's closed-connection race on a cluster topology refresh ----------------------------


def _redis_py_race() -> AttributeError:
    """The AttributeError redis-py raises when a connection is closed under a command."""
    import asyncio

    from redis.asyncio.connection import Connection

    try:
        asyncio.run(Connection()._send_packed_command([b"PING\r\n"]))  # writer gone
    except AttributeError as e:
        return e
    raise AssertionError("redis-py no longer raises AttributeError on a closed writer")


def test_closed_under_call_turns_the_redis_py_race_into_a_connection_error() -> None:
    from redis_toolkit._async.cluster_failover import closed_under_call

    race = _redis_py_race()
    lost = closed_under_call(race)
    assert isinstance(lost, redis.ConnectionError) and lost.__cause__ is race
    assert "connection closed while in use" in str(lost)
    try:  # the same message from code outside redis-py is a bug: it stays an AttributeError
        None.writelines  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as own:
        assert closed_under_call(own) is None
    assert closed_under_call(ValueError("x")) is None


def test_cluster_path_retries_a_get_after_the_race_and_raises_other_attribute_errors() -> None:
    import asyncio
    from types import SimpleNamespace

    from redis_toolkit._async.cluster_failover import (
        AsyncClusterResiliencePath,
        AsyncClusterTopology,
    )
    from redis_toolkit.resilience import RetryPolicy

    topology = AsyncClusterTopology(SimpleNamespace(), min_refresh_interval=1e12)
    path = AsyncClusterResiliencePath(
        policy=RetryPolicy(max_retries=2, delay=0.001, jitter=False),
        topology=topology,
        metrics=None,
    )
    calls: list[int] = []
    race = _redis_py_race()  # raised again below with redis-py's frame innermost

    async def get_after_race() -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise race
        return b"value"

    assert asyncio.run(path.run("GET", get_after_race, key="k")) == b"value"
    assert len(calls) == 2

    async def buggy() -> None:
        raise AttributeError("'NoneType' object has no attribute 'x'")

    with pytest.raises(AttributeError):
        asyncio.run(path.run("GET", buggy, key="k"))
