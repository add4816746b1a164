# Generated from tests/_async/test_values.py by tools/run_unasync.py. DO NOT EDIT.
"""Values, TTLs and batches of the core API, on the real server and the embedded backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from redis_toolkit import (
    RedisToolkit,
    BatchWriteError,
    RedisOptions,
    SerializationError,
    ValidationError,
    pool_manager,
)
from redis_toolkit._compat import Runtime
from redis_toolkit.serialization import serialize_value
from tests.servers import RedisServer

# The value and batch tests run on the standalone server, the embedded backend and the cluster.
pytestmark = pytest.mark.cluster_too


def test_setter_nx_and_xx(toolkit: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}k"
    assert toolkit.setter(key, 1, xx=True) is False
    assert toolkit.exists(key) is False
    assert toolkit.setter(key, 1, nx=True) is True
    assert toolkit.setter(key, 2, nx=True) is False
    assert toolkit.getter(key) == 1
    assert toolkit.setter(key, 3, xx=True) is True
    assert toolkit.getter(key) == 3
    with pytest.raises(ValidationError, match="nx and xx"):
        toolkit.setter(key, 4, nx=True, xx=True)


def test_ttl_set_read_extend_and_remove(toolkit: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}ttl"
    assert toolkit.get_ttl(key) is None
    toolkit.setter(key, "v")
    assert toolkit.get_ttl(key) == -1
    assert toolkit.setter_with_ttl(key, "v", 100) is True
    left = toolkit.get_ttl(key)
    assert left is not None and 98 < left <= 100
    assert toolkit.expire(key, timedelta(seconds=500)) is True
    left = toolkit.get_ttl(key)
    assert left is not None and 498 < left <= 500
    assert toolkit.persist(key) is True
    assert toolkit.get_ttl(key) == -1
    assert toolkit.expire(f"{prefix}absent", 10) is False


def test_plain_write_clears_ttl_and_keep_ttl_keeps_it(
    toolkit: RedisToolkit, prefix: str
) -> None:
    key = f"{prefix}keep"
    toolkit.setter(key, 1, ttl=100)
    toolkit.setter(key, 2, keep_ttl=True)
    left = toolkit.get_ttl(key)
    assert left is not None and left > 98
    assert toolkit.getter(key) == 2
    toolkit.setter(key, 3)
    assert toolkit.get_ttl(key) == -1


def test_fractional_ttl_expires(toolkit_server: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}short"
    toolkit_server.setter(key, "soon gone", ttl=0.05)
    deadline = Runtime.monotonic() + 5
    while toolkit_server.exists(key):
        assert Runtime.monotonic() < deadline, "key did not expire"
        Runtime.sleep(0.01)
    assert toolkit_server.getter(key, default="gone") == "gone"


@pytest.mark.parametrize("ttl", [0, -1, "10", True, float("inf"), float("nan")])
def test_bad_ttl_is_refused_before_writing(
    toolkit: RedisToolkit, prefix: str, ttl: object
) -> None:
    with pytest.raises(ValidationError, match="ttl"):
        toolkit.setter(f"{prefix}bad", 1, ttl=ttl)  # type: ignore[arg-type]
    assert toolkit.exists(f"{prefix}bad") is False


MSGPACK = RedisOptions(serializer="msgpack")


def test_typed_values_round_trip(toolkit: RedisToolkit, prefix: str) -> None:
    values = {
        "int": 0,
        "big": 2**100,
        "float": -0.0,
        "str": "héllo \x00 🎉",
        "bytes": b"\x00\xff",
        "list": [1, (2, 3), {"x": {4}}],
        "array": np.arange(12, dtype=np.float32).reshape(3, 4),
    }
    for name, value in values.items():
        toolkit.setter(f"{prefix}{name}", value, options=MSGPACK)
    got = toolkit.batch_get([f"{prefix}{name}" for name in values])
    for name, value in values.items():
        back = got[f"{prefix}{name}"]
        assert type(back) is type(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        else:
            assert back == value


def test_default_writer_is_0_4_json_and_msgpack_is_a_choice(
    toolkit: RedisToolkit, prefix: str
) -> None:
    value = {"a": [1, 2.5, "x", None], "b": (1, 2)}
    toolkit.setter(f"{prefix}default", value)
    raw = toolkit.client.get(f"{prefix}default")
    assert raw == b'{"__type__": "dict", "__data__": {"a": [1, 2.5, "x", null], "b": [1, 2]}}'
    assert toolkit.getter(f"{prefix}default") == {"a": [1, 2.5, "x", None], "b": [1, 2]}
    toolkit.batch_set({f"{prefix}batch": 7})
    assert toolkit.client.get(f"{prefix}batch") == b'{"__type__": "int", "__data__": 7}'
    with pytest.raises(SerializationError, match='serializer="msgpack" stores datetime') as err:
        toolkit.setter(f"{prefix}when", datetime(2024, 5, 1, 12, 0))
    assert f"{prefix}when" in str(err.value)
    assert toolkit.exists(f"{prefix}when") is False
    toolkit.setter(f"{prefix}when", datetime(2024, 5, 1, 12, 0), options=MSGPACK)
    assert (toolkit.client.get(f"{prefix}when")).startswith(b"\xc1RT\x01")
    assert toolkit.getter(f"{prefix}when") == datetime(2024, 5, 1, 12, 0)


def test_msgpack_chosen_per_toolkit(redis_server: RedisServer, prefix: str) -> None:
    options = RedisOptions(serializer="msgpack")
    with RedisToolkit.from_url(redis_server.url, options=options) as toolkit:
        toolkit.setter(f"{prefix}set", {1, 2})
        assert (toolkit.client.get(f"{prefix}set")).startswith(b"\xc1RT\x01")
        assert toolkit.getter(f"{prefix}set") == {1, 2}
        legacy = RedisOptions(serializer="legacy-json")  # 0.5.0's name of "json"
        toolkit.setter(f"{prefix}old", 1, options=legacy)
        assert toolkit.client.get(f"{prefix}old") == b'{"__type__": "int", "__data__": 1}'
        toolkit.batch_delete([f"{prefix}set", f"{prefix}old"])


def test_value_over_max_size_is_refused(toolkit: RedisToolkit, prefix: str) -> None:
    small = RedisOptions(max_value_size=100)
    with pytest.raises(ValidationError, match="max_value_size"):
        toolkit.setter(f"{prefix}big", "x" * 200, options=small)
    assert toolkit.exists(f"{prefix}big") is False


def test_unsupported_value_names_key_and_writes_nothing(
    toolkit: RedisToolkit, prefix: str
) -> None:
    with pytest.raises(SerializationError, match=f"{prefix}obj"):
        toolkit.setter(f"{prefix}obj", object())
    assert toolkit.exists(f"{prefix}obj") is False


def test_undecodable_value_names_its_key(toolkit: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}corrupt"
    good = toolkit.setter(key, {"a": 1}, options=MSGPACK)
    assert good
    raw = toolkit.client.get(key)
    toolkit.client.set(key, raw[:-2])  # truncated payload behind a valid marker
    with pytest.raises(SerializationError, match=key):
        toolkit.getter(key)
    with pytest.raises(SerializationError, match=key):
        toolkit.batch_get([key])


def test_raw_values_from_other_clients_read_as_0_4_did(
    toolkit: RedisToolkit, prefix: str
) -> None:
    toolkit.client.set(f"{prefix}text", "plain text")
    toolkit.client.incr(f"{prefix}counter")
    toolkit.client.incr(f"{prefix}counter")
    assert toolkit.getter(f"{prefix}text") == "plain text"
    assert toolkit.getter(f"{prefix}counter") == 2


def test_batch_set_get_delete(toolkit: RedisToolkit, prefix: str) -> None:
    mapping = {f"{prefix}{i}": {"i": i, "t": (i,)} for i in range(2500)}
    assert toolkit.batch_set(mapping, options=MSGPACK) is None
    names = [f"{prefix}missing", *reversed(list(mapping))]
    got = toolkit.batch_get(names)
    assert list(got) == names
    assert got[f"{prefix}missing"] is None
    assert all(got[k] == v for k, v in mapping.items())
    assert toolkit.batch_delete(names) == 2500
    assert toolkit.exists(f"{prefix}0") is False


def test_batch_set_with_ttl(toolkit: RedisToolkit, prefix: str) -> None:
    mapping = {f"{prefix}{i}": i for i in range(1500)}
    toolkit.batch_set(mapping, ttl=60)
    for key in (f"{prefix}0", f"{prefix}1499"):
        left = toolkit.get_ttl(key)
        assert left is not None and 58 < left <= 60
    assert (toolkit.batch_get([f"{prefix}7"]))[f"{prefix}7"] == 7


def test_batch_with_a_bad_item_writes_nothing(
    toolkit: RedisToolkit, prefix: str
) -> None:
    mapping = {f"{prefix}a": 1, f"{prefix}b": object(), f"{prefix}c": 3}
    with pytest.raises(SerializationError, match=f"{prefix}b"):
        toolkit.batch_set(mapping)
    with pytest.raises(ValidationError, match="max_key_length"):
        toolkit.batch_set({f"{prefix}a": 1, "k" * 1000: 2})
    assert toolkit.exists(f"{prefix}a") is False


def test_batch_checks_name_the_key_on_either_path(
    toolkit: RedisToolkit, prefix: str
) -> None:
    # ASCII str keys are checked a list at a time, others one by one: same bytes, same errors.
    mapping = {f"{prefix}a": {"x": [1, 2]}, f"{prefix}é": "non-ASCII key", f"{prefix}b": b"\x00"}
    toolkit.batch_set(mapping)
    for name, value in mapping.items():
        assert toolkit.client.get(name) == serialize_value(value)
    assert toolkit.batch_get(list(mapping)) == mapping
    small = RedisOptions(max_value_size=100)
    for keys in ([f"{prefix}n1", f"{prefix}big", f"{prefix}n2"], [f"{prefix}n1", f"{prefix}big€"]):
        batch = {name: "x" * 200 if "big" in name else 1 for name in keys}
        with pytest.raises(ValidationError, match="big.*max_value_size") as info:
            toolkit.batch_set(batch, options=small)
        assert "big" in (info.value.key or "")
        assert toolkit.exists(f"{prefix}n1") is False
    # A value that cannot be decoded, among good ones: batch_get names its key, as getter does.
    corrupt = b'{"__type__": "numpy", "__dtype__": "<f8", "__shape__": [99999], "__data__": []}'
    toolkit.client.set(f"{prefix}bad", corrupt)
    with pytest.raises(SerializationError, match=f"{prefix}bad"):
        toolkit.getter(f"{prefix}bad")
    with pytest.raises(SerializationError, match=f"{prefix}bad"):
        toolkit.batch_get([f"{prefix}a", f"{prefix}bad", f"{prefix}b"])


def test_batch_over_total_size_is_refused(toolkit: RedisToolkit, prefix: str) -> None:
    opts = RedisOptions(max_batch_size=1000)
    with pytest.raises(ValidationError, match="max_batch_size"):
        toolkit.batch_set({f"{prefix}{i}": "x" * 100 for i in range(20)}, options=opts)
    assert toolkit.exists(f"{prefix}0") is False


def test_batch_get_refuses_a_lone_string(toolkit: RedisToolkit) -> None:
    with pytest.raises(ValidationError, match="list of keys"):
        toolkit.batch_get("oops")  # type: ignore[arg-type]


def test_legacy_serializer_writes_0_4_format(
    toolkit: RedisToolkit, prefix: str
) -> None:
    legacy = RedisOptions(serializer="legacy-json")
    toolkit.setter(f"{prefix}old", {"a": 1}, options=legacy)
    raw = toolkit.client.get(f"{prefix}old")
    assert raw == b'{"__type__": "dict", "__data__": {"a": 1}}'
    assert toolkit.getter(f"{prefix}old") == {"a": 1}


def test_batch_write_failure_reports_unwritten_keys(server_factory, prefix: str) -> None:
    server = server_factory()
    toolkit = RedisToolkit.from_url(server.url, socket_timeout=2.0)
    try:
        toolkit.setter(f"{prefix}warm", 1)
        server.kill()
        mapping = {f"{prefix}{i}": i for i in range(10)}
        with pytest.raises(BatchWriteError) as info:
            toolkit.batch_set(mapping)
        assert info.value.failed_keys == list(mapping)
        assert info.value.written_keys == []
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_bytes_keys_work_as_in_0_4(toolkit: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}raw".encode()
    toolkit.setter(key, {"via": "bytes"})  # type: ignore[arg-type]
    scanned = [k for k in toolkit.client.scan_iter(match=f"{prefix}raw")]
    assert scanned == [key]
    assert toolkit.getter(scanned[0]) == {"via": "bytes"}
    assert toolkit.batch_get(scanned) == {key: {"via": "bytes"}}
    assert toolkit.deleter(scanned[0]) is True


def test_long_keys_written_by_others_can_still_be_read(
    toolkit: RedisToolkit, prefix: str
) -> None:
    key = prefix + "k" * 600  # over max_key_length: the toolkit would not write it
    toolkit.client.set(key, "from another client")
    assert toolkit.getter(key) == "from another client"
    assert toolkit.deleter(key) is True


def test_batch_set_takes_any_mapping(toolkit: RedisToolkit, prefix: str) -> None:
    from types import MappingProxyType

    toolkit.batch_set(MappingProxyType({f"{prefix}m": 1}))
    assert toolkit.getter(f"{prefix}m") == 1
