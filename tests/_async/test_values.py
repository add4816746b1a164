"""Values, TTLs and batches of the core API, on the real server and the embedded backend."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    BatchWriteError,
    RedisOptions,
    SerializationError,
    ValidationError,
    async_pool_manager,
)
from redis_toolkit._compat import AsyncRuntime
from redis_toolkit.serialization import serialize_value
from tests.servers import RedisServer

# The value and batch tests run on the standalone server, the embedded backend and the cluster.
pytestmark = pytest.mark.cluster_too


async def test_setter_nx_and_xx(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}k"
    assert await atoolkit.setter(key, 1, xx=True) is False
    assert await atoolkit.exists(key) is False
    assert await atoolkit.setter(key, 1, nx=True) is True
    assert await atoolkit.setter(key, 2, nx=True) is False
    assert await atoolkit.getter(key) == 1
    assert await atoolkit.setter(key, 3, xx=True) is True
    assert await atoolkit.getter(key) == 3
    with pytest.raises(ValidationError, match="nx and xx"):
        await atoolkit.setter(key, 4, nx=True, xx=True)


async def test_ttl_set_read_extend_and_remove(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}ttl"
    assert await atoolkit.get_ttl(key) is None
    await atoolkit.setter(key, "v")
    assert await atoolkit.get_ttl(key) == -1
    assert await atoolkit.setter_with_ttl(key, "v", 100) is True
    left = await atoolkit.get_ttl(key)
    assert left is not None and 98 < left <= 100
    assert await atoolkit.expire(key, timedelta(seconds=500)) is True
    left = await atoolkit.get_ttl(key)
    assert left is not None and 498 < left <= 500
    assert await atoolkit.persist(key) is True
    assert await atoolkit.get_ttl(key) == -1
    assert await atoolkit.expire(f"{prefix}absent", 10) is False


async def test_plain_write_clears_ttl_and_keep_ttl_keeps_it(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    key = f"{prefix}keep"
    await atoolkit.setter(key, 1, ttl=100)
    await atoolkit.setter(key, 2, keep_ttl=True)
    left = await atoolkit.get_ttl(key)
    assert left is not None and left > 98
    assert await atoolkit.getter(key) == 2
    await atoolkit.setter(key, 3)
    assert await atoolkit.get_ttl(key) == -1


async def test_fractional_ttl_expires(atoolkit_server: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}short"
    await atoolkit_server.setter(key, "soon gone", ttl=0.05)
    deadline = AsyncRuntime.monotonic() + 5
    while await atoolkit_server.exists(key):
        assert AsyncRuntime.monotonic() < deadline, "key did not expire"
        await AsyncRuntime.sleep(0.01)
    assert await atoolkit_server.getter(key, default="gone") == "gone"


@pytest.mark.parametrize("ttl", [0, -1, "10", True, float("inf"), float("nan")])
async def test_bad_ttl_is_refused_before_writing(
    atoolkit: AsyncRedisToolkit, prefix: str, ttl: object
) -> None:
    with pytest.raises(ValidationError, match="ttl"):
        await atoolkit.setter(f"{prefix}bad", 1, ttl=ttl)  # type: ignore[arg-type]
    assert await atoolkit.exists(f"{prefix}bad") is False


MSGPACK = RedisOptions(serializer="msgpack")


async def test_typed_values_round_trip(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
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
        await atoolkit.setter(f"{prefix}{name}", value, options=MSGPACK)
    got = await atoolkit.batch_get([f"{prefix}{name}" for name in values])
    for name, value in values.items():
        back = got[f"{prefix}{name}"]
        assert type(back) is type(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        else:
            assert back == value


async def test_default_writer_is_0_4_json_and_msgpack_is_a_choice(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    value = {"a": [1, 2.5, "x", None], "b": (1, 2)}
    await atoolkit.setter(f"{prefix}default", value)
    raw = await atoolkit.client.get(f"{prefix}default")
    assert raw == b'{"__type__": "dict", "__data__": {"a": [1, 2.5, "x", null], "b": [1, 2]}}'
    assert await atoolkit.getter(f"{prefix}default") == {"a": [1, 2.5, "x", None], "b": [1, 2]}
    await atoolkit.batch_set({f"{prefix}batch": 7})
    assert await atoolkit.client.get(f"{prefix}batch") == b'{"__type__": "int", "__data__": 7}'
    with pytest.raises(SerializationError, match='serializer="msgpack" stores datetime') as err:
        await atoolkit.setter(f"{prefix}when", datetime(2024, 5, 1, 12, 0))
    assert f"{prefix}when" in str(err.value)
    assert await atoolkit.exists(f"{prefix}when") is False
    await atoolkit.setter(f"{prefix}when", datetime(2024, 5, 1, 12, 0), options=MSGPACK)
    assert (await atoolkit.client.get(f"{prefix}when")).startswith(b"\xc1RT\x01")
    assert await atoolkit.getter(f"{prefix}when") == datetime(2024, 5, 1, 12, 0)


async def test_msgpack_chosen_per_toolkit(redis_server: RedisServer, prefix: str) -> None:
    options = RedisOptions(serializer="msgpack")
    async with AsyncRedisToolkit.from_url(redis_server.url, options=options) as toolkit:
        await toolkit.setter(f"{prefix}set", {1, 2})
        assert (await toolkit.client.get(f"{prefix}set")).startswith(b"\xc1RT\x01")
        assert await toolkit.getter(f"{prefix}set") == {1, 2}
        legacy = RedisOptions(serializer="legacy-json")  # 0.5.0's name of "json"
        await toolkit.setter(f"{prefix}old", 1, options=legacy)
        assert await toolkit.client.get(f"{prefix}old") == b'{"__type__": "int", "__data__": 1}'
        await toolkit.batch_delete([f"{prefix}set", f"{prefix}old"])


async def test_value_over_max_size_is_refused(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    small = RedisOptions(max_value_size=100)
    with pytest.raises(ValidationError, match="max_value_size"):
        await atoolkit.setter(f"{prefix}big", "x" * 200, options=small)
    assert await atoolkit.exists(f"{prefix}big") is False


async def test_unsupported_value_names_key_and_writes_nothing(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    with pytest.raises(SerializationError, match=f"{prefix}obj"):
        await atoolkit.setter(f"{prefix}obj", object())
    assert await atoolkit.exists(f"{prefix}obj") is False


async def test_undecodable_value_names_its_key(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}corrupt"
    good = await atoolkit.setter(key, {"a": 1}, options=MSGPACK)
    assert good
    raw = await atoolkit.client.get(key)
    await atoolkit.client.set(key, raw[:-2])  # truncated payload behind a valid marker
    with pytest.raises(SerializationError, match=key):
        await atoolkit.getter(key)
    with pytest.raises(SerializationError, match=key):
        await atoolkit.batch_get([key])


async def test_raw_values_from_other_clients_read_as_0_4_did(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    await atoolkit.client.set(f"{prefix}text", "plain text")
    await atoolkit.client.incr(f"{prefix}counter")
    await atoolkit.client.incr(f"{prefix}counter")
    assert await atoolkit.getter(f"{prefix}text") == "plain text"
    assert await atoolkit.getter(f"{prefix}counter") == 2


async def test_batch_set_get_delete(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    mapping = {f"{prefix}{i}": {"i": i, "t": (i,)} for i in range(2500)}
    assert await atoolkit.batch_set(mapping, options=MSGPACK) is None
    names = [f"{prefix}missing", *reversed(list(mapping))]
    got = await atoolkit.batch_get(names)
    assert list(got) == names
    assert got[f"{prefix}missing"] is None
    assert all(got[k] == v for k, v in mapping.items())
    assert await atoolkit.batch_delete(names) == 2500
    assert await atoolkit.exists(f"{prefix}0") is False


async def test_batch_set_with_ttl(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    mapping = {f"{prefix}{i}": i for i in range(1500)}
    await atoolkit.batch_set(mapping, ttl=60)
    for key in (f"{prefix}0", f"{prefix}1499"):
        left = await atoolkit.get_ttl(key)
        assert left is not None and 58 < left <= 60
    assert (await atoolkit.batch_get([f"{prefix}7"]))[f"{prefix}7"] == 7


async def test_batch_with_a_bad_item_writes_nothing(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    mapping = {f"{prefix}a": 1, f"{prefix}b": object(), f"{prefix}c": 3}
    with pytest.raises(SerializationError, match=f"{prefix}b"):
        await atoolkit.batch_set(mapping)
    with pytest.raises(ValidationError, match="max_key_length"):
        await atoolkit.batch_set({f"{prefix}a": 1, "k" * 1000: 2})
    assert await atoolkit.exists(f"{prefix}a") is False


async def test_batch_checks_name_the_key_on_either_path(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    # ASCII str keys are checked a list at a time, others one by one: same bytes, same errors.
    mapping = {f"{prefix}a": {"x": [1, 2]}, f"{prefix}é": "non-ASCII key", f"{prefix}b": b"\x00"}
    await atoolkit.batch_set(mapping)
    for name, value in mapping.items():
        assert await atoolkit.client.get(name) == serialize_value(value)
    assert await atoolkit.batch_get(list(mapping)) == mapping
    small = RedisOptions(max_value_size=100)
    for keys in ([f"{prefix}n1", f"{prefix}big", f"{prefix}n2"], [f"{prefix}n1", f"{prefix}big€"]):
        batch = {name: "x" * 200 if "big" in name else 1 for name in keys}
        with pytest.raises(ValidationError, match="big.*max_value_size") as info:
            await atoolkit.batch_set(batch, options=small)
        assert "big" in (info.value.key or "")
        assert await atoolkit.exists(f"{prefix}n1") is False
    # A value that cannot be decoded, among good ones: batch_get names its key, as getter does.
    corrupt = b'{"__type__": "numpy", "__dtype__": "<f8", "__shape__": [99999], "__data__": []}'
    await atoolkit.client.set(f"{prefix}bad", corrupt)
    with pytest.raises(SerializationError, match=f"{prefix}bad"):
        await atoolkit.getter(f"{prefix}bad")
    with pytest.raises(SerializationError, match=f"{prefix}bad"):
        await atoolkit.batch_get([f"{prefix}a", f"{prefix}bad", f"{prefix}b"])


async def test_batch_over_total_size_is_refused(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    opts = RedisOptions(max_batch_size=1000)
    with pytest.raises(ValidationError, match="max_batch_size"):
        await atoolkit.batch_set({f"{prefix}{i}": "x" * 100 for i in range(20)}, options=opts)
    assert await atoolkit.exists(f"{prefix}0") is False


async def test_batch_get_refuses_a_lone_string(atoolkit: AsyncRedisToolkit) -> None:
    with pytest.raises(ValidationError, match="list of keys"):
        await atoolkit.batch_get("oops")  # type: ignore[arg-type]


async def test_legacy_serializer_writes_0_4_format(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    legacy = RedisOptions(serializer="legacy-json")
    await atoolkit.setter(f"{prefix}old", {"a": 1}, options=legacy)
    raw = await atoolkit.client.get(f"{prefix}old")
    assert raw == b'{"__type__": "dict", "__data__": {"a": 1}}'
    assert await atoolkit.getter(f"{prefix}old") == {"a": 1}


async def test_batch_write_failure_reports_unwritten_keys(server_factory, prefix: str) -> None:
    server = server_factory()
    toolkit = AsyncRedisToolkit.from_url(server.url, socket_timeout=2.0)
    try:
        await toolkit.setter(f"{prefix}warm", 1)
        server.kill()
        mapping = {f"{prefix}{i}": i for i in range(10)}
        with pytest.raises(BatchWriteError) as info:
            await toolkit.batch_set(mapping)
        assert info.value.failed_keys == list(mapping)
        assert info.value.written_keys == []
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_bytes_keys_work_as_in_0_4(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}raw".encode()
    await atoolkit.setter(key, {"via": "bytes"})  # type: ignore[arg-type]
    scanned = [k async for k in atoolkit.client.scan_iter(match=f"{prefix}raw")]
    assert scanned == [key]
    assert await atoolkit.getter(scanned[0]) == {"via": "bytes"}
    assert await atoolkit.batch_get(scanned) == {key: {"via": "bytes"}}
    assert await atoolkit.deleter(scanned[0]) is True


async def test_long_keys_written_by_others_can_still_be_read(
    atoolkit: AsyncRedisToolkit, prefix: str
) -> None:
    key = prefix + "k" * 600  # over max_key_length: the toolkit would not write it
    await atoolkit.client.set(key, "from another client")
    assert await atoolkit.getter(key) == "from another client"
    assert await atoolkit.deleter(key) is True


async def test_batch_set_takes_any_mapping(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    from types import MappingProxyType

    await atoolkit.batch_set(MappingProxyType({f"{prefix}m": 1}))
    assert await atoolkit.getter(f"{prefix}m") == 1
