"""The memory backend's contract, on the private standalone server, the cluster and memory://."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from redis_toolkit import ConflictError, LockTimeoutError, RedisConnectionConfig, async_pool_manager
from redis_toolkit._async.memory import AsyncRedisMemoryBackend, RedisBackendV2
from redis_toolkit._compat import AsyncRuntime
from redis_toolkit.memory import (
    MemoryConflictError,
    MemoryEntry,
    MemoryQuery,
    MemorySettings,
    MemoryType,
    MemoryValidationError,
)

Factory = Callable[..., Awaitable[AsyncRedisMemoryBackend]]


async def poll(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Await ``check()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        await AsyncRuntime.sleep(0.02)


@pytest.fixture(params=["server", "cluster", "embedded"])
async def mem_factory(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Factory]:
    """Backends with separate caches on one store: standalone, cluster, then memory://."""
    if request.param == "server":
        server = request.getfixturevalue("redis_server")
        config = RedisConnectionConfig(host=server.host, port=server.port, socket_timeout=5.0)
    elif request.param == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        config = RedisConnectionConfig(
            cluster_mode=True, startup_nodes=cluster.startup_nodes, socket_timeout=5.0
        )
    else:
        config = RedisConnectionConfig(url=f"memory://{prefix}")
    made: list[AsyncRedisMemoryBackend] = []

    async def make(**settings: Any) -> AsyncRedisMemoryBackend:
        settings.setdefault("key_prefix", prefix.rstrip(":"))
        backend = AsyncRedisMemoryBackend(config=config, settings=MemorySettings(**settings))
        await backend.initialize()
        made.append(backend)
        return backend

    yield make
    if made:
        client = made[0].toolkit.client
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.delete(key)
        await pipe.execute()
    for backend in made:
        await backend.close()
    await async_pool_manager.close_all_pools()


def entry(i: int, dim: int = 4, **fields: Any) -> MemoryEntry:
    rng = np.random.default_rng(i)
    fields.setdefault("embedding", rng.standard_normal(dim).astype(np.float32))
    fields.setdefault("content", f"memory number {i}")
    return MemoryEntry(id=f"m{i}", **fields)


async def test_add_get_round_trip_and_readd_updates(mem_factory: Factory) -> None:
    backend = await mem_factory()
    vec = np.array([0.1, -2.5, 3.25, 1e-3], dtype=np.float32)
    e = MemoryEntry(
        id="a1", content="Test memory", memory_type=MemoryType.SHORT_TERM, importance=0.9,
        embedding=vec, metadata={"user": "ada", "n": [1, 2]}, tags=("x", "y"),
    )  # fmt: skip
    assert await backend.add(e) == "a1"
    got = await backend.get("a1")
    assert got is not None
    assert got.content == "Test memory" and got.memory_type is MemoryType.SHORT_TERM
    assert got.importance == 0.9 and got.metadata == {"user": "ada", "n": [1, 2]}
    assert got.tags == ("x", "y") and got.version == 1
    assert np.array_equal(np.asarray(got.embedding, dtype=np.float32), vec)
    # The expiry comes from the type's TTL (4 h for short-term) and is set in Redis too.
    assert got.expires_at is not None and abs(got.expires_at - (e.created_at + 4 * 3600)) < 1e-3
    key = f"{backend.settings.key_prefix}:{{default}}:e:a1"
    pttl = await backend.toolkit.client.pttl(key)
    assert 4 * 3600 * 1000 - 60_000 < pttl <= 4 * 3600 * 1000
    # Re-adding the same id replaces it and bumps the version.
    await backend.add(MemoryEntry(id="a1", content="Changed", memory_type=MemoryType.SEMANTIC))
    again = await backend.get("a1")
    assert again is not None and again.content == "Changed" and again.version == 2
    assert again.embedding is None and again.expires_at is None
    assert await backend.toolkit.client.pttl(key) == -1  # semantic memories never expire
    assert await backend.get("nope") is None
    assert await backend.count() == 1


