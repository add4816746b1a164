"""Bounded decoding: hostile payloads decode or fail within a fixed budget of memory and time.

Each case measures the decoder's own peak allocation (tracemalloc) against the payload size and
its wall-clock time. The budgets are generous (several times what the code needs here, so a
loaded machine never fails them) yet far below what an unbounded decoder takes: before the
bounds, an empty-array flood took about 65 bytes of memory per payload byte (and 5 s a MiB
under tracemalloc), and 20,000 colliding big-int keys took 18 s.
"""

from __future__ import annotations

import decimal
import struct
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from redis_toolkit.exceptions import SerializationError
from redis_toolkit.serialization import MARKER, deserialize_value, serialize_value
from redis_toolkit.serialization._common import (
    CONTAINER_ALLOWANCE,
    CONTAINER_BYTES,
    MAX_HASH_COLLISIONS,
)

MIB = 1024 * 1024
#: Python's int hash is ``n mod (2**61 - 1)``, not randomized: these all hash alike.
P = 2**61 - 1
#: Memory budget: bytes of Python objects per payload byte (documented bound: about 32).
MEMORY_FACTOR = 40
#: Time budget for any case below, in seconds (each needs well under 1 s here).
SECONDS = 10.0


def measure(payload: bytes) -> tuple[Any, int, float]:
    """Decode ``payload``; return (value or the SerializationError, peak bytes, seconds)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result: Any = deserialize_value(payload)
    except SerializationError as e:
        result = e
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak, elapsed


def within_budget(payload: bytes) -> Any:
    result, peak, elapsed = measure(payload)
    assert peak <= MEMORY_FACTOR * len(payload) + 4 * MIB, (
        f"decoding {len(payload)} bytes allocated {peak} bytes at peak"
    )
    assert elapsed <= SECONDS, f"decoding {len(payload)} bytes took {elapsed:.1f} s"
    return result


def array32(count: int, items: bytes) -> bytes:
    return MARKER + b"\xdd" + struct.pack(">I", count) + items


# ------------------------------------------------------------------------------------------
# Floods of empty containers
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("what", "item"), [("lists", b"\x90"), ("maps", b"\x80")])
def test_empty_container_flood_is_refused_within_budget(what: str, item: bytes) -> None:
    n = MIB
    result = within_budget(array32(n, item * n))
    assert isinstance(result, SerializationError), f"a flood of {n} empty {what} was accepted"
    assert "containers" in str(result) and "flood" in str(result)


def test_flood_of_json_containers_stays_within_budget() -> None:
    n = MIB // 6
    payload = b'{"__type__": "list", "__data__": [' + b",".join([b"[]"] * n) + b"]}"
    result = within_budget(payload)
    assert type(result) is list and len(result) == n


def test_containers_up_to_the_bound_are_accepted() -> None:
    # Dense but legitimate: pairs of small ints take exactly CONTAINER_BYTES bytes each.
    pairs = [[i % 100, 1] for i in range(200_000)]
    payload = serialize_value(pairs, format="msgpack")
    assert within_budget(payload) == pairs
    # One container more than the bound allows, in the smallest payload that can hold them.
    n = 300_000
    budget = (n + 5) // CONTAINER_BYTES + CONTAINER_ALLOWANCE
    assert n > budget
    assert isinstance(within_budget(array32(n, b"\x90" * n)), SerializationError)


# ------------------------------------------------------------------------------------------
# Keys whose hashes collide (quadratic dict and set building)
# ------------------------------------------------------------------------------------------


def big_ints(n: int) -> list[int]:
    return [i * P * 2**64 for i in range(1, n + 1)]  # beyond 64 bits: the big-int extension


def decimals(n: int) -> list[decimal.Decimal]:
    return [decimal.Decimal(i * P) for i in range(1, n + 1)]


def uuids(n: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=i * P) for i in range(1, n + 1)]


def complexes(n: int) -> list[complex]:
    # hash(complex(a, b)) == hash(a) + 1000003 * hash(b): every one of these hashes to 7.
    return [complex(float(7 - 1000003 * k), float(k)) for k in range(1, n + 1)]


def tuples(n: int) -> list[tuple[int, int]]:
    return [(i * P * 2**64, 0) for i in range(1, n + 1)]


KEYS: list[Callable[[int], list[Any]]] = [big_ints, decimals, uuids, complexes, tuples]


def _map_payload(keys: list[Any]) -> bytes:
    # A msgpack map of n entries is its header followed by key, value, key, value...; the
    # items are packed as a list [k0, 0, k1, 0, ...] and its array header swapped for a map's.
    flat: list[Any] = []
    for key in keys:
        flat += [key, 0]
    body = serialize_value(flat, format="msgpack")[len(MARKER) :]
    return MARKER + b"\xdf" + struct.pack(">I", len(keys)) + _skip_array_header(body)


def _set_payload(keys: list[Any]) -> bytes:
    # A set is [set tag, *items]: pack [tag, *keys] by packing the list and inserting the tag.
    body = serialize_value(list(keys), format="msgpack")[len(MARKER) :]
    items = _skip_array_header(body)
    return MARKER + b"\xdd" + struct.pack(">I", len(keys) + 1) + b"\xc7\x00\x03" + items


def _skip_array_header(body: bytes) -> bytes:
    first = body[0]
    if 0x90 <= first <= 0x9F:
        return body[1:]
    if first == 0xDC:
        return body[3:]
    assert first == 0xDD
    return body[5:]


@pytest.mark.parametrize("keys", KEYS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", ["map", "set"])
def test_colliding_keys_are_refused_within_budget(
    keys: Callable[[int], list[Any]], shape: str
) -> None:
    values = keys(5000)
    assert len({hash(v) for v in values[:100]}) == 1  # they really collide
    payload = _map_payload(values) if shape == "map" else _set_payload(values)
    result = within_budget(payload)
    assert isinstance(result, SerializationError), f"{shape} of colliding {keys.__name__}"
    assert "hash" in str(result)


def test_colliding_keys_in_many_small_maps_stay_linear() -> None:
    # Under the per-map limit each, but many maps: the cost per key stays bounded.
    chunk = big_ints(MAX_HASH_COLLISIONS)
    maps = [dict.fromkeys(chunk, 0) for _ in range(300)]
    payload = serialize_value(maps, format="msgpack")
    result = within_budget(payload)
    assert result == maps


DISTINCT: list[Callable[[int], list[Any]]] = [
    lambda n: [i * 2**70 + i for i in range(n)],
    lambda n: [decimal.Decimal(i) / 7 for i in range(n)],
    lambda n: [uuid.UUID(int=i * 2**100 + i) for i in range(n)],
    lambda n: [(i, str(i)) for i in range(n)],
]


@pytest.mark.parametrize("keys", DISTINCT, ids=["big_ints", "decimals", "uuids", "tuples"])
def test_many_distinct_extension_keys_still_decode(keys: Callable[[int], list[Any]]) -> None:
    # Past the 1,024 extensions after which maps are built from checked pairs: same value.
    items = keys(3000)
    value = {"map": dict.fromkeys(items, 1), "set": set(items), "list": items}
    assert within_budget(serialize_value(value, format="msgpack")) == value


# ------------------------------------------------------------------------------------------
# Declared lengths far beyond the payload
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b"\xdd\xff\xff\xff\xff",  # array32 of 2**32 - 1 items
        b"\xdf\xff\xff\xff\xff",  # map32 of 2**32 - 1 pairs
        b"\xdb\xff\xff\xff\xff",  # str32 of 4 GiB
        b"\xc6\xff\xff\xff\xff",  # bin32 of 4 GiB
        b"\xc9\xff\xff\xff\xff\x0d",  # ext32 (ndarray) of 4 GiB
        b"\xdd\x00\x0f\xff\xff" * 60,  # nested arrays, each declaring a million items
    ],
    ids=["array32", "map32", "str32", "bin32", "ext32", "nested"],
)
def test_huge_declared_lengths_fail_within_budget(header: bytes) -> None:
    payload = MARKER + header + b"\xc0" * MIB
    result = within_budget(payload)
    assert isinstance(result, SerializationError)


# ------------------------------------------------------------------------------------------
# Depth: exactly max_depth beside a sibling container is accepted, one more is not
# ------------------------------------------------------------------------------------------


def nested(depth: int) -> list[Any]:
    """``depth`` lists inside each other; the outermost also holds a sibling container."""
    value: list[Any] = [1]
    for _ in range(depth - 2):
        value = [value]
    return [value, {"sibling": [2, 3]}]


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
@pytest.mark.parametrize("max_depth", [3, 64])
def test_value_exactly_max_depth_deep_beside_a_sibling_is_accepted(
    fmt: str, max_depth: int
) -> None:
    from redis_toolkit.serialization import get_serializer

    serializer = get_serializer(fmt, max_depth=max_depth)
    value = nested(max_depth)
    assert serializer.loads(serializer.dumps(value)) == value
    too_deep = [nested(max_depth)]
    with pytest.raises(SerializationError, match="max_depth"):
        serializer.dumps(too_deep)
    other = get_serializer(fmt, max_depth=max_depth + 1).dumps(too_deep)
    with pytest.raises(SerializationError, match="max_depth"):
        serializer.loads(other)
