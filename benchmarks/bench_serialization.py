#!/usr/bin/env python
"""Serialization benchmark: the toolkit msgpack format against the redis-toolkit 0.4 JSON format.

Both formats are measured in the same run, on the same machine, with ``time.perf_counter``:

* ``toolkit msgpack``: ``get_serializer("msgpack")`` (``serializer="msgpack"``, an explicit
  choice: only 0.5 reads it).
* ``0.4 JSON``: ``get_serializer("json")`` (the default writer, ``serializer="json"``; alias
  ``"legacy-json"``) writing and reading the 0.4 format (its bytes are
  identical to what redis-toolkit 0.4 wrote; the writer also type-checks the value, which 0.4 did
  not, so the dict case also shows 0.4's bare ``json.dumps`` call, and ratios use the faster
  of the two).
* ``plain json``: ``json.dumps``/``json.loads`` of the same data, for reference only.

Usage (from the repository root)::

    python benchmarks/bench_serialization.py            # full run, about a minute
    python benchmarks/bench_serialization.py --quick    # smoke run, a few seconds
    python benchmarks/bench_serialization.py --check    # exit 1 if a target is missed

Figures are medians over several repeats (best-of shown in brackets). Nothing here asserts on
time unless ``--check`` is given.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgpack  # noqa: E402
import numpy as np  # noqa: E402

from redis_toolkit.serialization import get_serializer  # noqa: E402

ARRAY_TARGET = 100.0  # round trip at least this many times faster than the 0.4 format
ARRAY_OVERHEAD_TARGET = 64  # payload at most arr.nbytes + this many bytes
DICT_TARGET = 2.0  # round trip at least this many times faster than the 0.4 format


class Timing(NamedTuple):
    """Seconds per call: median and best over the repeats."""

    median: float
    best: float


def measure(fn: Callable[[], Any], *, min_time: float, repeats: int) -> Timing:
    """Time ``fn``: find a loop count lasting ``min_time``, then run it ``repeats`` times."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number >= 1 << 20:
            break
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.1))
    samples = [elapsed / number]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return Timing(statistics.median(samples), min(samples))


def fmt_time(seconds: float) -> str:
    """Format seconds with a unit that keeps three significant digits."""
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def make_array() -> np.ndarray[Any, Any]:
    """The array case: 256 x 384 float32 (e.g. a batch of embeddings), seeded."""
    return np.random.default_rng(42).standard_normal((256, 384), dtype=np.float32)


def make_document() -> dict[str, Any]:
    """The dict case: about 1 KB of realistic nested data (strings, ints, floats, lists, dicts)."""
    return {
        "id": 48213,
        "type": "order",
        "customer": {
            "name": "Zoë Müller",
            "email": "zoe.mueller@example.com",
            "tier": "gold",
            "age": 37,
            "score": 98.25,
            "tags": ["vip", "beta", "eu-west-1"],
            "active": True,
        },
        "lines": [
            {"sku": f"SKU-{i:04d}", "qty": i + 1, "price": round(9.99 + 3.5 * i, 2), "note": "blue"}
            for i in range(5)
        ],
        "totals": {"net": 172.45, "tax": 32.77, "gross": 205.22, "currency": "EUR"},
        "shipping": {
            "method": "express",
            "address": {"street": "Hauptstraße 5", "city": "Berlin", "zip": "10115"},
            "eta_days": 2,
        },
        "history": [1.5, 2.25, -7.125, 1e-3, 12345.678, 0.1],
        "flags": [True, False, True],
        "created": "2025-03-14T09:26:53Z",
        "comment": None,
        "description": "Two large blue widgets, gift-wrapped; leave at the front desk if absent.",
    }


def plain_json_array_roundtrip(arr: np.ndarray[Any, Any]) -> Any:
    """Reference: the array as a JSON list and back to float32."""
    return np.asarray(json.loads(json.dumps(arr.tolist())), dtype=np.float32)


def bytes_aware_default(obj: Any) -> Any:
    """The JSON ``default`` hook 0.4 used (nested bytes as base64 wrappers)."""
    if isinstance(obj, (bytes, bytearray)):
        name = "bytes" if isinstance(obj, bytes) else "bytearray"
        return {"__type__": name, "__data__": base64.b64encode(obj).decode("ascii")}
    raise TypeError(type(obj).__name__)


def row(label: str, dumps: Timing, loads: Timing, size: int, extra: str = "") -> str:
    """One table line: dumps, loads, round trip (median, best in brackets) and payload size."""
    rt_median = dumps.median + loads.median
    rt_best = dumps.best + loads.best
    return (
        f"  {label:<31}{fmt_time(dumps.median):>10}{fmt_time(loads.median):>10}"
        f"{fmt_time(rt_median):>12}  ({fmt_time(rt_best):>8}){size:>12,} B{extra}"
    )