async def test_bad_input_is_refused_before_writing(mem_factory: Factory) -> None:
    backend = await mem_factory(dimension=4)
    cases: list[tuple[MemoryEntry, str]] = [
        (entry(1, dim=3), "dimension 3"),
        (entry(2, embedding=[1.0, float("nan"), 0.0, 0.0]), "NaN"),
        (entry(3, content="   "), "content"),
        (entry(4, importance=1.5), "importance"),
        (entry(5, metadata={"f": object()}), "JSON"),
        (entry(6, embedding=[0.0, 0.0, 0.0, 0.0]), "zero"),
    ]
    for bad, words in cases:
        with pytest.raises(MemoryValidationError, match=words) as info:
            await backend.add_batch([entry(100), bad])
        assert bad.id in str(info.value)
    with pytest.raises(MemoryValidationError, match="memory_type"):
        MemoryEntry(content="x", memory_type="yearly")
    with pytest.raises(MemoryValidationError, match="dimension"):
        await backend.query(MemoryQuery(embedding=[1.0, 2.0]))
    with pytest.raises(MemoryValidationError, match="limit"):
        await backend.query(MemoryQuery(limit=0))
    assert await backend.count() == 0  # the good entry of each batch was not written either


async def test_learns_the_dimension_of_a_namespace(mem_factory: Factory) -> None:
    backend = await mem_factory()
    await backend.add(entry(1, dim=8))
    other = await mem_factory()  # a fresh backend learns it from Redis
    with pytest.raises(MemoryValidationError, match="dimension 5 does not match"):
        await other.add(entry(2, dim=5))
    await other.add(entry(3, dim=4, namespace="elsewhere"))  # namespaces are independent


async def test_update_is_version_checked(mem_factory: Factory) -> None:
    backend = await mem_factory()
    await backend.add(entry(1, importance=0.2))
    first = await backend.get("m1")
    second = await backend.get("m1")
    assert first is not None and second is not None
    first.importance = 0.7
    updated = await backend.update(first)
    assert updated.version == 2 and updated.importance == 0.7
    second.content = "stale writer"
    with pytest.raises(MemoryConflictError, match="m1") as info:
        await backend.update(second)
    assert info.value.expected == 1 and info.value.actual == 2
    # The id form re-reads and applies the changes.
    again = await backend.update("m1", content="fresh", tags=("t",))
    assert again.version == 3 and again.content == "fresh" and again.importance == 0.7
    stored = await backend.get("m1")
    assert stored is not None and stored.content == "fresh" and stored.tags == ("t",)
    with pytest.raises(MemoryConflictError, match="no such memory"):
        await backend.update("missing", content="x")
    assert issubclass(MemoryConflictError, ConflictError)


async def test_lock_on_one_memory(mem_factory: Factory) -> None:
    backend = await mem_factory()
    other = await mem_factory()
    await backend.add(entry(1))
    async with backend.lock("m1", ttl=5) as held:
        assert held.token >= 1
        with pytest.raises(LockTimeoutError):
            async with other.lock("m1", blocking_timeout=0.05):
                pass
        async with other.lock("m2", blocking_timeout=0.05) as unrelated:
            assert unrelated.token >= 1
        await backend.update("m1", importance=0.9)
    async with other.lock("m1", blocking_timeout=1) as later:
        assert later.token > held.token  # fencing tokens grow


async def test_batches_delete_count_and_clear(mem_factory: Factory) -> None:
    backend = await mem_factory()
    ids = await backend.add_batch([entry(i) for i in range(30)])
    assert ids == [f"m{i}" for i in range(30)]
    got = await backend.get_batch(["m0", "m29", "zz"])
    assert list(got) == ["m0", "m29", "zz"] and got["zz"] is None
    assert got["m29"] is not None and got["m29"].content == "memory number 29"
    assert await backend.delete("m0") is True
    assert await backend.delete("m0") is False
    assert await backend.delete_batch(["m1", "m2", "zz"]) == 2
    assert await backend.count() == 27
    assert await backend.count(memory_type=MemoryType.LONG_TERM) == 27
    assert await backend.count(memory_type="episodic") == 0
    found = await backend.query(MemoryQuery(limit=100))
    assert {r.id for r in found} == {f"m{i}" for i in range(3, 30)}
    assert await backend.clear() == 27
    assert await backend.count() == 0
    assert await backend.query(MemoryQuery(limit=100)) == []


