"""Private redis-server processes for the tests: a standalone server and a 6-node cluster.

Every server listens on a free loopback port chosen here (never the shared 6379), keeps nothing
on disk unless asked, and is stopped when the test session ends. Fault helpers really break
things: stop and restart a process, SIGSTOP it, ``DEBUG SLEEP`` it, ``kill -9`` a cluster master
and wait for its replica to take over.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST = "127.0.0.1"
_used_ports: set[int] = set()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _port_range() -> tuple[int, int]:
    """This process's share of 20000-29999: under pytest-xdist each worker picks from its own
    slice, so two workers of one run never race for the same port (other sessions on the
    machine still can: :meth:`RedisServer._is_ours` guards against that)."""
    low, high = 20000, 29999
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        size = (high - low + 1) // count
        low += int(worker[2:]) * size
        high = low + size - 1
    return low, high


def free_port(with_bus: bool = False) -> int:
    """A free loopback port (and, for cluster nodes, a free bus port at port + 10000)."""
    low, high = _port_range()
    for _ in range(500):
        port = random.randint(low, high)
        if port in _used_ports or port == 6379:
            continue
        if _port_free(port) and (not with_bus or _port_free(port + 10000)):
            _used_ports.add(port)
            return port
    raise RuntimeError(f"no free loopback port found in {low}-{high}")


def wait_until(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.02, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = predicate()
            if result:
                return result
        except Exception as e:  # the thing polled may not be up yet
            last_error = e
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what or predicate}: {last_error}"
            )
        time.sleep(interval)


class RedisServer:
    """One redis-server process on a private loopback port."""

    def __init__(self, workdir: Path, port: int | None = None, extra_args: list[str] | None = None):
        self.extra_args = list(extra_args or [])
        # A cluster node also listens on its bus port (port + 10000 unless --cluster-port says).
        bus = "--cluster-enabled" in self.extra_args and "--cluster-port" not in self.extra_args
        self.port = port or free_port(with_bus=bus)
        self.host = HOST
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT``."""
        return f"redis://{self.host}:{self.port}"

    @property
    def logfile(self) -> Path:
        return self.workdir / "redis.log"

    def args(self) -> list[str]:
        return [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", self.host,
            "--protected-mode", "no",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.logfile),
            "--enable-debug-command", "local",
            *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the process and wait until it answers PING."""
        if self.running:
            return self
        self.process = subprocess.Popen(
            self.args(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RuntimeError(
                    f"redis-server on port {self.port} exited: {err}{self.log_tail()}"
                )
            if self.ping() and self._is_ours():
                return self
            time.sleep(0.02)
        self.kill()  # never leave a half-started server behind
        raise TimeoutError(
            f"redis-server on port {self.port} not ready after {timeout}s{self.log_tail()}"
        )

    def _is_ours(self) -> bool:
        """The server answering on the port is the process started here, not another one's.

        Ports are picked free but can be taken between the check and the start (other test
        sessions run servers on this machine too): never test against a stranger.
        """
        with self.admin(socket_timeout=1) as c:
            pid = int(c.info("server")["process_id"])
        if self.process is not None and pid != self.process.pid:
            self.process.kill()
            raise RuntimeError(
                f"port {self.port} answered from process {pid}, not the redis-server started "
                f"here ({self.process.pid}): the port was taken in between; try again"
            )
        return True

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n" + "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def ping(self) -> bool:
        """True when the server answers PING now."""
        try:
            with self.admin(socket_timeout=0.5, socket_connect_timeout=0.5) as c:
                return bool(c.ping())
        except redis.RedisError:
            return False

    def admin(self, **kwargs: Any) -> redis.Redis:
        """A plain redis-py client for test set-up and assertions (never the code under test)."""
        kwargs.setdefault("socket_timeout", 5)
        # No silent retries (redis-py retries timeouts by default): a stall must show as one.
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM: the server closes client connections and exits)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_pipes()

    def kill(self) -> None:
        """``kill -9``: no shutdown, connections drop at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def restart(self, timeout: float = 10.0) -> RedisServer:
        """Stop (if running) and start again on the same port."""
        self.stop()
        return self.start(timeout)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing until :meth:`resume`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def debug_sleep(self, seconds: float) -> threading.Thread:
        """Send ``DEBUG SLEEP seconds`` from a background thread; the server stalls meanwhile.

        Returns the thread (join it to know the stall is over), once the server is stalled.
        """
        sent = threading.Event()

        def run() -> None:
            with socket.create_connection((self.host, self.port), timeout=seconds + 10) as s:
                s.sendall(f"DEBUG SLEEP {seconds}\r\n".encode())
                sent.set()
                s.recv(64)

        thread = threading.Thread(target=run, daemon=True, name=f"debug-sleep-{self.port}")
        thread.start()
        sent.wait(5)

        def stalled() -> bool:
            try:
                with self.admin(socket_timeout=0.05, socket_connect_timeout=1) as c:
                    c.ping()
            except redis.TimeoutError:
                return True
            return False

        # Return only once the server really stalls, so what the caller sends next waits.
        wait_until(stalled, timeout=min(seconds, 5), interval=0.0, what="DEBUG SLEEP to start")
        return thread


