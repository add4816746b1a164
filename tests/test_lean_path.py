"""Sync only: the lean path of setter/getter keeps the pool's bookkeeping and never hands a late
reply to the next command."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from redis_toolkit import (
    OperationTimeoutError,
    RedisConnectionConfig,
    RedisToolkit,
    pool_manager,
)
from redis_toolkit._lean import LeanCommands, lean_commands
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
        assert stats["in_use_connections"] == 0 and stats["created_connections"] == 1
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
