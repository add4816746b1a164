"""The end-to-end chain: set, get and delete typed values through the toolkit.

Written once; tests/_sync/test_client_basic.py is generated from this file and runs the same
assertions against the sync RedisToolkit.
"""

from __future__ import annotations

import pytest

from redis_toolkit import (
    AsyncRedisToolkit,
    ConnectionFailedError,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkitError,
    ValidationError,
    async_pool_manager,
)
from tests.servers import RedisServer, free_port


async def test_set_get_delete_round_trip(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    key = f"{prefix}user"
    value = {"name": "Ada", "id": 1, "tags": ("a", "b"), "blob": b"\x00\xff"}
    # Exact nested tuples need the msgpack format (the default writes 0.4's JSON).
    msgpack = RedisOptions(serializer="msgpack")
    assert await atoolkit.setter(key, value, options=msgpack) is True
    got = await atoolkit.getter(key)
    assert got == value
    assert type(got["tags"]) is tuple
    assert await atoolkit.deleter(key) is True
    assert await atoolkit.deleter(key) is False
    assert await atoolkit.getter(key) is None


async def test_stored_none_differs_from_missing(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    await atoolkit.setter(f"{prefix}none", None)
    assert await atoolkit.getter(f"{prefix}none", default="missing") is None
    assert await atoolkit.getter(f"{prefix}absent", default="missing") == "missing"


async def test_ints_zero_and_one_stay_ints(atoolkit: AsyncRedisToolkit, prefix: str) -> None:
    await atoolkit.setter(f"{prefix}zero", 0)
    await atoolkit.setter(f"{prefix}one", 1)
    zero = await atoolkit.getter(f"{prefix}zero")
    one = await atoolkit.getter(f"{prefix}one")
    assert (zero, type(zero)) == (0, int)
    assert (one, type(one)) == (1, int)


async def test_value_is_stored_in_redis(atoolkit_server: AsyncRedisToolkit, prefix: str) -> None:
    """The bytes really are on the server: a raw client sees them."""
    await atoolkit_server.setter(f"{prefix}raw", "hello")
    raw = await atoolkit_server.client.get(f"{prefix}raw")
    assert isinstance(raw, bytes) and len(raw) > 0


async def test_too_long_key_is_refused_before_writing(atoolkit: AsyncRedisToolkit) -> None:
    key = "k" * 600
    with pytest.raises(ValidationError, match="max_key_length"):
        await atoolkit.setter(key, 1)
    assert await atoolkit.client.exists(key) == 0


async def test_unreachable_server_is_a_connection_error(prefix: str) -> None:
    config = RedisConnectionConfig(host="127.0.0.1", port=free_port(), connection_timeout=0.5)
    toolkit = AsyncRedisToolkit(config=config)
    try:
        with pytest.raises(ConnectionFailedError, match=f"{prefix}k"):
            await toolkit.getter(f"{prefix}k")
        assert await toolkit.health_check() is False
    finally:
        await toolkit.aclose()


async def test_context_manager_pings_and_closes(redis_server: RedisServer, prefix: str) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    async with AsyncRedisToolkit(config=config) as toolkit:
        assert await toolkit.health_check() is True
        await toolkit.setter(f"{prefix}cm", [1, 2])
        assert await toolkit.getter(f"{prefix}cm") == [1, 2]
        await toolkit.deleter(f"{prefix}cm")


async def test_redis_and_config_together_are_refused(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    with pytest.raises(ValueError, match="not both"):
        AsyncRedisToolkit(redis=object(), config=config)


async def test_unix_socket_url(server_factory, tmp_path, prefix: str) -> None:
    socket_path = tmp_path / "redis.sock"
    server_factory(extra_args=["--unixsocket", str(socket_path), "--unixsocketperm", "700"])
    toolkit = AsyncRedisToolkit.from_url(f"unix://{socket_path}?db=3")
    try:
        assert toolkit.config is not None and toolkit.config.unix_socket_path == str(socket_path)
        await toolkit.setter(f"{prefix}over-socket", {"via": "unix"})
        assert await toolkit.getter(f"{prefix}over-socket") == {"via": "unix"}
        assert (await toolkit.client.info("keyspace")).get("db3", {}).get("keys") == 1
    finally:
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()


async def test_execute_command_never_names_a_password_as_a_key(
    atoolkit_server: AsyncRedisToolkit,
) -> None:
    with pytest.raises(RedisToolkitError) as info:
        await atoolkit_server.execute_command("AUTH", "s3cret-pw")
    assert "s3cret-pw" not in str(info.value)
    assert info.value.key is None


async def test_execute_command_runs_raw_commands(
    atoolkit_server: AsyncRedisToolkit, prefix: str
) -> None:
    assert await atoolkit_server.execute_command("INCRBY", f"{prefix}n", 5) == 5
    assert await atoolkit_server.execute_command("GET", f"{prefix}n") == b"5"
    assert atoolkit_server.get_metrics()["commands"]["INCRBY"]["total"] == 1


async def test_execute_command_with_a_bytes_command_name_hides_the_password_too(
    atoolkit_server: AsyncRedisToolkit,
) -> None:
    with pytest.raises(RedisToolkitError) as info:
        await atoolkit_server.execute_command(b"AUTH", "s3cret-pw")
    assert "s3cret-pw" not in str(info.value) and info.value.key is None