class RedisClusterNodes:
    """A private Redis Cluster: 3 masters, 3 replicas on loopback, ready when every node is ok."""

    NODE_TIMEOUT_MS = 1000

    def __init__(self, workdir: Path, size: int = 6):
        self.workdir = Path(workdir)
        self.nodes = [
            RedisServer(
                self.workdir / f"node{i}",
                port=free_port(with_bus=True),
                extra_args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    str(self.NODE_TIMEOUT_MS),
                ],
            )  # fmt: skip
            for i in range(size)
        ]
        self.startup_seconds: float | None = None

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [(n.host, n.port) for n in self.nodes]

    def start(self, timeout: float = 30.0) -> RedisClusterNodes:
        """Start every node, create the cluster, wait until it is ready; record how long it took."""
        began = time.monotonic()
        try:
            self._create(timeout)
        except BaseException:
            self.stop()  # a failed start must not leave six servers running
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _create(self, timeout: float) -> None:
        for node in self.nodes:
            node.start()
        cli = shutil.which("redis-cli") or "redis-cli"
        addresses = [f"{n.host}:{n.port}" for n in self.nodes]
        result = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"redis-cli --cluster create failed: {result.stdout!r} {result.stderr!r}"
            )
        self.wait_ready(timeout)

    def node_info(self, node: RedisServer, section: str) -> dict[str, Any]:
        """``CLUSTER INFO`` (section "cluster") or ``INFO <section>`` of one node, as a dict."""
        with node.admin(socket_timeout=1) as c:
            if section == "cluster":
                return dict(c.cluster("info"))
            return dict(c.info(section))

    def is_ready(self) -> bool:
        """Every live node says cluster_state:ok, sees every node connected, replicas in sync.

        With every node running, every master also has a replica in sync: ``cluster_state:ok``
        comes before ``redis-cli --cluster create``'s replicas finish their first full sync, and
        a master killed before that is replaced by a replica holding none of its writes.
        """
        alive = [n for n in self.nodes if n.running]
        whole = len(alive) == len(self.nodes)
        for node in alive:
            if self.node_info(node, "cluster").get("cluster_state") != "ok":
                return False
            with node.admin(socket_timeout=1) as c:
                known = c.cluster("nodes")
            if len(known) < len(self.nodes):
                return False
            for address, info in known.items():
                port = int(address.rsplit(":", 1)[1].split("@")[0])
                expected_up = any(n.port == port and n.running for n in self.nodes)
                flags = str(info.get("flags", ""))
                if expected_up and ("fail" in flags or not info.get("connected")):
                    return False
            repl = self.node_info(node, "replication")
            if repl.get("role") == "slave" and (
                repl.get("master_link_status") != "up" or repl.get("master_sync_in_progress")
            ):
                return False
            if whole and repl.get("role") == "master":
                online = [
                    v
                    for k, v in repl.items()
                    if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
                ]
                if not online:
                    return False
        return True

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_until(self.is_ready, timeout, interval=0.05, what="cluster_state:ok on every node")

    def role(self, node: RedisServer) -> str:
        return str(self.node_info(node, "replication").get("role"))

    def masters(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.running and self.role(n) == "master"]

    def replicas(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.running and self.role(n) == "slave"]

    def master_for_key(self, key: str) -> RedisServer:
        """The node that currently owns the slot of ``key``."""
        node = next(n for n in self.nodes if n.running)
        with node.admin() as c:
            slot = c.execute_command("CLUSTER KEYSLOT", key)
            for start, end, master, *_ in c.execute_command("CLUSTER SLOTS"):
                if start <= slot <= end:
                    port = master[1]
                    return next(n for n in self.nodes if n.port == port)
        raise LookupError(f"no owner for slot of {key!r}")

    def kill_master_and_wait_failover(
        self, key: str, timeout: float = 20.0
    ) -> tuple[RedisServer, RedisServer]:
        """``kill -9`` the master owning ``key``; wait until a replica owns the slot.

        Returns ``(killed, promoted)``. The killed node stays down: call
        :meth:`restart_node` to bring it back (it rejoins as a replica).
        """
        killed = self.master_for_key(key)
        killed.kill()

        def promoted() -> RedisServer | None:
            owner = self.master_for_key(key)
            if (
                owner is not killed
                and self.node_info(owner, "cluster").get("cluster_state") == "ok"
            ):
                return owner
            return None

        new_master = wait_until(promoted, timeout, interval=0.05, what=f"failover of {killed.port}")
        return killed, new_master

    def restart_node(self, node: RedisServer, timeout: float = 30.0) -> None:
        """Start a stopped node again (it keeps nodes.conf, so it rejoins); wait for the cluster."""
        node.start()
        self.wait_ready(timeout)

    def flushall(self) -> None:
        for node in self.masters():
            with node.admin() as c:
                c.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def redis_binaries_present() -> bool:
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