HEADER = (
    f"  {'format':<31}{'dumps':>10}{'loads':>10}{'round trip':>12}  ({'best':>8}){'payload':>14}"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures; return 0 (or 1 with --check and a missed target)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few iterations (smoke test)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(list(argv) if argv is not None else None)
    min_time, repeats = (0.005, 2) if args.quick else (0.4, 7)

    toolkit = get_serializer("msgpack")
    legacy = get_serializer("json")  # the default writer

    def timed(fn: Callable[[], Any]) -> Timing:
        return measure(fn, min_time=min_time, repeats=repeats)

    print(
        "redis_toolkit serialization benchmark"
        + (" (--quick: not meaningful)" if args.quick else "")
    )
    print(
        f"python {platform.python_version()}, msgpack {'.'.join(map(str, msgpack.version))}, "
        f"numpy {np.__version__}, {platform.machine()}; median of {repeats} repeats"
    )
    ok = True

    # ---- case 1: float32 array --------------------------------------------------------------
    arr = make_array()
    new_payload = toolkit.dumps(arr)
    old_payload = legacy.dumps(arr)
    back = toolkit.loads(new_payload)
    back_old = legacy.loads(old_payload)
    if not (
        back.dtype == arr.dtype
        and np.array_equal(back, arr)
        and back.flags.writeable
        and back_old.dtype == arr.dtype
        and np.array_equal(back_old, arr)
    ):
        print("ERROR: array round trip is wrong")
        return 1
    plain = json.dumps(arr.tolist())
    print()
    print(f"float32 array {arr.shape[0]}x{arr.shape[1]} (arr.nbytes = {arr.nbytes:,} bytes)")
    print(HEADER)
    a_new = (timed(lambda: toolkit.dumps(arr)), timed(lambda: toolkit.loads(new_payload)))
    a_old = (timed(lambda: legacy.dumps(arr)), timed(lambda: legacy.loads(old_payload)))
    a_json = (
        timed(lambda: json.dumps(arr.tolist())),
        timed(lambda: np.asarray(json.loads(plain), dtype=np.float32)),
    )
    print(row("msgpack (opt-in)", *a_new, len(new_payload)))
    print(row("json (default, 0.4)", *a_old, len(old_payload)))
    print(row("plain json (reference)", *a_json, len(plain.encode())))
    speedup = (a_old[0].median + a_old[1].median) / (a_new[0].median + a_new[1].median)
    speedup_best = (a_old[0].best + a_old[1].best) / (a_new[0].best + a_new[1].best)
    overhead = len(new_payload) - arr.nbytes
    met = speedup >= ARRAY_TARGET
    ok = ok and met
    print(
        f"  round trip vs 0.4 format: {speedup:,.0f}x faster (best-of: {speedup_best:,.0f}x); "
        f"target >= {ARRAY_TARGET:.0f}x: {'met' if met else 'NOT met'}"
    )
    met = overhead <= ARRAY_OVERHEAD_TARGET
    ok = ok and met
    print(
        f"  payload: arr.nbytes + {overhead} bytes ({len(old_payload) / len(new_payload):.1f}x "
        f"smaller than 0.4's {len(old_payload):,} B); target <= +{ARRAY_OVERHEAD_TARGET}: "
        f"{'met' if met else 'NOT met'}"
    )

    # ---- case 2: ~1 KB nested dict ------------------------------------------------------------
    doc = make_document()
    new_payload = toolkit.dumps(doc)
    old_payload = legacy.dumps(doc)
    wrapper = {"__type__": "dict", "__data__": doc}
    bare_payload = json.dumps(wrapper, ensure_ascii=False, default=bytes_aware_default).encode()
    if toolkit.loads(new_payload) != doc or legacy.loads(old_payload) != doc:
        print("ERROR: dict round trip is wrong")
        return 1
    if bare_payload != old_payload:
        print("ERROR: legacy writer and 0.4's json.dumps call disagree")
        return 1
    plain_doc = json.dumps(doc)
    print()
    print(f"nested dict ({len(plain_doc.encode()):,} bytes as json.dumps)")
    print(HEADER)
    d_new = (timed(lambda: toolkit.dumps(doc)), timed(lambda: toolkit.loads(new_payload)))
    d_old = (timed(lambda: legacy.dumps(doc)), timed(lambda: legacy.loads(old_payload)))
    d_bare = (
        timed(
            lambda: json.dumps(wrapper, ensure_ascii=False, default=bytes_aware_default).encode(
                "utf-8"
            )
        ),
        d_old[1],
    )
    d_json = (timed(lambda: json.dumps(doc)), timed(lambda: json.loads(plain_doc)))
    print(row("msgpack (opt-in)", *d_new, len(new_payload)))
    print(row("json (default, 0.4)", *d_old, len(old_payload)))
    print(row("0.4 JSON, bare 0.4 dumps call", *d_bare, len(bare_payload)))
    print(row("plain json (reference)", *d_json, len(plain_doc.encode())))
    new_rt = d_new[0].median + d_new[1].median
    old_rt = min(d_old[0].median, d_bare[0].median) + d_old[1].median
    speedup = old_rt / new_rt
    speedup_best = (min(d_old[0].best, d_bare[0].best) + d_old[1].best) / (
        d_new[0].best + d_new[1].best
    )
    met = speedup >= DICT_TARGET
    ok = ok and met
    json_rt = d_json[0].median + d_json[1].median
    print(
        f"  round trip vs 0.4 format (its faster writer): {speedup:.1f}x faster "
        f"(best-of: {speedup_best:.1f}x); target >= {DICT_TARGET:.0f}x: "
        f"{'met' if met else 'NOT met'}"
    )
    print(f"  round trip vs plain json.dumps/loads: {json_rt / new_rt:.1f}x faster")

    if args.check and not ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
