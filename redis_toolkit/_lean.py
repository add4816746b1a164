"""Sync only: the lean path of the sync toolkit's plain SET and GET.

Not a twin: its async counterpart is the coalescer (``_coalesce``), which already sends a lone
command straight through and shares round trips between tasks. The async source reaches this
module only in the ``else`` branch of an ``if True:  # ASYNC`` block, which is the sync code.

A plain command through redis-py's ``Redis.execute_command`` pays, besides the pool checkout,
for its own retry wrapper (two closures per call), observability records and error counters.
The toolkit already decides retries, times and counts every call itself (the resilience path),
so for clients it created with redis-py's retries off, :class:`LeanCommands` sends the command
on a connection checked out of the same pool, exactly as redis-py does (``get_connection``
still checks the process id and that the connection holds no unread reply), parses the reply
with the client's own ``parse_response`` and hands the connection back. A connection that
failed for any reason but an error reply is disconnected before it returns to the pool, so no
later command can read a reply meant for an earlier one.

The lane. Checking a connection out of redis-py's pool and back costs about 6 us per call here
(a lock and a queue, a poll of the socket, observability records): as much as the rest of the
toolkit's own work together. So each pool (a pool, not a client: the toolkits of one config
share it) keeps one connection of its own, the lane, checked out of the pool once and held:
a SET, GET or MSET whose thread finds the lane free (a lock taken without waiting) runs on it
with no checkout, only the poll of the socket; one that finds it busy takes the pool path
above. The lane obeys the same rules as a pooled connection:

- it counts against ``max_connections`` (the pool stats show it as ``lane_connections``), and
  a pool of fewer than
  ``LANE_MIN_POOL`` connections has no lane, so that holding one never starves the others;
- a failure other than an error reply disconnects it before the next command (which
  reconnects), as above;
- it is polled before every use as the pool polls a connection it hands out (under 1 us), so
  a server that closed it (a restart, ``CLIENT KILL``, its idle ``timeout``) costs a
  reconnect, not a failed attempt;
- a forked child never uses its parent's lane (``os.register_at_fork``);
- a thread interrupted between taking the lane's lock and the ``try`` that releases it (the
  window every ``with lock:`` has) leaves the lane taken: its commands then all take the pool
  path, correct but without the lane;
- closing the pool (``pool.disconnect()``, which the toolkit's ``close`` and the pool manager
  call) closes the lane's socket too.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

import redis
from redis.exceptions import DataError, ResponseError

__all__ = ["LANE_MIN_POOL", "LeanCommands", "held_by_lane", "lean_commands"]

try:  # redis-py packs commands with hiredis when it is installed (it is a dependency here)
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - redis-py then packs in Python
    _hiredis_pack = None  # type: ignore[assignment]

#: Pools smaller than this have no lane (it would hold one of few connections).
LANE_MIN_POOL = 8


class _Lane:
    """One pool's held connection and the lock that gives it to one thread at a time."""

    __slots__ = ("lock", "conn", "__weakref__")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: Any = None  # checked out of the pool on first use

    def forget(self) -> None:
        # In a forked child: the parent's socket and lock are not ours (the pool resets itself).
        self.lock = threading.Lock()
        self.conn = None


_lanes: weakref.WeakKeyDictionary[Any, _Lane] = weakref.WeakKeyDictionary()
_lanes_lock = threading.Lock()


def _lane_for(pool: Any) -> _Lane | None:
    max_connections = getattr(pool, "max_connections", None)
    if not isinstance(max_connections, int) or max_connections < LANE_MIN_POOL:
        return None
    with _lanes_lock:
        lane = _lanes.get(pool)
        if lane is None:
            lane = _lanes[pool] = _Lane()
        return lane


def held_by_lane(pool: Any) -> int:
    """1 if ``pool`` has a lane holding a connection checked out of it, else 0 (for stats)."""
    lane = _lanes.get(pool)
    return 1 if lane is not None and lane.conn is not None else 0


def _forget_lanes() -> None:
    global _lanes_lock
    _lanes_lock = threading.Lock()  # another thread may have held it at the fork
    for lane in list(_lanes.values()):
        lane.forget()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_lanes)


def lean_commands(client: Any) -> LeanCommands | None:
    """A lean path for ``client``, or None when it needs redis-py's full path.

    Only a plain ``redis.Redis`` on a connection pool qualifies, with its own retries off, no
    single connection, no client-side cache and no maintenance notifications.
    """
    if type(client) is not redis.Redis or getattr(client, "connection", None) is not None:
        return None
    pool = getattr(client, "connection_pool", None)
    if type(pool) not in (redis.ConnectionPool, redis.BlockingConnectionPool):
        return None
    if getattr(pool, "cache", None) is not None:
        return None
    maint = getattr(pool, "maint_notifications_enabled", None)
    if maint is not None and maint():
        return None
    retry = client.get_retry()
    if retry is not None and retry.get_retries():
        return None
    return LeanCommands(client)


class LeanCommands:
    """``execute_command`` and ``get`` of one client without redis-py's per-call wrappers."""

    __slots__ = ("_pool", "_parse", "_lane")

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._parse = client.parse_response
        self._lane = _lane_for(self._pool)

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Send one command and return its parsed reply (on the lane when it is free)."""
        # Packed as redis-py's hiredis packer packs it, without its per-argument conversion
        # pass (the toolkit sends only str and bytes); anything hiredis refuses goes through
        # redis-py's packer, which raises its DataError.
        packed = None
        if _hiredis_pack is not None:
            try:
                packed = [_hiredis_pack(args)]
            except TypeError:
                pass
        lane = self._lane
        if lane is not None and lane.lock.acquire(False):
            try:
                conn = lane.conn
                if conn is None:
                    conn = lane.conn = self._pool.get_connection()  # held from now on
                else:
                    _poll(conn)
                return self._send(conn, packed, args, options)
            finally:
                lane.lock.release()
        pool = self._pool
        conn = pool.get_connection()
        try:
            return self._send(conn, packed, args, options)
        finally:
            pool.release(conn)

    def _send(self, conn: Any, packed: Any, args: tuple[Any, ...], options: Any) -> Any:
        try:
            if packed is None:
                conn.send_command(*args)
            else:
                conn.send_packed_command(packed)
            return self._parse(conn, args[0], **options)
        except (ResponseError, DataError):
            raise  # an error reply read whole, or refused before sending: still in sync
        except BaseException:
            # A reply may still be on its way (a timeout, an interrupt): never reuse the socket.
            conn.disconnect()
            raise

    def get(self, name: Any) -> Any:
        """GET ``name``."""
        return self.execute_command("GET", name)


def _poll(conn: Any) -> None:
    # What the pool does to a connection it hands out: one with something to read (the
    # server closed it, or a stray reply) is reconnected before it carries a command.
    if not getattr(conn, "is_connected", True):
        return  # disconnected: the command connects anew (can_read would connect here first)
    try:
        if conn.can_read():
            conn.disconnect()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        conn.disconnect()