async def test_vector_query_ranks_exactly_and_filters(mem_factory: Factory) -> None:
    backend = await mem_factory()
    now = time.time()
    entries = [
        entry(i, dim=8, importance=(i % 5) / 4,
              memory_type=MemoryType.EPISODIC if i % 2 else MemoryType.LONG_TERM,
              tags=("even",) if i % 2 == 0 else ("odd", "x"), created_at=now - i * 60)
        for i in range(40)
    ]  # fmt: skip
    await backend.add_batch(entries)
    q = np.random.default_rng(99).standard_normal(8).astype(np.float32)
    mat = np.stack([np.asarray(e.embedding) for e in entries])
    cos = (mat @ q) / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q))
    results = await backend.query(MemoryQuery(embedding=q, limit=5))
    assert [r.id for r in results] == [f"m{i}" for i in np.argsort(-cos)[:5]]
    assert results[0].similarity == pytest.approx(float(cos.max()), abs=1e-5)
    assert results[0].content.startswith("memory number")  # entry fields read directly
    assert results[0].embedding is None  # not read unless asked for
    best = entries[int(np.argmax(cos))]
    full = await backend.query(MemoryQuery(embedding=q, limit=1, with_embeddings=True))
    assert np.array_equal(full[0].embedding, np.asarray(best.embedding, dtype=np.float32))
    assert full[0].metadata == {} and full[0].version >= 1

    def expect(keep: Callable[[int], bool], limit: int = 5) -> list[str]:
        order = [int(i) for i in np.argsort(-cos) if keep(int(i))]
        return [f"m{i}" for i in order[:limit]]

    by_type = await backend.query(MemoryQuery(embedding=q, memory_types=["episodic"]))
    assert [r.id for r in by_type] == expect(lambda i: i % 2 == 1, 10)
    tagged = await backend.query(MemoryQuery(embedding=q, tags=["odd", "x"], min_importance=0.5))
    assert [r.id for r in tagged] == expect(lambda i: i % 2 == 1 and (i % 5) / 4 >= 0.5, 10)
    window = await backend.query(
        MemoryQuery(embedding=q, created_after=now - 10 * 60 - 1, created_before=now - 60 * 2)
    )
    assert [r.id for r in window] == expect(lambda i: 3 <= i <= 10, 10)
    text = await backend.query(MemoryQuery(text="NUMBER 1", limit=20))
    assert {r.id for r in text} == {"m1"} | {f"m{i}" for i in range(10, 20)}
    floor = await backend.query(MemoryQuery(embedding=q, limit=40, min_score=0.5))
    assert [r.id for r in floor] == expect(lambda i: cos[i] >= 0.5, 40)
    # Importance and recency weights: without a vector, the newest important ones first.
    ranked = await backend.query(MemoryQuery(importance_weight=1.0, recency_weight=1.0, limit=3))
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[0].score == pytest.approx(ranked[0].importance + ranked[0].recency, abs=1e-5)
    assert ranked[0].id == "m4"  # importance 1.0, four minutes old


async def test_expired_memories_vanish_and_are_reclaimed(mem_factory: Factory) -> None:
    backend = await mem_factory(reclaim_interval=0)
    await backend.add_batch([entry(1), entry(2)])
    await backend.add(entry(3), ttl=0.3)
    await backend.add(entry(4, memory_type=MemoryType.WORKING), ttl=0.3)
    assert len(await backend.query(MemoryQuery(limit=10))) == 4

    async def gone() -> bool:
        found = {r.id for r in await backend.query(MemoryQuery(limit=10))}
        return found == {"m1", "m2"}

    await poll(gone)
    assert await backend.get("m3") is None and await backend.get("m4") is None
    assert await backend.count() == 2
    ids_key = f"{backend.settings.key_prefix}:{{default}}:ids"
    assert await backend.toolkit.client.zcard(ids_key) == 2  # the index space was reclaimed
    assert backend.get_metrics()["memory"]["entries_cached"] == 2  # and the cache's


