"""The test servers and their fault helpers really do what they say."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from tests.servers import RedisClusterNodes, RedisServer


def test_private_server_is_not_the_shared_one(redis_server: RedisServer) -> None:
    assert redis_server.port != 6379
    assert redis_server.ping()


@pytest.mark.fault
def test_stop_and_restart(server_factory: Callable[..., RedisServer]) -> None:
    server = server_factory()
    server.admin().set("k", "v")
    server.stop()
    assert not server.ping()
    server.start()
    assert server.ping()
    assert server.admin().get("k") is None  # nothing is kept on disk


@pytest.mark.fault
def test_restart_keeps_data_with_appendonly(server_factory: Callable[..., RedisServer]) -> None:
    server = server_factory(extra_args=["--appendonly", "yes", "--appendfsync", "always"])
    server.admin().set("k", "v")
    server.kill()
    server.start()
    assert server.admin().get("k") == b"v"


@pytest.mark.fault
def test_debug_sleep_stalls_the_server(server_factory: Callable[..., RedisServer]) -> None:
    server = server_factory()
    stall = server.debug_sleep(1.0)
    with pytest.raises(redis.TimeoutError):
        server.admin(socket_timeout=0.2).ping()
    stall.join(10)
    assert server.ping()


@pytest.mark.fault
def test_pause_and_resume(server_factory: Callable[..., RedisServer]) -> None:
    server = server_factory()
    server.pause()
    with pytest.raises(redis.TimeoutError):
        server.admin(socket_timeout=0.2).ping()
    server.resume()
    assert server.ping()


def test_cluster_has_three_masters_and_three_replicas(redis_cluster: RedisClusterNodes) -> None:
    assert len(redis_cluster.masters()) == 3
    assert len(redis_cluster.replicas()) == 3
    assert all(n.port != 6379 for n in redis_cluster.nodes)


@pytest.mark.fault
def test_kill_master_fails_over_and_node_rejoins(redis_cluster: RedisClusterNodes) -> None:
    key = "failover:probe"
    started = time.monotonic()
    killed, promoted = redis_cluster.kill_master_and_wait_failover(key)
    took = time.monotonic() - started
    assert killed is not promoted
    assert not killed.running
    assert redis_cluster.master_for_key(key) is promoted
    with promoted.admin() as c:
        c.set(key, "after failover")
        assert c.get(key) == b"after failover"
        c.delete(key)
    redis_cluster.restart_node(killed)
    assert redis_cluster.role(killed) == "slave"  # it came back as a replica
    assert len(redis_cluster.masters()) == 3
    print(f"failover took {took:.2f}s")
