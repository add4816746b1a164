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
"""

from __future__ import annotations

from typing import Any

import redis
from redis.exceptions import ResponseError

__all__ = ["LeanCommands", "lean_commands"]


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

    __slots__ = ("_pool", "_parse")

    def __init__(self, client: Any) -> None:
        self._pool = client.connection_pool
        self._parse = client.parse_response

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Send one command and return its parsed reply."""
        pool = self._pool
        conn = pool.get_connection()
        try:
            conn.send_command(*args)
            return self._parse(conn, args[0], **options)
        except ResponseError:
            raise  # an error reply was read whole: the connection is in sync
        except BaseException:
            # A reply may still be on its way (a timeout, an interrupt): never reuse the socket.
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def get(self, name: Any) -> Any:
        """GET ``name``."""
        return self.execute_command("GET", name)