async def test_deduplicates_identical_content(mem_factory: Factory) -> None:
    backend = await mem_factory(deduplicate=True)
    first = await backend.add(MemoryEntry(id="a", content="the sky is blue"))
    assert await backend.add(MemoryEntry(id="b", content="the sky is blue")) == first
    grass = [MemoryEntry(id=i, content="grass is green") for i in ("c", "d")]
    ids = await backend.add_batch(grass)
    assert ids == ["c", "c"]
    assert await backend.count() == 2
    await backend.delete("a")
    assert await backend.add(MemoryEntry(id="e", content="the sky is blue")) == "e"


async def test_namespaces_are_isolated_in_one_slot(mem_factory: Factory) -> None:
    backend = await mem_factory()
    await backend.add_batch([entry(i, namespace="alice") for i in range(5)])
    await backend.add_batch([entry(i, namespace="bob") for i in range(3)])
    assert await backend.count("alice") == 5 and await backend.count("bob") == 3
    assert await backend.get("m4", namespace="bob") is None
    assert len(await backend.query(MemoryQuery(namespace="bob", limit=10))) == 3
    await backend.clear("alice")
    assert await backend.count("alice") == 0 and await backend.count("bob") == 3
    client = backend.toolkit.client
    if hasattr(client, "keyslot"):
        keys = [k async for k in client.scan_iter(match=f"{backend.settings.key_prefix}:*bob*")]
        assert len(keys) >= 5
        assert len({client.keyslot(k) for k in keys}) == 1


async def test_concurrent_writers_and_readers(mem_factory: Factory) -> None:
    """Tasks sharing one backend (threads' turns in the sync API) write and query together."""
    backend = await mem_factory()
    reader = await mem_factory()
    await backend.add(entry(0))

    async def write(i: int) -> str:
        return await backend.add(entry(i, importance=0.9))

    async def read(i: int) -> int:
        return len(await reader.query(MemoryQuery(limit=100)))

    ids = await AsyncRuntime.gather(*(write(i) for i in range(1, 21)))
    counts = await AsyncRuntime.gather(*(read(i) for i in range(10)))
    assert sorted(ids) == sorted(f"m{i}" for i in range(1, 21))
    assert counts == [21] * 10
    updates = await AsyncRuntime.gather(
        *(backend.update(f"m{i}", importance=0.1) for i in range(1, 21))
    )
    versions = [u.version for u in updates]
    assert len(set(versions)) == 20  # every write got its own version
    low = await reader.query(MemoryQuery(limit=100, min_importance=0.5))
    assert [r.id for r in low] == ["m0"]


async def test_least_recently_used_namespaces_are_dropped(mem_factory: Factory) -> None:
    backend = await mem_factory(max_cached_namespaces=2)
    for name in ("a", "b", "c"):
        await backend.add(entry(1, namespace=name))
        assert len(await backend.query(MemoryQuery(namespace=name))) == 1
    memory = backend.get_metrics()["memory"]
    assert memory["namespaces_cached"] == 2 and memory["full_loads"] == 3
    assert len(await backend.query(MemoryQuery(namespace="a"))) == 1  # loaded again
    assert backend.get_metrics()["memory"]["full_loads"] == 4


