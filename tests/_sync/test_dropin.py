# Generated from tests/_async/test_dropin.py by tools/run_unasync.py. DO NOT EDIT.
"""Drop-in behaviour of redis-toolkit 0.4 found by running its tests and README, and misuse.

The stopped listener stays visible as ``sub_thread``; ``_redis_client`` is the client;
``health_check()`` answers False and never raises; a stopped listener restarts with a new
handler; ``from_url`` refuses what is not a URL; a closed toolkit refuses commands.
"""

from __future__ import annotations

from typing import Any

import pytest

from redis_toolkit import (
    RedisToolkit,
    ClientClosedError,
    RedisConnectionConfig,
    RedisOptions,
    ValidationError,
    pool_manager,
)
from redis_toolkit._compat import Event, Runtime
from tests.servers import RedisServer, free_port


class Inbox:
    """Collects values; `wait_for(n)` waits on an event with a deadline."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.arrived = Event()

    def handler(self, channel: str, value: Any) -> None:
        self.values.append(value)
        self.arrived.set()

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = Runtime.monotonic() + timeout
        while len(self.values) < count:
            left = deadline - Runtime.monotonic()
            assert left > 0, f"got {self.values}, expected {count} messages"
            self.arrived.clear()
            if len(self.values) < count:
                self.arrived.wait(left)


def test_sub_thread_refers_to_the_stopped_listener(
    toolkit: RedisToolkit, prefix: str
) -> None:
    assert toolkit.sub_thread is None  # nothing started yet
    assert toolkit.start_subscriber([f"{prefix}ch"], Inbox().handler)
    running = toolkit.sub_thread
    assert running is not None and not Runtime.finished(running)
    assert toolkit.stop_subscriber() is True
    assert toolkit.sub_thread is running  # 0.4: still the thread, now finished
    assert Runtime.finished(toolkit.sub_thread)
    assert toolkit.run_subscriber is False


def test_redis_client_is_the_client(toolkit: RedisToolkit, prefix: str) -> None:
    assert toolkit._redis_client is toolkit.client
    toolkit.setter(f"{prefix}k", 1)
    assert toolkit._redis_client.exists(f"{prefix}k") == 1


def test_health_check_is_false_for_any_failure(server_factory, prefix: str) -> None:
    guarded = server_factory()
    with guarded.admin() as admin:
        admin.acl_setuser(
            "app", enabled=True, passwords=["+right-pw"], keys=["*"], commands=["+@all"]
        )
    cases = {
        "wrong password": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, username="app", password="wrong-pw"
        ),
        "unknown user": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, username="nobody", password="pw"
        ),
        "nobody listening": RedisConnectionConfig(
            host="127.0.0.1", port=free_port(), connection_timeout=0.5
        ),
        "missing CA file": RedisConnectionConfig(
            host=guarded.host, port=guarded.port, ssl=True, ssl_ca_certs=f"/nonexistent/{prefix}"
        ),
    }
    for what, config in cases.items():
        toolkit = RedisToolkit(config=config)
        try:
            assert toolkit.health_check() is False, what
        finally:
            toolkit.close()
    pool_manager.close_all_pools()


def test_health_check_of_a_stopped_server_and_a_closed_toolkit(server_factory) -> None:
    server = server_factory()
    toolkit = RedisToolkit.from_url(server.url, connection_timeout=0.5)
    try:
        assert toolkit.health_check() is True
        server.stop()
        assert toolkit.health_check() is False
        server.start()
        assert toolkit.health_check() is True
    finally:
        toolkit.close()
    assert toolkit.health_check() is False  # closed: an answer, not an exception
    pool_manager.close_all_pools()


def test_stopped_listener_restarts_with_a_new_handler(
    toolkit: RedisToolkit, prefix: str
) -> None:
    channel = f"{prefix}restart"
    first, second = Inbox(), Inbox()
    assert toolkit.start_subscriber([channel], first.handler)
    toolkit.publisher(channel, "one")
    first.wait_for(1)
    assert toolkit.stop_subscriber() is True

    assert toolkit.start_subscriber([channel], second.handler) is True
    # >= 1: fakeredis keeps a closed pub/sub connection counted (a real server says 1).
    assert toolkit.publisher(channel, "two") >= 1
    second.wait_for(1)
    assert first.values == ["one"] and second.values == ["two"]
    # Without channels the new handler takes over the old ones.
    assert toolkit.stop_subscriber() is True
    third = Inbox()
    assert toolkit.start_subscriber(handler=third.handler) is True
    toolkit.publisher(channel, "three")
    third.wait_for(1)
    assert third.values == ["three"] and second.values == ["two"]
    toolkit.stop_subscriber()


def test_a_running_listener_keeps_refusing_a_new_handler(
    toolkit: RedisToolkit, prefix: str
) -> None:
    assert toolkit.start_subscriber([f"{prefix}busy"], Inbox().handler)
    with pytest.raises(ValidationError, match="stop_subscriber"):
        toolkit.start_subscriber([f"{prefix}busy"], Inbox().handler)
    toolkit.stop_subscriber()


@pytest.mark.parametrize("url", [None, "", "   ", "garbage", "localhost:6379", 6379])
def test_from_url_refuses_what_is_not_a_url(url: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RedisToolkit.from_url(url)
    assert "url" in str(info.value).lower()


def test_a_closed_toolkit_refuses_every_command(
    redis_server: RedisServer, prefix: str
) -> None:
    toolkit = RedisToolkit.from_url(redis_server.url)
    key = f"{prefix}after-close"
    toolkit.setter(key, "before")
    toolkit.close()
    assert toolkit.closed
    calls = {
        "setter": lambda: toolkit.setter(key, "after"),
        "getter": lambda: toolkit.getter(key),
        "deleter": lambda: toolkit.deleter(key),
        "batch_set": lambda: toolkit.batch_set({key: "after"}),
        "batch_get": lambda: toolkit.batch_get([key]),
        "publisher": lambda: toolkit.publisher(f"{prefix}ch", "after"),
        "execute_command": lambda: toolkit.execute_command("GET", key),
        "start_subscriber": lambda: toolkit.start_subscriber([f"{prefix}ch"], Inbox().handler),
        "subscribe_dynamic": lambda: toolkit.subscribe_dynamic(f"{prefix}ch", Inbox().handler),
    }
    for what, call in calls.items():
        with pytest.raises(ClientClosedError, match="closed") as info:
            call()
        assert "create a new one" in str(info.value), what
    assert toolkit.subscriber is None  # nothing was started
    admin = redis_server.admin()
    try:
        assert admin.get(key) is not None and b"before" in admin.get(key)  # nothing was written
        admin.delete(key)
    finally:
        admin.close()
    pool_manager.close_all_pools()


def test_entering_a_closed_toolkit_again_reopens_it(
    redis_server: RedisServer, prefix: str
) -> None:
    toolkit = RedisToolkit.from_url(redis_server.url)
    with toolkit:
        toolkit.setter(f"{prefix}k", 1)
    with pytest.raises(ClientClosedError):
        toolkit.getter(f"{prefix}k")
    with toolkit:  # the with-block is an explicit lifecycle: it reopens
        assert not toolkit.closed
        assert toolkit.getter(f"{prefix}k") == 1
        toolkit.deleter(f"{prefix}k")
    assert toolkit.closed
    pool_manager.close_all_pools()


def test_embedded_backend_works_with_the_plain_install(prefix: str) -> None:
    toolkit = RedisToolkit.from_url(f"memory://{prefix}plain", options=RedisOptions())
    try:
        toolkit.setter("k", {"embedded": True})
        assert toolkit.getter("k") == {"embedded": True}
    finally:
        toolkit.close()
