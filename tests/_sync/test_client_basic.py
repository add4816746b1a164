# Generated from tests/_async/test_client_basic.py by tools/run_unasync.py. DO NOT EDIT.
"""The end-to-end chain: set, get and delete typed values through the toolkit.

Written once; tests/_sync/test_client_basic.py is generated from this file and runs the same
assertions against the sync RedisToolkit.
"""

from __future__ import annotations

import pytest

from redis_toolkit import (
    RedisToolkit,
    ConnectionFailedError,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkitError,
    ValidationError,
    pool_manager,
)
from tests.servers import RedisServer, free_port


def test_set_get_delete_round_trip(toolkit: RedisToolkit, prefix: str) -> None:
    key = f"{prefix}user"
    value = {"name": "Ada", "id": 1, "tags": ("a", "b"), "blob": b"\x00\xff"}
    # Exact nested tuples need the msgpack format (the default writes 0.4's JSON).
    msgpack = RedisOptions(serializer="msgpack")
    assert toolkit.setter(key, value, options=msgpack) is True
    got = toolkit.getter(key)
    assert got == value
    assert type(got["tags"]) is tuple
    assert toolkit.deleter(key) is True
    assert toolkit.deleter(key) is False
    assert toolkit.getter(key) is None


def test_stored_none_differs_from_missing(toolkit: RedisToolkit, prefix: str) -> None:
    toolkit.setter(f"{prefix}none", None)
    assert toolkit.getter(f"{prefix}none", default="missing") is None
    assert toolkit.getter(f"{prefix}absent", default="missing") == "missing"


def test_ints_zero_and_one_stay_ints(toolkit: RedisToolkit, prefix: str) -> None:
    toolkit.setter(f"{prefix}zero", 0)
    toolkit.setter(f"{prefix}one", 1)
    zero = toolkit.getter(f"{prefix}zero")
    one = toolkit.getter(f"{prefix}one")
    assert (zero, type(zero)) == (0, int)
    assert (one, type(one)) == (1, int)


def test_value_is_stored_in_redis(toolkit_server: RedisToolkit, prefix: str) -> None:
    """The bytes really are on the server: a raw client sees them."""
    toolkit_server.setter(f"{prefix}raw", "hello")
    raw = toolkit_server.client.get(f"{prefix}raw")
    assert isinstance(raw, bytes) and len(raw) > 0


def test_too_long_key_is_refused_before_writing(toolkit: RedisToolkit) -> None:
    key = "k" * 600
    with pytest.raises(ValidationError, match="max_key_length"):
        toolkit.setter(key, 1)
    assert toolkit.client.exists(key) == 0


def test_unreachable_server_is_a_connection_error(prefix: str) -> None:
    config = RedisConnectionConfig(host="127.0.0.1", port=free_port(), connection_timeout=0.5)
    toolkit = RedisToolkit(config=config)
    try:
        with pytest.raises(ConnectionFailedError, match=f"{prefix}k"):
            toolkit.getter(f"{prefix}k")
        assert toolkit.health_check() is False
    finally:
        toolkit.close()


def test_context_manager_pings_and_closes(redis_server: RedisServer, prefix: str) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    with RedisToolkit(config=config) as toolkit:
        assert toolkit.health_check() is True
        toolkit.setter(f"{prefix}cm", [1, 2])
        assert toolkit.getter(f"{prefix}cm") == [1, 2]
        toolkit.deleter(f"{prefix}cm")


def test_redis_and_config_together_are_refused(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    with pytest.raises(ValueError, match="not both"):
        RedisToolkit(redis=object(), config=config)


def test_unix_socket_url(server_factory, tmp_path, prefix: str) -> None:
    socket_path = tmp_path / "redis.sock"
    server_factory(extra_args=["--unixsocket", str(socket_path), "--unixsocketperm", "700"])
    toolkit = RedisToolkit.from_url(f"unix://{socket_path}?db=3")
    try:
        assert toolkit.config is not None and toolkit.config.unix_socket_path == str(socket_path)
        toolkit.setter(f"{prefix}over-socket", {"via": "unix"})
        assert toolkit.getter(f"{prefix}over-socket") == {"via": "unix"}
        assert (toolkit.client.info("keyspace")).get("db3", {}).get("keys") == 1
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_execute_command_never_names_a_password_as_a_key(
    toolkit_server: RedisToolkit,
) -> None:
    with pytest.raises(RedisToolkitError) as info:
        toolkit_server.execute_command("AUTH", "s3cret-pw")
    assert "s3cret-pw" not in str(info.value)
    assert info.value.key is None


def test_execute_command_runs_raw_commands(
    toolkit_server: RedisToolkit, prefix: str
) -> None:
    assert toolkit_server.execute_command("INCRBY", f"{prefix}n", 5) == 5
    assert toolkit_server.execute_command("GET", f"{prefix}n") == b"5"
    assert toolkit_server.get_metrics()["commands"]["INCRBY"]["total"] == 1


def test_execute_command_with_a_bytes_command_name_hides_the_password_too(
    toolkit_server: RedisToolkit,
) -> None:
    with pytest.raises(RedisToolkitError) as info:
        toolkit_server.execute_command(b"AUTH", "s3cret-pw")
    assert "s3cret-pw" not in str(info.value) and info.value.key is None
