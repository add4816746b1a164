"""Failover on a real 6-node cluster, default settings: no error reaches the caller.

The module has a private cluster of its own (the faults here would disturb the shared one): it
kills masters, forces failovers and stalls a master, and restores the cluster (a killed node
restarted, it rejoins as a replica) before the next test. Writers and readers run one per
master on keys of that master only, so that a stalled shard cannot hide whether the healthy
ones are served. Times to recover are printed, never asserted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from redis_toolkit import (
    AsyncRedisToolkit,
    ConnectionFailedError,
    OperationTimeoutError,
    RedisConnectionConfig,
    async_pool_manager,
)
from redis_toolkit._compat import AsyncEvent, AsyncRuntime
from tests.servers import RedisClusterNodes, RedisServer, redis_binaries_present

pytestmark = [pytest.mark.cluster, pytest.mark.fault]

#: Successes needed on every shard after a fault before a stream counts as recovered.
RECOVERED_AFTER = 10


@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A private 6-node cluster for this module's faults (not the session's shared one)."""
    if not redis_binaries_present():
        pytest.skip("redis-server and redis-cli are needed")
    cluster = RedisClusterNodes(Path(tmp_path_factory.mktemp("failover-cluster"))).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def restore(fault_cluster: RedisClusterNodes) -> Any:
    """Bring killed nodes back after the test (they rejoin as replicas)."""
    yield
    for node in fault_cluster.nodes:
        if not node.running:
            node.start()
    fault_cluster.wait_ready(30)


def make_toolkit(cluster: RedisClusterNodes, **fields: Any) -> AsyncRedisToolkit:
    """Default settings: only the startup nodes (and, for a second client, a name)."""
    config = RedisConnectionConfig(cluster_mode=True, startup_nodes=cluster.startup_nodes, **fields)
    return AsyncRedisToolkit(config=config)


