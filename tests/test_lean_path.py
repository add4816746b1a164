"""Sync only: the lean path of setter/getter keeps the pool's bookkeeping and never hands a late
reply to the next command; its lane (one connection held per pool) is shared safely, reconnects
what the server closed, stays out of forked children and closes with the pool."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from redis_toolkit import (
    OperationTimeoutError,
    RedisConnectionConfig,
    RedisToolkit,
    _lean,
    pool_manager,
)
from redis_toolkit._lean import LeanCommands, lean_commands
from tests._sync._helpers import poll_until
from tests.servers import RedisServer


@pytest.fixture
def config(redis_server: RedisServer) -> Iterator[RedisConnectionConfig]:
    yield RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    pool_manager.close_all_pools()


def test_setter_and_getter_take_the_lean_path_and_give_the_connection_back(
    config: RedisConnectionConfig, prefix: str
) -> None:
    with RedisToolkit(config=config) as toolkit:
        assert isinstance(getattr(toolkit._get, "__self__", None), LeanCommands)
        for i in range(20):
            assert toolkit.setter(f"{prefix}{i}", {"i": i}) is True
        assert [toolkit.getter(f"{prefix}{i}") for i in range(20)] == [{"i": i} for i in range(20)]
        assert toolkit.getter(f"{prefix}missing", default="d") == "d"
        stats = pool_manager.get_pool_stats()[config.address]
        # One connection did everything: the lane's, held out of the pool between commands.
        assert stats["created_connections"] == 1 and stats["lane_connections"] == 1
        assert stats["in_use_connections"] == 0
        commands = toolkit.get_metrics()["commands"]
        assert commands["SET"]["total"] == 20
        assert commands["GET"]["total"] == 21


def test_an_error_reply_keeps_the_connection_in_sync(
    config: RedisConnectionConfig, prefix: str
) -> None:
    with RedisToolkit(config=config) as toolkit:
        toolkit.client.rpush(f"{prefix}list", b"x")
        toolkit.setter(f"{prefix}v", [1, 2])
        with pytest.raises(Exception, match="WRONGTYPE"):
            toolkit.getter(f"{prefix}list")
        assert toolkit.getter(f"{prefix}v") == [1, 2]


def test_a_timed_out_get_never_hands_its_late_reply_to_the_next_command(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = RedisToolkit.from_url(
        server.url, socket_timeout=0.3, max_retries=0, health_check_enabled=False
    )
    try:
        toolkit.setter(f"{prefix}a", "value of a")
        toolkit.setter(f"{prefix}b", "value of b")
        stall = server.debug_sleep(1.0)
        with pytest.raises(OperationTimeoutError):
            toolkit.getter(f"{prefix}a")  # its reply arrives after the timeout
        stall.join(10)
        # Had the timed-out connection gone back to the pool as it was, this GET would read
        # "value of a" from it.
        assert toolkit.getter(f"{prefix}b") == "value of b"
        assert toolkit.getter(f"{prefix}a") == "value of a"
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_a_killed_server_is_survived_by_the_lean_path(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    toolkit = RedisToolkit.from_url(
        server.url, max_retries=5, retry_delay=0.2, retry_jitter=False, failure_threshold=50,
        health_check_enabled=False,
    )  # fmt: skip
    try:
        toolkit.setter(f"{prefix}k", {"before": True})
        server.kill()
        server.restart()
        # The pooled connection is dead: the first attempt fails, is disconnected, and the
        # retry connects anew.
        assert toolkit.setter(f"{prefix}k", {"after": True}) is True
        assert toolkit.getter(f"{prefix}k") == {"after": True}
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_clients_that_need_redis_py_s_full_path_keep_it(redis_server: RedisServer) -> None:
    def client(**kwargs: object) -> redis.Redis:
        settings: dict[str, object] = {"protocol": 2, "retry": Retry(NoBackoff(), 0)}
        settings.update(kwargs)
        return redis.Redis(host=redis_server.host, port=redis_server.port, **settings)

    plain = client()  # as the toolkit creates its clients
    retrying = client(retry=Retry(NoBackoff(), 3))
    single = client(single_connection_client=True)
    resp3 = client(protocol=3)  # maintenance notifications may be on ("auto")
    try:
        assert isinstance(lean_commands(plain), LeanCommands)
        assert lean_commands(retrying) is None  # its own retries would be lost
        assert lean_commands(single) is None
        assert lean_commands(resp3) is None
        # A client passed in by the user keeps every redis-py behaviour it was set up with.
        toolkit = RedisToolkit(redis=plain)
        assert not isinstance(getattr(toolkit._get, "__self__", None), LeanCommands)
    finally:
        for each in (plain, retrying, single, resp3):
            each.close()


def lane_of(toolkit: RedisToolkit) -> _lean._Lane:
    commands = toolkit._get.__self__  # type: ignore[attr-defined]
    assert isinstance(commands, LeanCommands) and commands._lane is not None
    return commands._lane


def test_a_busy_lane_sends_the_command_through_the_pool(
    config: RedisConnectionConfig, prefix: str
) -> None:
    with RedisToolkit(config=config) as toolkit, RedisToolkit(config=config) as other:
        toolkit.setter(f"{prefix}k", "v")
        lane = lane_of(toolkit)
        assert lane_of(other) is lane  # one lane per pool, not per toolkit
        with lane.lock:  # another thread's command is on the lane
            assert other.getter(f"{prefix}k") == "v"
            stats = pool_manager.get_pool_stats()[config.address]
            assert stats["created_connections"] == 2 and stats["in_use_connections"] == 0
        assert toolkit.getter(f"{prefix}k") == "v"


def test_threads_share_the_lane_and_the_pool_without_mixing_replies(
    config: RedisConnectionConfig, prefix: str
) -> None:
    errors: list[BaseException] = []
    with RedisToolkit(config=config) as toolkit:

        def work(n: int) -> None:
            try:
                for i in range(150):
                    key = f"{prefix}{n}:{i % 7}"
                    toolkit.setter(key, [n, i])
                    assert toolkit.getter(key) == [n, i]
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        stats = pool_manager.get_pool_stats()[config.address]
        assert stats["created_connections"] <= 9 and stats["in_use_connections"] == 0


def test_a_small_pool_has_no_lane(redis_server: RedisServer, prefix: str) -> None:
    small = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, max_connections=_lean.LANE_MIN_POOL - 1
    )
    try:
        with RedisToolkit(config=small) as toolkit:
            toolkit.setter(f"{prefix}k", 1)
            assert toolkit._get.__self__._lane is None  # type: ignore[attr-defined]
            stats = next(iter(pool_manager.get_pool_stats().values()))
            assert stats["lane_connections"] == 0 and stats["in_use_connections"] == 0
    finally:
        pool_manager.close_all_pools()


def test_a_lane_that_the_server_closed_is_reconnected_before_use(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    admin = server.admin()
    # No retries: a command sent on the dead socket would fail the call.
    toolkit = RedisToolkit.from_url(server.url, max_retries=0, health_check_enabled=False)
    try:
        toolkit.setter(f"{prefix}k", "before")
        assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
        poll_until(lambda: len(admin.client_list()) == 1, what="the server to close the lane")
        assert toolkit.getter(f"{prefix}k") == "before"
        server.restart()
        assert toolkit.setter(f"{prefix}k", "after") is True  # on the lane, at once
    finally:
        admin.close()
        toolkit.close()
        pool_manager.close_all_pools()


def test_a_forked_child_never_uses_its_parent_s_lane(
    config: RedisConnectionConfig, prefix: str
) -> None:
    with RedisToolkit(config=config) as toolkit:
        toolkit.setter(f"{prefix}k", "parent")
        parent_conn = lane_of(toolkit).conn
        pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            code = 1
            try:
                lane = lane_of(toolkit)
                if lane.conn is None and not lane.lock.locked():
                    for i in range(50):
                        toolkit.setter(f"{prefix}child", i)
                        if toolkit.getter(f"{prefix}child") != i:
                            break
                    else:
                        code = 0 if lane.conn is not parent_conn else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's socket was not closed or read by the child.
        assert lane_of(toolkit).conn is parent_conn
        assert toolkit.getter(f"{prefix}k") == "parent"
        assert toolkit.getter(f"{prefix}child") == 49


def test_closing_the_pool_closes_the_lane(redis_server: RedisServer, prefix: str) -> None:
    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, client_name=f"{prefix}lane"
    )
    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    try:

        def open_connections() -> int:
            return sum(1 for c in admin.client_list() if c.get("name") == f"{prefix}lane")

        toolkit = RedisToolkit(config=config, options=None)
        toolkit.setter(f"{prefix}k", 1)
        assert open_connections() == 1
        toolkit.close()
        pool_manager.close_all_pools()
        poll_until(lambda: open_connections() == 0, what="the lane's connection to close")
    finally:
        admin.close()


def test_an_argument_hiredis_cannot_pack_fails_as_in_redis_py(
    config: RedisConnectionConfig, prefix: str
) -> None:
    with RedisToolkit(config=config) as toolkit:
        lean = toolkit._get.__self__  # type: ignore[attr-defined]
        with pytest.raises(redis.DataError):
            lean.execute_command("SET", f"{prefix}k", object())
        assert lean.execute_command("SET", f"{prefix}k", b"v") is True
        assert toolkit.client.get(f"{prefix}k") == b"v"
