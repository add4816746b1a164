"""Memory backend figures, as ratios measured in one run against a real local server.

    python benchmarks/bench_memory.py [--url redis://...] [--quick]

1. warm query p50 (exact top-10 of random 384-d queries, entries read back) over 10k and 100k
   entries vs a bare numpy cosine + argpartition over the same matrix (target <= 2x);
2. add_batch entries/s vs raw pipelined HSET of the same field bytes (target >= 0.5x);
3. cache bytes vs the raw float32 size of the embeddings (target <= 1.2x);
4. time for a reader to take in one write by another backend in a 100k namespace (< 10 ms).

Sync backend; the reader and writer are separate backends (separate caches) on one server.
Timings are medians of interleaved repetitions; the machine's noise is in the ranges.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _server import server_url  # benchmarks/_server.py, beside this script

from redis_toolkit import RedisConnectionConfig, RedisMemoryBackend
from redis_toolkit.memory import MemoryEntry, MemoryQuery
from redis_toolkit.memory.codec import KeyLayout, encode_entry

DIM = 384


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def make_entries(n: int, rng: np.random.Generator, tag: str) -> list[MemoryEntry]:
    mat = rng.standard_normal((n, DIM)).astype(np.float32)
    return [
        MemoryEntry(id=f"{tag}{i}", content=f"memory {tag} {i}", embedding=mat[i],
                    importance=float(i % 10) / 10)
        for i in range(n)
    ]  # fmt: skip


def backend(url: str, prefix: str) -> RedisMemoryBackend:
    config = RedisConnectionConfig(url=url, socket_timeout=60.0)
    b = RedisMemoryBackend(config=config, key_prefix=prefix, dimension=DIM)
    b.initialize()
    return b


def bare_topk(unit: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    """The baseline: cosine over a normalized matrix, argpartition, sort the k."""
    sims = unit @ (q / np.linalg.norm(q))
    top = np.argpartition(-sims, k - 1)[:k]
    return top[np.argsort(-sims[top])]


def interleaved(
    a: Callable[[], Any], b: Callable[[], Any], reps: int
) -> tuple[float, float, float]:
    """p50 of ``a``, p50 of ``b``, and the median of the paired ratios a/b."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(reps):
        t = time.perf_counter()
        a()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        b()
        tb.append(time.perf_counter() - t)
    return p50(ta), p50(tb), p50([x / y for x, y in zip(ta, tb)])


def query_figures(url: str, n: int, reps: int, rng: np.random.Generator) -> dict[str, float]:
    prefix = f"bench-mem-{n}"
    writer = backend(url, prefix)
    writer.clear()
    entries = make_entries(n, rng, "e")
    t = time.perf_counter()
    writer.add_batch(entries)
    add_seconds = time.perf_counter() - t
    del entries
    reader = backend(url, prefix)
    t = time.perf_counter()
    reader.query(MemoryQuery(limit=1))  # loads the namespace
    load_seconds = time.perf_counter() - t
    store = reader._stores["default"]
    unit = store.engine.matrix()  # the same (normalized) matrix the backend searches
    queries = rng.standard_normal((reps, DIM)).astype(np.float32)
    it = iter(range(10**9))

    def ours() -> None:
        reader.query(MemoryQuery(embedding=queries[next(it) % reps], limit=10))

    it2 = iter(range(10**9))

    def bare() -> None:
        bare_topk(unit, queries[next(it2) % reps])

    q_ours, q_bare, paired = interleaved(ours, bare, reps)
    # Same answers (the backend's search is exact).
    got = [r.id for r in reader.query(MemoryQuery(embedding=queries[0], limit=10))]
    want = [store.engine.ids()[i] for i in bare_topk(unit, queries[0])]
    assert got == want, "backend and baseline disagree"
    raw_bytes = n * DIM * 4
    cache_ratio = store.nbytes() / raw_bytes
    refresh: list[float] = []
    for i in range(max(5, reps // 5)):
        writer.add(MemoryEntry(id=f"foreign{i}", content="one foreign write",
                               embedding=queries[i]))  # fmt: skip
        t = time.perf_counter()
        reader._fresh("default")
        refresh.append(time.perf_counter() - t)
    assert f"foreign{i}" in store.engine
    writer.clear()
    writer.close()
    reader.close()
    return {
        "query_ours_ms": q_ours * 1e3,
        "query_bare_ms": q_bare * 1e3,
        "query_ratio": q_ours / q_bare,
        "query_paired": paired,
        "cache_ratio": cache_ratio,
        "refresh_ms": p50(refresh) * 1e3,
        "add_per_s": n / add_seconds,
        "load_s": load_seconds,
    }


def add_figures(url: str, n: int, rng: np.random.Generator) -> dict[str, float]:
    """add_batch vs raw pipelined HSET of the same field bytes, same sizes, interleaved."""
    ours_b = backend(url, "bench-mem-add")
    raw = ours_b.toolkit.client
    entries = make_entries(n, rng, "a")
    lay = KeyLayout("bench-mem-raw", "default")
    encoded = [(lay.entry(e.id), encode_entry(e, np.asarray(e.embedding))) for e in entries]
    ours_t: list[float] = []
    raw_t: list[float] = []
    for _ in range(3):
        ours_b.clear()
        t = time.perf_counter()
        ours_b.add_batch(entries)
        ours_t.append(time.perf_counter() - t)
        raw.delete(*[k for k, _ in encoded[:1]])
        t = time.perf_counter()
        for start in range(0, n, 500):
            pipe = raw.pipeline(transaction=False)
            for key, fields in encoded[start : start + 500]:
                pipe.hset(key, mapping=fields)
            pipe.execute()
        raw_t.append(time.perf_counter() - t)
        for start in range(0, n, 1000):
            raw.delete(*[k for k, _ in encoded[start : start + 1000]])
    ours_b.clear()
    ours_b.close()
    return {"add_ours": n / p50(ours_t), "add_raw": n / p50(raw_t)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", help="server to use (default: a private redis-server)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    sizes = [2_000, 5_000] if args.quick else [10_000, 100_000]
    reps = 20 if args.quick else 300
    rng = np.random.default_rng(7)
    with server_url(args.url) as url:
        print(f"memory backend benchmark, {DIM}-d float32, server {url}")
        add = add_figures(url, sizes[0], rng)
        print(
            f"add_batch {sizes[0]:>7,} entries: {add['add_ours']:,.0f}/s vs raw pipelined HSET "
            f"{add['add_raw']:,.0f}/s  ratio {add['add_ours'] / add['add_raw']:.2f}x "
            "(target >= 0.5x)"
        )
        for n in sizes:
            f = query_figures(url, n, reps, rng)
            print(
                f"n={n:>7,}: warm query p50 {f['query_ours_ms']:.2f} ms vs bare numpy "
                f"{f['query_bare_ms']:.2f} ms  ratio {f['query_ratio']:.2f}x (target <= 2x; "
                f"median of paired ratios {f['query_paired']:.2f}x); "
                f"cache/raw float32 {f['cache_ratio']:.3f}x (<= 1.2x); refresh after one "
                f"foreign write {f['refresh_ms']:.2f} ms (< 10 ms); add_batch "
                f"{f['add_per_s']:,.0f}/s; full load {f['load_s']:.2f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
