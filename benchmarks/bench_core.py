"""Core API figures against a real local redis-server, as ratios, with their spread over runs.

    python benchmarks/bench_core.py                 # private redis-server, 5 runs
    python benchmarks/bench_core.py --runs 7
    python benchmarks/bench_core.py --url redis://localhost:6379/0
    python benchmarks/bench_core.py --quick         # a smoke run (the test suite uses it)
    python benchmarks/bench_core.py --placement shared   # server and benchmark on one CPU

Each figure compares two ways of doing the same work. Within a run, the two sides alternate in
small blocks (100 calls, the order flipping from block to block), so that the noise of a shared
machine hits both alike; a run's ratio is the median over its rounds of (toolkit throughput /
baseline throughput): higher is better for the toolkit. The script repeats that ``--runs``
times and prints, for each figure, the median and the range (lowest to highest) of the runs'
ratios, never a single best run:

1. setter / getter of a small dict vs raw redis-py SET / GET of the same serialized bytes, for
   the default wire format and for msgpack (the raw GET decodes nothing);
2. batch_get of 1,000 small dicts vs raw MGET + the toolkit's own decoder; batch_set vs 1,000
   raw SETs of the same bytes in one pipeline, for both formats;
3. AsyncRedisToolkit with 50 concurrent tasks vs RedisToolkit from one thread (same workload);
4. setter+getter with retry + circuit breaker + metrics on (the default) vs all of them off.

The header names the machine (cores, load average), the redis-server, redis-py and hiredis
versions, Python, the wire format, where the processes ran and the command that reproduces the
figures. With a private server the processes run on different CPUs by default
(``--placement split``, like a server on another host): left to the kernel, a two-core machine
puts them on one core in some runs and on two in others, and a sync round trip then costs
~32 us or ~115 us, which moved the async figure between 1.5x and 5.5x from run to run
(benchmarks/_server.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import _server  # benchmarks/_server.py, beside this script
import redis
import redis.asyncio
from _server import PLACEMENTS, server_url

from redis_toolkit import (
    AsyncRedisToolkit,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkit,
    async_pool_manager,
)
from redis_toolkit.exceptions import ValidationError
from redis_toolkit.serialization import get_serializer

BLOCK = 100  # calls per alternating block


def small_dict(i: int) -> dict[str, object]:
    return {"id": i, "name": f"user-{i}", "score": i * 1.5, "tags": ["a", "b"], "active": True}


def wire_formats() -> tuple[str, list[str]]:
    """The default format and the formats to measure (default first, then msgpack)."""
    default = RedisOptions().serializer
    names = [default]
    # "json" is 0.4's JSON format under its current name; older builds call it "legacy-json".
    for choices in (("json", "legacy-json"), ("msgpack",)):
        for name in choices:
            try:
                get_serializer(name)
            except ValidationError:
                continue
            if name not in names:
                names.append(name)
            break
    return default, names


@dataclass
class Figure:
    label: str
    target: float | None
    runs: list[float] = field(default_factory=list)

    def line(self) -> str:
        med = statistics.median(self.runs)
        low, high = min(self.runs), max(self.runs)
        target = f">= {self.target:.2f}x" if self.target is not None else "-"
        every = ""
        if self.target is not None:
            met = sum(r >= self.target for r in self.runs)
            every = f"  met in {met}/{len(self.runs)} runs"
        each = " ".join(f"{r:.2f}" for r in self.runs)
        return (
            f"{self.label:<52} ratio median {med:5.2f}x  range {low:.2f}-{high:.2f}  "
            f"(target {target}{every})  runs: {each}"
        )


def interleaved(
    toolkit: Callable[[list[str]], object],
    baseline: Callable[[list[str]], object],
    keys: list[str],
    rounds: int,
) -> float:
    """Median over rounds of baseline time / toolkit time, alternating blocks of BLOCK keys."""
    blocks = [keys[i : i + BLOCK] for i in range(0, len(keys), BLOCK)]
    ratios = []
    for _ in range(rounds):
        tk_total = base_total = 0.0
        for n, block in enumerate(blocks):
            order = ((toolkit, True), (baseline, False))
            for fn, is_tk in order if n % 2 else order[::-1]:
                start = time.perf_counter()
                fn(block)
                elapsed = time.perf_counter() - start
                if is_tk:
                    tk_total += elapsed
                else:
                    base_total += elapsed
        ratios.append(base_total / tk_total)
    return statistics.median(ratios)


def paired(toolkit: Callable[[], object], baseline: Callable[[], object], rounds: int) -> float:
    """Median over rounds of baseline time / toolkit time, the order flipping every round."""
    ratios = []
    for n in range(rounds):
        times = {}
        for name, fn in (
            (("tk", toolkit), ("base", baseline))
            if n % 2
            else (("base", baseline), ("tk", toolkit))
        ):
            start = time.perf_counter()
            fn()
            times[name] = time.perf_counter() - start
        ratios.append(times["base"] / times["tk"])
    return statistics.median(ratios)


def bench_single(url: str, fmt: str, rounds: int, ops: int) -> tuple[float, float]:
    options = RedisOptions(is_logger_info=False, serializer=fmt)
    toolkit = RedisToolkit(config=RedisConnectionConfig(url=url), options=options)
    raw = redis.Redis.from_url(url)
    value = small_dict(1)
    data = get_serializer(fmt).dumps(value)
    keys = [f"bench:single:{fmt}:{i}" for i in range(ops)]

    def tk_set(block: list[str]) -> None:
        for k in block:
            toolkit.setter(k, value)

    def raw_set(block: list[str]) -> None:
        for k in block:
            raw.set(k, data)

    def tk_get(block: list[str]) -> None:
        for k in block:
            toolkit.getter(k)

    def raw_get(block: list[str]) -> None:
        for k in block:
            raw.get(k)

    tk_set(keys), raw_set(keys), tk_get(keys), raw_get(keys)  # warm up
    sets = interleaved(tk_set, raw_set, keys, rounds)
    gets = interleaved(tk_get, raw_get, keys, rounds)
    raw.delete(*keys)
    toolkit.close()
    raw.close()
    return sets, gets


def bench_batch(url: str, fmt: str, rounds: int, size: int) -> tuple[float, float]:
    options = RedisOptions(is_logger_info=False, serializer=fmt)
    toolkit = RedisToolkit(config=RedisConnectionConfig(url=url), options=options)
    raw = redis.Redis.from_url(url)
    serializer = get_serializer(fmt)
    mapping = {f"bench:batch:{i}": small_dict(i) for i in range(size)}
    encoded = {k: serializer.dumps(v) for k, v in mapping.items()}
    keys = list(mapping)
    decode = serializer.loads

    def raw_pipelined_sets() -> None:
        pipe = raw.pipeline(transaction=False)
        for k, v in encoded.items():
            pipe.set(k, v)
        pipe.execute()

    def raw_mget_same_decoder() -> None:
        [decode(v) for v in raw.mget(keys)]

    toolkit.batch_set(mapping), raw_pipelined_sets(), toolkit.batch_get(keys)  # warm up
    # A batch takes a few milliseconds: three times the rounds, for as steady a median.
    sets = paired(lambda: toolkit.batch_set(mapping), raw_pipelined_sets, 3 * rounds)
    gets = paired(lambda: toolkit.batch_get(keys), raw_mget_same_decoder, 3 * rounds)
    raw.delete(*keys)
    toolkit.close()
    raw.close()
    return gets, sets


def bench_concurrency(url: str, fmt: str, rounds: int, tasks: int, per_task: int) -> float:
    options = RedisOptions(is_logger_info=False, serializer=fmt)
    config = RedisConnectionConfig(url=url)
    sync_toolkit = RedisToolkit(config=config, options=options)

    def sync_work() -> None:
        for n in range(tasks):
            for i in range(per_task):
                key = f"bench:conc:{n}:{i % 20}"
                sync_toolkit.setter(key, small_dict(i))
                sync_toolkit.getter(key)

    async def async_work(toolkit: AsyncRedisToolkit, count: int) -> None:
        async def worker(n: int) -> None:
            for i in range(count):
                key = f"bench:conc:{n}:{i % 20}"
                await toolkit.setter(key, small_dict(i))
                await toolkit.getter(key)

        await asyncio.gather(*(worker(n) for n in range(tasks)))

    async def main() -> float:
        toolkit = AsyncRedisToolkit(config=config, options=options)
        await async_work(toolkit, 2)
        ratios = []
        for n in range(rounds):
            times = {}
            for side in ("async", "sync") if n % 2 else ("sync", "async"):
                start = time.perf_counter()
                if side == "async":
                    await async_work(toolkit, per_task)
                else:
                    sync_work()
                times[side] = time.perf_counter() - start
            ratios.append(times["sync"] / times["async"])
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()
        return statistics.median(ratios)

    ratio = asyncio.run(main())
    sync_toolkit.close()
    return ratio


def bench_resilience(url: str, fmt: str, rounds: int, ops: int) -> float:
    options = RedisOptions(is_logger_info=False, serializer=fmt)
    on = RedisToolkit(config=RedisConnectionConfig(url=url), options=options)
    off = RedisToolkit(
        config=RedisConnectionConfig(
            url=url,
            circuit_breaker_enabled=False,
            max_retries=0,
            metrics_enabled=False,
            health_check_enabled=False,
        ),
        options=options,
    )
    value = small_dict(1)
    keys = [f"bench:res:{i}" for i in range(ops)]

    def work(toolkit: RedisToolkit) -> Callable[[list[str]], None]:
        def run(block: list[str]) -> None:
            for k in block:
                toolkit.setter(k, value)
                toolkit.getter(k)

        return run

    work(on)(keys), work(off)(keys)
    ratio = interleaved(work(on), work(off), keys, rounds)
    on.batch_delete(keys)
    on.close()
    off.close()
    return ratio


def machine(url: str) -> str:
    try:
        import hiredis

        hiredis_version = hiredis.__version__
    except ImportError:
        hiredis_version = "not installed"
    client = redis.Redis.from_url(url)
    version = client.info("server")["redis_version"]
    client.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, load average {load} (1/5/15 min), "
        f"{platform.system()} {platform.machine()}; redis-server {version}; "
        f"redis-py {redis.__version__}, hiredis {hiredis_version}; "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run every figure ``--runs`` times; print median and range of each; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="server to use (default: a private redis-server)")
    parser.add_argument("--runs", type=int, help="repetitions of every figure (default 5)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument(
        "--placement",
        choices=PLACEMENTS,
        default="split",
        help="where redis-server and the benchmark run (default split: on different CPUs)",
    )
    args = parser.parse_args(argv)
    rounds, ops, size, per_task = (2, 200, 100, 4) if args.quick else (5, 1000, 1000, 20)
    runs = args.runs if args.runs is not None else 1 if args.quick else 5
    default, formats = wire_formats()
    command = "python benchmarks/bench_core.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )

    figures: dict[str, Figure] = {}

    def add(key: str, label: str, target: float | None, ratio: float) -> None:
        figures.setdefault(key, Figure(label, target)).runs.append(ratio)

    with server_url(args.url, args.placement) as url:
        print(f"redis_toolkit core benchmark: {runs} runs x {rounds} rounds per figure")
        print(machine(url))
        print(_server.placement_note)
        print(f"wire format: {default} (the default); setter, getter and batches also with "
              f"{', '.join(f for f in formats if f != default) or '-'}")  # fmt: skip
        print(f"command: {command.strip()}")
        started = time.perf_counter()
        for _ in range(runs):
            for fmt in formats:
                sets, gets = bench_single(url, fmt, rounds, ops)
                add(f"set-{fmt}", f"setter vs raw SET, same bytes ({fmt})", 0.92, sets)
                add(f"get-{fmt}", f"getter vs raw GET, same bytes ({fmt})", 0.92, gets)
            for fmt in formats:
                gets, sets = bench_batch(url, fmt, rounds, size)
                add(f"bget-{fmt}", f"batch_get vs MGET + same decoder ({size}, {fmt})", 1.0, gets)
                add(f"bset-{fmt}", f"batch_set vs pipelined SETs ({size}, {fmt})", 2.5, sets)
            conc = bench_concurrency(url, default, 3 * rounds, 50, per_task)
            add("async", "AsyncRedisToolkit 50 tasks vs RedisToolkit 1 thread", 3.0, conc)
            res = bench_resilience(url, default, rounds, ops)
            add("res", "retry+breaker+metrics on vs off (setter+getter)", 0.97, res)
        for figure in figures.values():
            print(figure.line())
        print(f"({time.perf_counter() - started:.0f} s; load average now "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
