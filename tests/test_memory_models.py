"""The pure memory modules: model validation, settings, codec and the exact engine's math."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from redis_toolkit.exceptions import RedisToolkitError, ValidationError
from redis_toolkit.memory import (
    DEFAULT_TTLS,
    ExactEngine,
    KeyLayout,
    MemoryEntry,
    MemoryQuery,
    MemoryResult,
    MemorySettings,
    MemoryType,
    MemoryValidationError,
    Row,
)
from redis_toolkit.memory.codec import decode_entry, encode_entry
from redis_toolkit.memory.models import validate_entry, validate_query

ROOT = Path(__file__).resolve().parent.parent


def row(i: int, vec: list[float] | None, **kw: object) -> Row:
    fields: dict[str, object] = dict(
        memory_type=MemoryType.LONG_TERM, importance=0.5, created_at=1000.0, expires_at=None,
        tags=(), content=f"c{i}",
    )  # fmt: skip
    fields.update(kw)
    v = None if vec is None else np.asarray(vec, dtype=np.float32)
    return Row(f"r{i}", v, **fields)  # type: ignore[arg-type]


def test_errors_are_toolkit_validation_errors() -> None:
    assert issubclass(MemoryValidationError, ValidationError)
    assert issubclass(MemoryValidationError, RedisToolkitError)
    assert issubclass(MemoryValidationError, ValueError)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"content": ""}, "content must be a non-empty string"),
        ({"importance": -0.1}, "importance must be a number in 0..1"),
        ({"importance": True}, "importance"),
        ({"embedding": [1.0, float("inf")]}, "NaN or infinity"),
        ({"embedding": [[1.0, 2.0]]}, "1-d vector"),
        ({"embedding": ["a", "b"]}, "not a sequence of numbers"),
        ({"embedding": [1.0, 2.0, 3.0]}, "dimension 3 does not match the namespace's 2"),
        ({"id": "has space"}, "whitespace"),
        ({"namespace": "a{b}"}, "braces"),
        ({"tags": ("ok", "")}, "tag"),
        ({"created_at": float("nan")}, "created_at"),
    ],
)
def test_entry_validation_names_entry_and_cause(fields: dict[str, object], words: str) -> None:
    fields.setdefault("content", "x")
    fields.setdefault("id", "e1")
    entry = MemoryEntry(**fields)  # type: ignore[arg-type]
    with pytest.raises(MemoryValidationError, match=words):
        validate_entry(entry, 2)


def test_entry_defaults_and_repr() -> None:
    e = MemoryEntry(content="hi", memory_type="episodic", tags="one", embedding=[1.0] * 384)
    assert e.memory_type is MemoryType.EPISODIC and e.tags == ("one",)
    assert len(e.id) == 32 and e.updated_at == e.created_at and e.version == 0
    assert "<384 floats>" in repr(e)


def test_query_validation() -> None:
    with pytest.raises(MemoryValidationError, match="limit"):
        validate_query(MemoryQuery(limit=0), None)
    with pytest.raises(MemoryValidationError, match="weight"):
        validate_query(MemoryQuery(recency_weight=-1), None)
    with pytest.raises(MemoryValidationError, match="memory_types"):
        validate_query(MemoryQuery(memory_types=["decade"]), None)
    q = MemoryQuery(memory_types="working", tags="a")
    validate_query(q, None)
    assert q.memory_types == [MemoryType.WORKING] and q.tags == ["a"]


def test_settings() -> None:
    s = MemorySettings(ttls={"long_term": None, MemoryType.WORKING: 60})
    assert s.ttl_for(MemoryType.LONG_TERM) is None and s.ttl_for(MemoryType.WORKING) == 60
    assert s.ttl_for(MemoryType.SHORT_TERM) == DEFAULT_TTLS[MemoryType.SHORT_TERM] == 4 * 3600
    bad_settings = [
        {"metric": "manhattan"}, {"key_prefix": "a b"}, {"dimension": 0},
        {"ttls": {"weekly": 1}}, {"ttls": {"working": -1}}, {"change_log_length": 0},
    ]  # fmt: skip
    for bad in bad_settings:
        with pytest.raises(MemoryValidationError):
            MemorySettings(**bad)  # type: ignore[arg-type]


def test_codec_round_trip_and_layout() -> None:
    lay = KeyLayout("mem", "alice")
    assert lay.entry("x") == "mem:{alice}:e:x" and lay.ids == "mem:{alice}:ids"
    e = MemoryEntry(id="x", content="héllo", importance=0.25, embedding=[0.5, -1.5],
                    metadata={"k": ["v", 1]}, tags=("a", "b"), namespace="alice",
                    expires_at=time.time() + 60)  # fmt: skip
    vec = validate_entry(e, None)
    fields = encode_entry(e, vec)
    assert fields["embedding"] == np.asarray([0.5, -1.5], dtype="<f4").tobytes()
    stored = {k.encode(): (v if isinstance(v, bytes) else v.encode()) for k, v in fields.items()}
    stored[b"version"] = b"7"
    back = decode_entry("x", "alice", stored)
    assert back.content == "héllo" and back.version == 7
    assert back.embedding.dtype == np.float32 and back.embedding.tolist() == [0.5, -1.5]
    assert back.metadata == {"k": ["v", 1]} and back.tags == ("a", "b")
    assert back.expires_at == pytest.approx(e.expires_at)


def test_entries_compare_by_value_with_array_embeddings() -> None:
    a = MemoryEntry(id="x", content="c", embedding=np.array([1.0, 2.0], dtype=np.float32))
    b = MemoryEntry(id="x", content="c", embedding=[1.0, 2.0], created_at=a.created_at)
    assert a == b
    b.embedding = [1.0, 2.5]
    assert a != b
    assert a != MemoryEntry(id="x", content="c", created_at=a.created_at)


def test_result_reads_like_its_entry() -> None:
    e = MemoryEntry(id="x", content="c", importance=0.3, metadata={"a": 1})
    r = MemoryResult(e, score=0.9, similarity=0.8, recency=0.5)
    assert (r.id, r.content, r.importance, r.metadata, r.score) == ("x", "c", 0.3, {"a": 1}, 0.9)


@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
def test_engine_ranks_like_brute_force(metric: str) -> None:
    rng = np.random.default_rng(5)
    mat = rng.standard_normal((300, 16)).astype(np.float32)
    engine = ExactEngine(metric)
    engine.upsert([row(i, list(mat[i])) for i in range(300)])
    q = rng.standard_normal(16).astype(np.float32)
    if metric == "cosine":
        sims = (mat @ q) / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q))
    elif metric == "dot":
        sims = mat @ q
    else:
        sims = 1 / (1 + np.linalg.norm(mat - q, axis=1))
    hits = engine.search(MemoryQuery(limit=7), q, 2000.0)
    assert [h.id for h in hits] == [f"r{i}" for i in np.argsort(-sims)[:7]]
    assert hits[0].similarity == pytest.approx(float(sims.max()), rel=1e-4)


def test_engine_remove_keeps_rows_consistent() -> None:
    engine = ExactEngine("dot")
    engine.upsert([row(i, [float(i), 1.0]) for i in range(10)])
    assert engine.remove(["r0", "r5", "nope"]) == 2
    assert len(engine) == 8 and "r9" in engine and "r0" not in engine
    hits = engine.search(MemoryQuery(limit=3), np.array([1.0, 0.0], dtype=np.float32), 0.0)
    assert [h.id for h in hits] == ["r9", "r8", "r7"] and hits[0].score == 9.0
    engine.upsert([row(9, [-1.0, 0.0])])  # replace in place
    assert len(engine) == 8
    hits = engine.search(MemoryQuery(limit=1), np.array([1.0, 0.0], dtype=np.float32), 0.0)
    assert hits[0].id == "r8"


def test_engine_scoring_formula_and_filters() -> None:
    engine = ExactEngine("cosine")
    now = 100_000.0
    engine.upsert([
        row(1, [1.0, 0.0], importance=0.2, created_at=now),
        row(2, [0.0, 1.0], importance=1.0, created_at=now - 86400, tags=("t",)),
        row(3, None, importance=0.9, created_at=now, memory_type=MemoryType.WORKING),
        row(4, [1.0, 0.0], expires_at=now - 1),  # expired
    ])  # fmt: skip
    q = np.array([1.0, 0.0], dtype=np.float32)
    query = MemoryQuery(limit=10, similarity_weight=1.0, importance_weight=0.5, recency_weight=2.0)
    hits = {h.id: h for h in engine.search(query, q, now)}
    assert set(hits) == {"r1", "r2"}  # r3 has no embedding, r4 expired
    assert hits["r1"].score == pytest.approx(1.0 + 0.5 * 0.2 + 2.0 * 1.0, rel=1e-6)
    assert hits["r2"].score == pytest.approx(0.0 + 0.5 * 1.0 + 2.0 * 0.5, rel=1e-6)
    assert hits["r2"].recency == pytest.approx(0.5)
    no_vec = engine.search(MemoryQuery(limit=10), None, now)
    assert [h.id for h in no_vec] == ["r2", "r3", "r1"]  # by importance
    assert engine.count(MemoryQuery(memory_types=[MemoryType.WORKING]), now) == 1
    assert engine.count(MemoryQuery(tags=["t"]), now) == 1
    assert engine.expired(now) == ["r4"]


def test_engine_memory_is_close_to_raw_float32() -> None:
    engine = ExactEngine("cosine")
    rng = np.random.default_rng(1)
    for start in range(0, 5000, 250):  # grown by appends, the worst case
        engine.upsert([row(i, list(rng.standard_normal(384))) for i in range(start, start + 250)])
    assert engine.nbytes() / (5000 * 384 * 4) < 1.2


@pytest.mark.parametrize(
    "first", ["redis_toolkit.memory", "redis_toolkit._async.memory", "redis_toolkit._sync.memory"]
)
def test_no_import_cycle(first: str) -> None:
    code = (
        f"import {first}; import redis_toolkit.memory as m; "
        "assert m.RedisBackendV2 is m.AsyncRedisMemoryBackend; "
        "assert m.RedisMemoryBackend.__module__ == 'redis_toolkit._sync.memory'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