async def poll_until(predicate: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll until ``predicate()`` is truthy; fail after ``timeout`` s; return the time waited."""
    began = AsyncRuntime.monotonic()
    while not await AsyncRuntime.call(predicate):
        assert AsyncRuntime.monotonic() - began < timeout, f"timed out waiting for {what}"
        await AsyncRuntime.sleep(0.02)
    return AsyncRuntime.monotonic() - began


def keys_by_master(
    cluster: RedisClusterNodes, prefix: str, per_master: int = 16
) -> dict[int, list[str]]:
    """``per_master`` keys owned by each master, by the master's port."""
    with cluster.masters()[0].admin() as c:
        ranges = [(s, e, m[1]) for s, e, m, *_ in c.execute_command("CLUSTER SLOTS")]
    keys: dict[int, list[str]] = {port: [] for *_, port in ranges}
    i = 0
    while any(len(v) < per_master for v in keys.values()):
        key = f"{prefix}{i}"
        slot = key_slot(key.encode())
        port = next(p for s, e, p in ranges if s <= slot <= e)
        if len(keys[port]) < per_master:
            keys[port].append(key)
        i += 1
    return keys


class Stream:
    """One writer and one reader per master, each on that master's keys, until stopped.

    Every call's start, end and outcome is kept; errors are kept with the call. A writer
    writes ``(port, seq)`` values; ``acked`` holds the last value each key was acknowledged with.
    """

    def __init__(self, toolkit: AsyncRedisToolkit, keys: dict[int, list[str]]) -> None:
        self.toolkit = toolkit
        self.keys = keys
        self.calls: list[tuple[int, float, float]] = []  # (port, start, end) of successes
        self.errors: list[tuple[int, str, BaseException]] = []
        self.acked: dict[str, tuple[int, int]] = {}
        self._stop = AsyncEvent()
        self._handles: list[Any] = []

    def start(self) -> None:
        for port in self.keys:
            self._handles.append(AsyncRuntime.spawn(self._writer, port, name=f"writer-{port}"))
            self._handles.append(AsyncRuntime.spawn(self._reader, port, name=f"reader-{port}"))

    async def stop(self) -> None:
        self._stop.set()
        for handle in self._handles:
            assert await AsyncRuntime.join(handle, 60), "a worker did not stop"

    async def _writer(self, port: int) -> None:
        keys = self.keys[port]
        seq = 0
        while not self._stop.is_set():
            key = keys[seq % len(keys)]
            value = (port, seq)
            began = AsyncRuntime.monotonic()
            try:
                await self.toolkit.setter(key, value)
            except Exception as e:
                self.errors.append((port, "SET", e))
            else:
                self.acked[key] = value
                self.calls.append((port, began, AsyncRuntime.monotonic()))
            seq += 1

    async def _reader(self, port: int) -> None:
        keys = self.keys[port]
        i = 0
        while not self._stop.is_set():
            began = AsyncRuntime.monotonic()
            try:
                value = await self.toolkit.getter(keys[i % len(keys)])
            except Exception as e:
                self.errors.append((port, "GET", e))
            else:
                assert value is None or value[0] == port
                self.calls.append((port, began, AsyncRuntime.monotonic()))
            i += 1

    def successes(self, port: int, started_after: float) -> list[float]:
        """End times of the successful calls on ``port``'s keys that started after the time."""
        return [end for p, start, end in list(self.calls) if p == port and start >= started_after]

    def served_between(self, port: int, t0: float, t1: float) -> int:
        """Successful calls on ``port``'s keys that ended between ``t0`` and ``t1``."""
        return sum(1 for p, _, end in list(self.calls) if p == port and t0 <= end <= t1)

    def recovered(self, since: float) -> bool:
        return all(len(self.successes(port, since)) >= RECOVERED_AFTER for port in self.keys)

    async def check_acked_writes(self) -> None:
        """Every write that returned success is what the key holds now."""
        got = await self.toolkit.batch_get(list(self.acked))
        lost = {k: (v, got[k]) for k, v in self.acked.items() if got[k] != v}
        assert not lost, f"acknowledged writes not readable: {list(lost.items())[:5]}"


@pytest.fixture
async def stream_toolkit(
    fault_cluster: RedisClusterNodes, restore: Any
) -> AsyncIterator[AsyncRedisToolkit]:
    toolkit = make_toolkit(fault_cluster)
    yield toolkit
    await toolkit.aclose()
    await async_pool_manager.close_all_pools()


async def run_fault(
    cluster: RedisClusterNodes,
    toolkit: AsyncRedisToolkit,
    prefix: str,
    fault: Callable[[RedisServer], Any],
    what: str,
) -> tuple[Stream, int, float]:
    """Stream, break the master of the first shard with ``fault``, wait for every shard to serve
    again; return the stream, the broken master's port and the time of the fault (``fault``
    may return the moment it took effect)."""
    keys = keys_by_master(cluster, prefix)
    stream = Stream(toolkit, keys)
    stream.start()
    began = AsyncRuntime.monotonic()
    await poll_until(lambda: stream.recovered(began), 30, "the stream to run on every shard")
    victim = cluster.master_for_key(next(iter(keys.values()))[0])
    t_fault = AsyncRuntime.monotonic()
    began_at = await AsyncRuntime.call(fault, victim)
    if began_at is not None:  # the fault says when it really took effect
        t_fault = began_at
    waited = await poll_until(lambda: stream.recovered(t_fault), 60, f"every shard after {what}")
    await stream.stop()
    first = min(stream.successes(victim.port, t_fault))
    print(
        f"\n{what}: first success on the broken master's keys {first - t_fault:.2f}s after the "
        f"fault; all shards served again within {waited:.2f}s; calls {len(stream.calls)}, "
        f"errors {len(stream.errors)}; metrics failovers={toolkit.metrics.snapshot()['failovers']} "
        f"refreshes={toolkit.metrics.snapshot()['topology_refreshes']}"
    )
    return stream, victim.port, t_fault


def assert_served_throughout(stream: Stream, victim: int, t_fault: float) -> None:
    """No error reached the caller; the healthy shards were served while the victim was not."""
    assert stream.errors == [], f"errors reached the caller: {stream.errors[:5]}"
    back = min(stream.successes(victim, t_fault))
    for port in stream.keys:
        if port != victim:
            served = stream.served_between(port, t_fault, back)
            assert served > 0, f"the healthy master {port} was not served during the outage"


async def test_kill_9_of_a_master_surfaces_no_error(
    fault_cluster: RedisClusterNodes, stream_toolkit: AsyncRedisToolkit, prefix: str
) -> None:
    stream, victim, t_fault = await run_fault(
        fault_cluster, stream_toolkit, prefix, lambda node: node.kill(), "kill -9 of a master"
    )
    assert_served_throughout(stream, victim, t_fault)
    await stream.check_acked_writes()
    assert stream_toolkit.metrics.snapshot()["failovers"] >= 1
    assert stream_toolkit.metrics.snapshot()["topology_refreshes"] >= 1
    # The dead master's breaker never refused the healthy masters' keys: no breaker opened
    # anywhere, since no call gave up.
    assert stream_toolkit.metrics.snapshot()["breaker_opens"] == 0
    # The health check covers every primary: the dead one is reported by name (its checker's
    # slot map still lists it), then, once the map is re-read, the new primary is healthy.
    checker = stream_toolkit.health_checker
    assert checker is not None
    dead = f"127.0.0.1:{victim}"
    assert await checker.check() is False
    health = stream_toolkit.get_health_status()
    assert health["healthy"] is False and health["nodes"][dead]["healthy"] is False
    assert await checker.check() is True
    health = stream_toolkit.get_health_status()
    assert health["healthy"] is True and health["nodes"][dead]["role"] == "not a primary"
    assert len([n for n in health["nodes"].values() if n["role"] == "primary"]) == 3


def cluster_failover(cluster: RedisClusterNodes) -> Callable[[RedisServer], Any]:
    """A fault: ``CLUSTER FAILOVER`` on a replica of the master, done once the roles swapped."""

    async def fault(master: RedisServer) -> None:
        replica = next(
            n
            for n in cluster.replicas()
            if int(cluster.node_info(n, "replication").get("master_port", 0)) == master.port
        )
        with replica.admin() as c:
            c.execute_command("CLUSTER FAILOVER")
        await poll_until(lambda: cluster.role(master) == "slave", 30, "the graceful failover")

    return fault


async def test_cluster_failover_surfaces_no_error(
    fault_cluster: RedisClusterNodes, stream_toolkit: AsyncRedisToolkit, prefix: str
) -> None:
    stream, victim, t_fault = await run_fault(
        fault_cluster, stream_toolkit, prefix, cluster_failover(fault_cluster), "CLUSTER FAILOVER"
    )
    assert stream.errors == [], f"errors reached the caller: {stream.errors[:5]}"
    await stream.check_acked_writes()
    assert fault_cluster.role(next(n for n in fault_cluster.nodes if n.port == victim)) == "slave"


async def test_debug_sleep_of_a_master_surfaces_no_error(
    fault_cluster: RedisClusterNodes, stream_toolkit: AsyncRedisToolkit, prefix: str
) -> None:
    # Shorter than cluster-node-timeout: a stall, not a failover. The stalled shard's callers
    # wait; the other shards' callers must not.
    stall = RedisClusterNodes.NODE_TIMEOUT_MS / 1000 * 0.7
    stalls: list[Any] = []

    async def fault(master: RedisServer) -> float:
        stalls.append(master.debug_sleep(stall))
        stalled_at = AsyncRuntime.monotonic()  # debug_sleep returns once the server stalls
        await poll_until(lambda: not stalls[0].is_alive(), 10, "DEBUG SLEEP to end")
        return stalled_at

    stream, victim, t_fault = await run_fault(
        fault_cluster, stream_toolkit, prefix, fault, "DEBUG SLEEP of a master"
    )
    assert_served_throughout(stream, victim, t_fault)
    await stream.check_acked_writes()


def on_primary(cluster: RedisClusterNodes, channel: str) -> bool:
    """The shard channel has its subscriber on the slot's current primary (the demoted node,
    now a replica, relays the shard's messages to its own subscribers too, but SPUBLISH does
    not count those)."""
    with cluster.master_for_key(channel).admin() as c:
        return bool(dict(c.execute_command("PUBSUB SHARDNUMSUB", channel)).get(channel.encode()))


async def test_subscribers_heal_after_their_node_dies(
    fault_cluster: RedisClusterNodes, restore: Any, prefix: str
) -> None:
    """Classic and sharded subscribers receive again within 5 s of the failover, with no other
    traffic through their toolkits."""
    keys = keys_by_master(fault_cluster, prefix, per_master=1)
    victim_port = next(iter(keys))
    # Channels whose slot the victim owns: the sharded subscription lives on it, and the
    # classic subscriber connects to it too (redis-py picks the node by the channel's slot).
    channel = keys[victim_port][0]
    victim = fault_cluster.master_for_key(channel)
    received: dict[str, list[Any]] = {"classic": [], "sharded": []}
    classic = make_toolkit(fault_cluster, client_name="classic-sub")
    sharded = make_toolkit(fault_cluster, client_name="sharded-sub")
    publisher = make_toolkit(fault_cluster, client_name="publisher")
    try:
        assert await classic.start_subscriber([channel], lambda c, v: received["classic"].append(v))
        assert await sharded.start_subscriber(
            [channel], lambda c, v: received["sharded"].append(v), sharded=True
        )
        assert await publisher.publish(channel, "before", sharded=True) == 1
        await publisher.publish(channel, "before")
        await poll_until(
            lambda: received["classic"] and received["sharded"], 5, "messages before the kill"
        )
        t_kill = AsyncRuntime.monotonic()
        victim.kill()
        await poll_until(
            lambda: fault_cluster.master_for_key(channel) is not victim, 30, "the failover"
        )
        t_promoted = AsyncRuntime.monotonic()
        n = 0

        async def both_receive() -> bool:
            nonlocal n
            n += 1
            # The publisher is the test's instrument, not what is tested: a PUBLISH is never
            # retried after it may have run, so one on a connection the kill broke can fail.
            try:
                await publisher.publish(channel, n)
                await publisher.publish(channel, n, sharded=True)
            except ConnectionFailedError:
                pass
            await AsyncRuntime.sleep(0.1)
            return (
                n in received["sharded"]
                and on_primary(fault_cluster, channel)
                and any(isinstance(v, int) for v in received["classic"])
            )

        healed = await poll_until(both_receive, 5, "both subscribers to receive again")
        print(
            f"\nsubscribers healed {healed:.2f}s after the promotion "
            f"({t_promoted - t_kill:.2f}s after the kill)"
        )
        assert await publisher.publish(channel, "after", sharded=True) == 1
    finally:
        for toolkit in (classic, sharded, publisher):
            await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_sharded_subscriber_heals_after_cluster_failover(
    fault_cluster: RedisClusterNodes, prefix: str
) -> None:
    """After a graceful failover the old owner drops the shard subscription: it comes back."""
    keys = keys_by_master(fault_cluster, prefix, per_master=1)
    channel = next(iter(keys.values()))[0]
    master = fault_cluster.master_for_key(channel)
    received: list[Any] = []
    sharded = make_toolkit(fault_cluster, client_name="sharded-sub")
    publisher = make_toolkit(fault_cluster, client_name="publisher")
    try:
        assert await sharded.start_subscriber(
            [channel], lambda c, v: received.append(v), sharded=True
        )
        await cluster_failover(fault_cluster)(master)
        await poll_until(
            lambda: fault_cluster.master_for_key(channel) is not master, 30, "the failover"
        )

        n = 0

        async def receives() -> bool:
            nonlocal n
            n += 1
            try:
                await publisher.publish(channel, n, sharded=True)
            except ConnectionFailedError:
                pass  # the publisher's connection to the demoted node; not what is tested
            await AsyncRuntime.sleep(0.1)
            return n in received and on_primary(fault_cluster, channel)

        healed = await poll_until(receives, 5, "the sharded subscriber to receive again")
        print(f"\nsharded subscriber healed {healed:.2f}s after CLUSTER FAILOVER")

        # A publisher whose slot map predates the failover reached the demoted node (count 0);
        # a zero count makes it re-read the map, so the count becomes the real one.
        async def counted() -> bool:
            await AsyncRuntime.sleep(0.1)
            return await publisher.publish(channel, "after", sharded=True) == 1

        await poll_until(counted, 5, "a SPUBLISH counting the subscriber")
    finally:
        for toolkit in (sharded, publisher):
            await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_a_timed_out_incr_is_not_retried_on_a_cluster(
    fault_cluster: RedisClusterNodes, prefix: str
) -> None:
    """The failover budget does not make the cluster path repeat a command that may have run."""
    toolkit = make_toolkit(fault_cluster, socket_timeout=0.3)
    counter, key = f"{prefix}counter", f"{prefix}value"
    try:
        await toolkit.setter(key, {"v": 1})
        # A connection to the counter's node is open first: one opened during the stall would
        # time out in its handshake, before the INCR is even sent.
        assert await toolkit.execute_command("GET", counter) is None
        stall = fault_cluster.master_for_key(counter).debug_sleep(0.7)
        with pytest.raises(OperationTimeoutError, match="INCR"):
            await toolkit.execute_command("INCR", counter)
        stall.join(10)
        # The INCR reached the server before it stalled and ran once when it woke up; a retry
        # would have made it 2.
        assert int(await toolkit.execute_command("GET", counter)) == 1
        stall = fault_cluster.master_for_key(key).debug_sleep(0.7)
        assert await toolkit.getter(key) == {"v": 1}  # GET timed out, was retried, succeeded
        stall.join(10)
        commands = toolkit.get_metrics()["commands"]
        assert commands["GET"]["retries"] >= 1 and commands["INCR"]["retries"] == 0
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()