class TcpProxy:
    """A loopback TCP relay in front of a real server, that can freeze the connections it has.

    Frozen connections stay open but carry nothing further in either direction: the way a
    connection looks when a NAT or firewall silently drops it. New connections relay normally.
    This stands between the client and a real redis-server; it never answers for Redis.
    """

    def __init__(self, target_port: int, host: str = HOST) -> None:
        self.target = (host, target_port)
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        self._frozen: set[socket.socket] = set()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()
        return self

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    frozen = src in self._frozen or dst in self._frozen
                if not frozen:
                    dst.sendall(data)
        except OSError:
            pass

    @property
    def connections(self) -> int:
        """How many client connections were relayed so far."""
        with self._lock:
            return len(self._pairs)

    def freeze_existing(self) -> None:
        """From now on, the connections open so far carry nothing (both ways)."""
        with self._lock:
            for client, upstream in self._pairs:
                self._frozen.update((client, upstream))

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for pair in self._pairs:
                for sock in pair:
                    try:
                        sock.close()
                    except OSError:
                        pass


class SilentPeer:
    """A TCP listener that accepts connections, reads what it is sent and never answers: a
    server that hangs (or a black-holed address). ``close()`` closes everything it accepted.

    Not Redis: it stands where a client's call must end by its own timeouts.
    """

    def __init__(self, host: str = HOST) -> None:
        self._listener = socket.create_server((host, 0))
        self.host = host
        self.port = self._listener.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> SilentPeer:
        threading.Thread(target=self._accept, daemon=True, name="silent-peer").start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:  # accepted while closing: hang up at once
                    conn.close()
                    return
                self._accepted.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    @staticmethod
    def _drain(conn: socket.socket) -> None:
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        with self._lock:
            return len(self._accepted)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        try:
            # shutdown() wakes an accept() blocked in another thread; close() alone would not,
            # and that accept() could still take one more connection.
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for conn in self._accepted:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                except OSError:
                    pass