async def test_two_backends_see_each_others_changes(mem_factory: Factory) -> None:
    writer = await mem_factory(reclaim_interval=0)
    reader = await mem_factory(reclaim_interval=0)
    await writer.add_batch([entry(i) for i in range(20)])
    q = np.asarray(entry(7).embedding)

    async def top() -> list[str]:
        return [r.id for r in await reader.query(MemoryQuery(embedding=q, limit=3))]

    assert (await top())[0] == "m7"
    loads = reader.get_metrics()["memory"]["full_loads"]
    await writer.add(MemoryEntry(id="new", content="closest", embedding=q * 2))
    assert set((await top())[:2]) == {"new", "m7"}  # an add, seen in the next query
    await writer.update("new", embedding=-q)
    assert "new" not in await top()  # an update
    await writer.update("new", embedding=q)
    assert "new" in (await top())[:2]
    await writer.delete("new")
    assert (await top())[0] == "m7"  # a delete
    await writer.add(MemoryEntry(id="brief", content="soon gone", embedding=q), ttl=0.3)
    assert "brief" in (await top())[:2]

    async def expired() -> bool:
        return "brief" not in await top()  # an expiry

    await poll(expired)
    memory = reader.get_metrics()["memory"]
    assert memory["full_loads"] == loads  # each change was patched in, not reloaded
    assert memory["changes_applied"] >= 4
    got = await reader.query(MemoryQuery(embedding=q, limit=1))
    assert got[0].version == 8 and got[0].content == "memory number 7"


async def test_a_reader_far_behind_reloads(mem_factory: Factory) -> None:
    writer = await mem_factory(change_log_length=2)
    reader = await mem_factory(change_log_length=2)
    await writer.add(entry(0))
    assert len(await reader.query(MemoryQuery(limit=10))) == 1
    for i in range(1, 6):
        await writer.add(entry(i))
    await writer.delete("m0")
    found = await reader.query(MemoryQuery(limit=10))
    assert {r.id for r in found} == {f"m{i}" for i in range(1, 6)}
    assert reader.get_metrics()["memory"]["full_loads"] == 2


async def test_metrics_health_and_context_manager(mem_factory: Factory, prefix: str) -> None:
    backend = await mem_factory()
    await backend.add(entry(1))
    await backend.query(MemoryQuery(limit=1))
    metrics = backend.get_metrics()
    assert metrics["total_operations"] >= 3 and metrics["success_rate"] == 1.0
    assert metrics["avg_latency_ms"] >= 0 and metrics["memory"]["queries"] == 1
    health = backend.get_health_status()
    assert health["state"] == "closed" and health["connected"] is True
    async with RedisBackendV2(config=backend.config, key_prefix=prefix.rstrip(":")) as other:
        assert await other.get("m1") is not None


async def test_recall_at_10_is_one_on_10k_vectors(
    mem_factory: Factory, request: pytest.FixtureRequest
) -> None:
    if "server" not in request.node.name:
        pytest.skip("the engine and the stored bytes are the same on every store: recall is "
                    "shown on the standalone server, the rest of the contract on all three")
    backend = await mem_factory()
    rng = np.random.default_rng(2024)
    n, dim = 10_000, 384
    mat = rng.standard_normal((n, dim)).astype(np.float32)
    importance = rng.random(n)
    await backend.add_batch(
        [MemoryEntry(id=f"v{i}", content=f"vector {i}", embedding=mat[i],
                     importance=float(importance[i]), tags=("even",) if i % 2 == 0 else ())
         for i in range(n)]
    )  # fmt: skip
    reader = await mem_factory()  # loads the namespace from Redis, as another process would
    unit = mat / np.linalg.norm(mat, axis=1, keepdims=True)
    for trial in range(5):
        q = rng.standard_normal(dim).astype(np.float32)
        sims = unit @ (q / np.linalg.norm(q))
        truth = [f"v{i}" for i in np.argsort(-sims)[:10]]
        got = [r.id for r in await reader.query(MemoryQuery(embedding=q, limit=10))]
        assert got == truth, trial
        keep = (importance.astype(np.float32) >= np.float32(0.5)) & (np.arange(n) % 2 == 0)
        masked = np.where(keep, sims, -np.inf)
        truth = [f"v{i}" for i in np.argsort(-masked)[:10]]
        query = MemoryQuery(embedding=q, limit=10, min_importance=0.5, tags=["even"])
        assert [r.id for r in await reader.query(query)] == truth, trial
