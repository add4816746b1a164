# Generated from tests/_async/test_cluster_ops.py by tools/run_unasync.py. DO NOT EDIT.
"""Cluster utilities (``toolkit.cluster``) on the private 6-node cluster and on one server:
slots against CLUSTER KEYSLOT, scans of every primary, batches grouped per node with per-key
partial failures, node info, cross-slot refusals and reads from replicas."""

from __future__ import annotations

import random

import numpy as np
import pytest

from redis_toolkit import (
    RedisToolkit,
    BatchWriteError,
    ClusterConfigError,
    CrossSlotError,
    RedisOptions,
    ValidationError,
    pool_manager,
)
from redis_toolkit.cluster_utils import (
    ClusterOperations,
    ScanResult,
    hash_tag,
    keyslot,
    same_slot,
)
from tests._sync.conftest import cluster_config
from tests.servers import RedisClusterNodes, RedisServer, wait_until


def random_keys(prefix: str, count: int) -> list[str]:
    rng = random.Random(12)
    alphabet = "abcxyz019:{}_-é"
    keys = []
    for _ in range(count):
        keys.append(prefix + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
    keys += ["{user:1}:a", "a{}b{c}", "{}{x}", "x{y", "x}{y}", "é{ü}z", "{{a}}", ""]
    return keys


def test_keyslot_agrees_with_cluster_keyslot(cluster_toolkit: RedisToolkit) -> None:
    ops = cluster_toolkit.cluster
    for key in random_keys("k", 150):
        expected = cluster_toolkit.client.cluster_keyslot(key)
        assert ops.keyslot(key) == expected, key
        assert ops.keyslot(key.encode()) == expected, key


def test_hash_tagged_keys_share_a_slot_and_a_node(
    cluster_toolkit: RedisToolkit, prefix: str
) -> None:
    ops = cluster_toolkit.cluster
    keys = [ops.hash_tag(f"{prefix}{name}", "user:123") for name in ("profile", "cart", "events")]
    assert keys[0] == "{user:123}:" + f"{prefix}profile"
    assert ops.same_slot(keys) and same_slot(keys)
    slots = {cluster_toolkit.client.cluster_keyslot(k) for k in keys}
    assert slots == {ops.keyslot("user:123")}
    assert not ops.same_slot([f"{prefix}a", f"{prefix}b", f"{prefix}c"])


def test_scan_cluster_covers_every_primary(
    cluster_toolkit: RedisToolkit, redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    mapping = {f"{prefix}{i}": i for i in range(300)}
    cluster_toolkit.batch_set(mapping)
    cluster_toolkit.client.hset(f"{prefix}hash", mapping={"f": "v"})
    result = cluster_toolkit.cluster.scan_cluster(f"{prefix}*", count=50)
    assert isinstance(result, ScanResult) and isinstance(result, list)
    assert result.complete and result.failed_nodes == {}
    assert sorted(result) == sorted([*mapping, f"{prefix}hash"])
    assert len(result) == len(set(result))
    masters = {f"{n.host}:{n.port}" for n in redis_cluster.masters()}
    assert set(result.nodes) == masters
    owners = {redis_cluster.master_for_key(k).port for k in list(mapping)[:40]}
    assert len(owners) == 3  # the keys found really came from all three primaries
    only_hashes = cluster_toolkit.cluster.scan_cluster(f"{prefix}*", key_type="hash")
    assert list(only_hashes) == [f"{prefix}hash"]
    assert list(cluster_toolkit.cluster.scan_cluster(f"{prefix}none*")) == []


def test_mget_and_mset_cluster_keep_types_order_and_ttl(
    cluster_toolkit: RedisToolkit, prefix: str
) -> None:
    ops = cluster_toolkit.cluster
    msgpack = RedisOptions(serializer="msgpack")  # the tuples come back exact
    mapping = {f"{prefix}{i}": {"i": i, "t": (i, "x")} for i in range(1200)}
    mapping[f"{prefix}array"] = np.arange(6, dtype=np.int32)
    mapping[f"{prefix}none"] = None
    assert ops.mset_cluster(mapping, ttl=60, options=msgpack) is None
    names = [f"{prefix}missing", *reversed(list(mapping))]
    got = ops.mget_cluster(names)
    assert list(got) == names
    assert got[f"{prefix}missing"] is None and got[f"{prefix}none"] is None
    assert got[f"{prefix}7"] == {"i": 7, "t": (7, "x")} and type(got[f"{prefix}7"]["t"]) is tuple
    assert got[f"{prefix}array"].dtype == np.int32
    left = cluster_toolkit.get_ttl(f"{prefix}1199")
    assert left is not None and 58 < left <= 60
    ops.mset_cluster({f"{prefix}0": "plain"})
    assert cluster_toolkit.get_ttl(f"{prefix}0") == -1
    assert (ops.mget_cluster([f"{prefix}0"])) == {f"{prefix}0": "plain"}
    assert ops.mget_cluster([]) == {}


def test_batch_get_follows_moved_when_the_slot_map_is_stale(
    cluster_toolkit: RedisToolkit, prefix: str
) -> None:
    mapping = {f"{prefix}{i}": i for i in range(60)}
    cluster_toolkit.batch_set(mapping)
    client = cluster_toolkit.client
    slot = keyslot(f"{prefix}0")
    right = client.nodes_manager.slots_cache[slot][0]
    wrong = next(n for n in client.get_primaries() if n.name != right.name)
    # What a resharding or a failover the client has not seen yet leaves behind: the server
    # answers MOVED, the fast path hands the read to redis-py, which follows it.
    client.nodes_manager.slots_cache[slot] = [wrong]
    fallbacks = []
    original = client.mget_nonatomic

    def counted(*args: object) -> object:
        fallbacks.append(args)
        return original(*args)

    client.mget_nonatomic = counted
    assert cluster_toolkit.batch_get(list(mapping)) == mapping
    assert len(fallbacks) == 1
    assert cluster_toolkit.batch_get(list(mapping)) == mapping  # connections still good
    assert cluster_toolkit.cluster.mget_cluster([f"{prefix}0"]) == {f"{prefix}0": 0}


def test_mset_cluster_reports_the_keys_of_a_failing_node(
    cluster_toolkit: RedisToolkit, redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    mapping = {f"{prefix}{i}": i for i in range(90)}
    refusing = redis_cluster.master_for_key(f"{prefix}0")
    owner = {k: redis_cluster.master_for_key(k).port for k in mapping}
    # A real refusal by one primary: it needs two replicas to accept writes and has one.
    with refusing.admin() as admin:
        admin.config_set("min-replicas-to-write", 2)
    try:
        with pytest.raises(BatchWriteError) as info:
            cluster_toolkit.cluster.mset_cluster(mapping)
    finally:
        with refusing.admin() as admin:
            admin.config_set("min-replicas-to-write", 0)
    error = info.value
    assert error.failed_keys == [k for k in mapping if owner[k] == refusing.port]
    assert sorted(error.written_keys) == sorted(k for k in mapping if owner[k] != refusing.port)
    assert "NOREPLICAS" in str(error) and f"{refusing.host}:{refusing.port}" in str(error)
    got = cluster_toolkit.cluster.mget_cluster(list(mapping))
    assert all(got[k] == mapping[k] for k in error.written_keys)
    assert all(got[k] is None for k in error.failed_keys)


def test_atomic_mset_across_slots_is_refused_before_sending(
    cluster_toolkit: RedisToolkit, prefix: str
) -> None:
    ops = cluster_toolkit.cluster
    spread = {f"{prefix}a": 1, f"{prefix}b": 2, f"{prefix}c": 3}
    with pytest.raises(CrossSlotError, match="hash tag") as info:
        ops.mset_cluster(spread, atomic=True)
    assert isinstance(info.value, ClusterConfigError) and isinstance(info.value, ValidationError)
    assert len(info.value.slots) >= 2
    assert not any([cluster_toolkit.exists(k) for k in spread])
    tagged = {hash_tag(k, f"{prefix}order:7"): v for k, v in spread.items()}
    ops.mset_cluster(tagged, ttl=30, atomic=True)
    assert ops.mget_cluster(list(tagged)) == dict(tagged)
    left = cluster_toolkit.get_ttl(next(iter(tagged)))
    assert left is not None and 28 < left <= 30


def test_raw_multi_key_command_across_slots_names_hash_tags(
    cluster_toolkit: RedisToolkit, prefix: str
) -> None:
    a, b = f"{prefix}a", f"{prefix}b"
    assert not same_slot([a, b])
    with pytest.raises(CrossSlotError, match="hash tag"):
        cluster_toolkit.execute_command("MSET", a, 1, b, 2)
    tag_a, tag_b = hash_tag("a", prefix), hash_tag("b", prefix)
    assert cluster_toolkit.execute_command("MSET", tag_a, 1, tag_b, 2)


def test_get_nodes_info_describes_every_node(
    cluster_toolkit: RedisToolkit, redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    cluster_toolkit.batch_set({f"{prefix}{i}": i for i in range(30)})
    infos = cluster_toolkit.cluster.get_nodes_info()
    assert {i["port"] for i in infos} == {n.port for n in redis_cluster.nodes}
    primaries = [i for i in infos if i["role"] == "primary"]
    replicas = [i for i in infos if i["role"] == "replica"]
    assert len(primaries) == 3 and len(replicas) == 3
    assert infos[:3] == primaries  # primaries first
    assert sum(p["slot_count"] for p in primaries) == 16384
    by_name = {i["name"]: i for i in infos}
    for primary in primaries:
        assert len(primary["replicas"]) == 1 and primary["primary"] is None
        assert by_name[primary["replicas"][0]]["primary"] == primary["name"]
    for info in infos:
        assert info["link_state"] == "connected" and info["error"] is None
        assert isinstance(info["memory_used"], int) and info["memory_used"] > 0
        assert isinstance(info["keys"], int)
    assert sum(p["keys"] for p in primaries) >= 30
    for replica in replicas:
        assert replica["slots"] == [] and replica["replicas"] == []


def test_nodes_info_reaches_a_node_missing_from_the_slot_map(
    cluster_toolkit: RedisToolkit, redis_cluster: RedisClusterNodes
) -> None:
    # CLUSTER SLOTS leaves a replica out until its first sync ends, so a client created then
    # does not know it; CLUSTER NODES does. Dropping it from the client's map recreates that.
    cluster_toolkit.cluster.get_nodes_info()  # the client now has its slot map
    replica = redis_cluster.replicas()[0]
    name = f"{replica.host}:{replica.port}"
    del cluster_toolkit.client.nodes_manager.nodes_cache[name]
    assert cluster_toolkit.client.get_node(node_name=name) is None
    infos = {i["name"]: i for i in cluster_toolkit.cluster.get_nodes_info()}
    assert infos[name]["error"] is None and infos[name]["role"] == "replica"
    assert isinstance(infos[name]["keys"], int) and infos[name]["memory_used"] > 0


def test_readonly_mode_reads_from_replicas(
    redis_cluster: RedisClusterNodes, prefix: str
) -> None:
    toolkit = RedisToolkit(
        config=cluster_config(redis_cluster, readonly_mode=True),
        options=RedisOptions(is_logger_info=False),
    )
    key = f"{prefix}r"
    try:
        toolkit.setter(key, "v")
        primary = redis_cluster.master_for_key(key)
        replica = next(
            n
            for n in redis_cluster.replicas()
            if redis_cluster.node_info(n, "replication").get("master_port") == primary.port
        )

        def gets_on_replica() -> int:
            stats = redis_cluster.node_info(replica, "commandstats")
            return int(stats.get("cmdstat_get", {}).get("calls", 0))

        with replica.admin(single_connection_client=True) as admin:
            admin.execute_command("READONLY")  # a replica answers reads only after READONLY
            wait_until(lambda: admin.get(key) is not None, 5, what="the write on the replica")
        before = gets_on_replica()
        for _ in range(10):
            assert toolkit.getter(key) == "v"
        assert gets_on_replica() > before
    finally:
        toolkit.client.delete(key)
        toolkit.close()
        pool_manager.close_all_pools()


def test_cluster_url_form(redis_cluster: RedisClusterNodes, prefix: str) -> None:
    hosts = ",".join(f"{h}:{p}" for h, p in redis_cluster.startup_nodes[:2])
    toolkit = RedisToolkit.from_url(f"redis+cluster://{hosts}", socket_timeout=5.0)
    try:
        assert toolkit.cluster.is_cluster
        toolkit.setter(f"{prefix}u", [1, 2])
        assert toolkit.getter(f"{prefix}u") == [1, 2]
        assert toolkit.deleter(f"{prefix}u") is True
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_cluster_operations_on_a_standalone_server(
    toolkit_server: RedisToolkit, redis_server: RedisServer, prefix: str
) -> None:
    ops = ClusterOperations(toolkit_server)
    assert ops.is_cluster is False and toolkit_server.cluster.is_cluster is False
    mapping = {f"{prefix}{i}": (i,) for i in range(25)}
    ops.mset_cluster(mapping, ttl=60)
    assert ops.mget_cluster(list(mapping)) == mapping
    found = ops.scan_cluster(f"{prefix}*", count=10)
    assert sorted(found) == sorted(mapping) and found.complete
    assert found.nodes == [f"{redis_server.host}:{redis_server.port}"]
    (info,) = ops.get_nodes_info()
    assert info["role"] == "primary" and info["port"] == redis_server.port
    assert info["slots"] == [] and info["keys"] >= 25 and info["memory_used"] > 0
    with pytest.raises(CrossSlotError):  # refused here too: the code must work on a cluster
        ops.mset_cluster({f"{prefix}x": 1, f"{prefix}y": 2}, atomic=True)
    ops.mset_cluster({hash_tag("x", prefix): 1, hash_tag("y", prefix): 2}, atomic=True)


def test_bad_input_is_refused(toolkit_server: RedisToolkit) -> None:
    ops = toolkit_server.cluster
    with pytest.raises(ValidationError, match="pattern"):
        ops.scan_cluster("")
    with pytest.raises(ValidationError, match="count"):
        ops.scan_cluster("*", count=0)
    with pytest.raises(ValidationError, match="mapping"):
        ops.mset_cluster([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="list of keys"):
        ops.mget_cluster("a")  # type: ignore[arg-type]


def test_scan_says_it_is_incomplete_when_a_node_fails(server_factory, prefix: str) -> None:
    server = server_factory()
    toolkit = RedisToolkit.from_url(server.url, socket_timeout=2.0, max_retries=0)
    try:
        toolkit.setter(f"{prefix}k", 1)
        assert list(toolkit.cluster.scan_cluster(f"{prefix}*")) == [f"{prefix}k"]
        server.kill()
        result = toolkit.cluster.scan_cluster(f"{prefix}*")
        assert result.complete is False and list(result) == []
        assert list(result.failed_nodes) == [f"{server.host}:{server.port}"]
        assert "INCOMPLETE" in repr(result)
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_the_cluster_property_is_one_lazy_object(
    cluster_toolkit: RedisToolkit,
) -> None:
    ops = cluster_toolkit.cluster
    assert ops is cluster_toolkit.cluster and ops.is_cluster
    assert "ClusterOperations" in repr(ops)
