"""Fuzz tests: whatever bytes are stored, decoding returns a value or raises SerializationError.

Random bytes, random bytes behind the format marker, and valid payloads of many kinds (both
formats) mutated by bit flips, truncation, extension, insertion, deletion and splicing. Nothing
may escape but SerializationError (no MemoryError, RecursionError, msgpack, numpy, json,
binascii or ValueError), and every SerializationError carries its original exception.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import uuid
import zoneinfo
from typing import Any

import msgpack
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from redis_toolkit import serialization as ser
from redis_toolkit.exceptions import SerializationError
from redis_toolkit.serialization import MARKER, deserialize_value
from redis_toolkit.serialization import serialize_value as _serialize_value


# This file tests the typed msgpack format, an explicit choice since the default writer became
# 0.4's JSON format (tests/test_serialization_legacy.py): its writer is named in every call.
def serialize_value(value: Any, *, format: str = "msgpack") -> bytes:
    """The public serialize_value with the msgpack format unless another is named."""
    return _serialize_value(value, format=format)

SEED_VALUES: list[Any] = [
    None,
    True,
    0,
    1,
    -(2**63),
    2**64,
    -(2**200),
    1.5,
    float("nan"),
    -0.0,
    1 + 2j,
    "",
    "h\u00e9llo \U0001f600\x00",
    b"\x00\xff" * 8,
    bytearray(b"abc"),
    [1, [2, [3, [4]]]],
    (1, (2, ("x", b"y"))),
    {"a": 1, "b": [1.5, None], "c": {"d": b"e"}},
    {1: "x", (1, 2): [3], frozenset({4}): {5: 6}, b"k": None},
    {(1, 2), ("a",)},
    frozenset({1, 2, 3}),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5), "EST")),
    dt.date(2020, 2, 29),
    dt.time(1, 2, 3, 4, tzinfo=dt.timezone.utc),
    dt.timedelta(days=-1, microseconds=1),
    decimal.Decimal("-1.2300E+5"),
    decimal.Decimal("NaN"),
    uuid.UUID(int=12345),
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
    np.array(7.5),
    np.zeros((0, 3), dtype=np.uint8),
    np.array([True, False]),
    np.array(["ab", "c"]),
    np.array([1, 2], dtype="datetime64[s]"),
    np.float32(1.5),
    np.int64(-2),
    np.bool_(False),
    [{"emb": np.ones((2, 2), dtype=np.float64), "ids": (1, 2)}, {bytearray(b"x").hex(): 1}],
]

LEGACY_VALUES: list[Any] = [
    None,
    True,
    0,
    42,
    2**70,
    float("nan"),
    "h\u00e9llo",
    b"\x00\xff",
    bytearray(b"xy"),
    {"a": 1, "b": [1, 2.5, None, True], "c": {"d": b"hi", "e": bytearray(b"\x01")}},
    [1, "two", [3, (4, 5)], {"k": b""}],
    (1, "a", (2, 3), [b"z"]),
    np.array([[1.5, 2.0], [3.25, -4.0]], dtype=np.float32),
    np.arange(6, dtype=np.int64).reshape(2, 3),
    np.array(["ab", "c"]),
    np.array(3.5),
]

RAW_VALUES: list[bytes] = [
    b"hello",
    b"42",
    b"-17",
    b"3.25",
    b'{"a": [1, 2, {"b": null}]}',
    b'{"x": {"__type__": "bytes", "__data__": "aGk="}}',
    b"\xff\xfe\xfd",
    b"__NONE__",
]


def _corpus() -> list[bytes]:
    corpus = [serialize_value(v) for v in SEED_VALUES]
    corpus += [serialize_value(v, format="legacy-json") for v in LEGACY_VALUES]
    corpus += RAW_VALUES
    return corpus


CORPUS = _corpus()


def check_decode(data: bytes) -> None:
    """Decode ``data``: a value or SerializationError (with its cause) are the only outcomes."""
    try:
        deserialize_value(data)
    except SerializationError as e:
        assert e.original_exception is not None, f"no original_exception for {data[:40]!r}"
        # Resource exhaustion must be prevented by the limits, never merely wrapped.
        assert not isinstance(e.original_exception, (MemoryError, RecursionError)), repr(e)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three random mutations of ``data`` (keeping the marker most of the time)."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(8)
        start = len(MARKER) if data.startswith(MARKER) and rng.random() < 0.9 else 0
        start = min(start, len(buf))
        if op == 0 and len(buf) > start:  # bit flip
            i = rng.randrange(start, len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and len(buf) > start:  # random byte
            buf[rng.randrange(start, len(buf))] = rng.randrange(256)
        elif op == 2:  # truncation
            del buf[rng.randrange(start, len(buf) + 1) :]
        elif op == 3:  # extension with random bytes
            buf += rng.randbytes(rng.randint(1, 16))
        elif op == 4:  # insertion
            i = rng.randrange(start, len(buf) + 1)
            buf[i:i] = rng.randbytes(rng.randint(1, 4))
        elif op == 5 and len(buf) > start:  # deletion
            i = rng.randrange(start, len(buf))
            del buf[i : i + rng.randint(1, 4)]
        elif op == 6:  # splice with another payload
            other = rng.choice(CORPUS)
            i = rng.randrange(start, len(buf) + 1)
            j = rng.randrange(len(other) + 1)
            buf[i:] = other[j:]
        else:  # interesting bytes: length headers at their maximum, container and ext heads
            i = rng.randrange(start, len(buf) + 1)
            buf[i:i] = rng.choice(
                [
                    b"\xdd\xff\xff\xff\xff",
                    b"\xdb\xff\xff\xff\xff",
                    b"\xc9\xff\xff\xff\xff\x0d",
                    b"\x91" * 40,
                    b"\xc7\x00\x02",
                    b"\xc7\x00\x03",
                    b"\xd4\x0d\x00",
                    b"\xc1",
                    b"\xff\xff",
                    b'{"__type__": "numpy"',
                    b"[[[[",
                    b"\x00",
                ]
            )
    return bytes(buf)


def test_corpus_decodes() -> None:
    for payload in CORPUS:
        check_decode(payload)


def test_seeded_mutation_loop() -> None:
    rng = random.Random(20250314)
    for _ in range(4000):
        check_decode(mutate(rng, rng.choice(CORPUS)))


def test_seeded_random_bytes_loop() -> None:
    rng = random.Random(7)
    for _ in range(1500):
        body = rng.randbytes(rng.randint(0, 64))
        check_decode(body)
        check_decode(MARKER + body)


def test_every_truncation_of_every_payload() -> None:
    for payload in CORPUS:
        for cut in range(len(payload)):
            check_decode(payload[:cut])


def test_structured_garbage_behind_marker() -> None:
    # Valid msgpack built around extension ids (ours, users', msgpack's own) with random data.
    rng = random.Random(99)
    for _ in range(1500):
        code = rng.choice([*range(0, 16), 63, 64, 100, 127, -1, -2, -128])
        data = rng.randbytes(rng.choice([0, 1, 4, 8, 12, rng.randint(0, 40)]))
        ext = b"\xc7" + bytes([len(data)]) + code.to_bytes(1, "big", signed=True) + data
        tag = b"\xc7\x00" + bytes([rng.choice([ser.EXT_TUPLE, ser.EXT_SET, 100])])
        shape = rng.choice([ext, b"\x91" + ext, b"\x81\xa1k" + ext, b"\x92" + tag + ext])
        check_decode(MARKER + shape)


@given(st.binary(max_size=200))
def test_hypothesis_random_bytes(data: bytes) -> None:
    check_decode(data)
    check_decode(MARKER + data)


@given(st.sampled_from(CORPUS), st.integers(min_value=0, max_value=2**32 - 1))
def test_hypothesis_mutated_payloads(payload: bytes, seed: int) -> None:
    check_decode(mutate(random.Random(seed), payload))


@given(
    st.sampled_from(["<f8", "<i4", "|b1", "<c16", "<U3", "|S2", "<M8[s]", "|O", ">f2", "", "x"]),
    st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=5),
    st.integers(min_value=-1, max_value=3),
    st.binary(max_size=64),
)
def test_hypothesis_array_headers(spec: str, shape: list[int], order: int, raw: bytes) -> None:
    header = msgpack.packb([spec, shape, order])
    data = len(header).to_bytes(2, "big") + header + raw
    check_decode(MARKER + msgpack.packb(msgpack.ExtType(ser.EXT_NDARRAY, data)))


@given(
    st.one_of(st.text(max_size=12), st.integers(), st.none(), st.lists(st.integers(), max_size=3)),
    st.one_of(st.lists(st.integers(min_value=-5, max_value=10**12), max_size=4), st.text()),
    st.recursive(
        st.one_of(st.integers(), st.floats(), st.text(max_size=3), st.none()),
        lambda c: st.lists(c, max_size=3),
        max_leaves=10,
    ),
)
def test_hypothesis_legacy_numpy_wrappers(dtype: Any, shape: Any, data: Any) -> None:
    import json

    wrapper = {"__type__": "numpy", "__dtype__": dtype, "__shape__": shape, "__data__": data}
    check_decode(json.dumps(wrapper).encode())
