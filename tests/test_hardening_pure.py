"""Hardening (issue 11), the pure parts: log descriptions that never raise, serialization depth
at its exact bound, pool keys that tell credentials apart."""

from __future__ import annotations

from typing import Any

import pytest

from redis_toolkit._logging import describe
from redis_toolkit.exceptions import SerializationError
from redis_toolkit.serialization import (
    DEFAULT_MAX_DEPTH,
    deserialize_value,
    get_serializer,
    serialize_value,
)


class _BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_describe_never_raises() -> None:
    assert describe(10**5000, 50) == "<int: repr failed with ValueError>"
    assert describe(_BrokenRepr(), 50) == "<_BrokenRepr: repr failed with RuntimeError>"
    assert describe(_deep_list(100_000), 50).startswith("<list: repr failed")
    assert describe("x" * 100, 10) == "'xxxxxxxxx... (102 chars)"


def test_command_labels_are_first_words_of_known_commands_only() -> None:
    from redis_toolkit.resilience import RedisMetrics
    from redis_toolkit.resilience.commands import command_label

    assert command_label("AUTH s3cret") == "AUTH"
    assert command_label("config set requirepass s3cret") == "CONFIG"
    assert command_label(b"get session-ab12") == "GET"
    assert command_label("json.get doc $") == "JSON.GET"
    for other in ("SESSION-AB12", "user:42", "", "   ", "x" * 100, None, 42, "JSON.GET:x"):
        assert command_label(other) == "OTHER"
    metrics = RedisMetrics()
    metrics.record("AUTH s3cret", 0.001, ok=False)
    metrics.record("CLIENT LIST", 0.001, ok=True)
    metrics.record_retry("SESSION-AB12")
    assert set(metrics.snapshot()["commands"]) == {"AUTH", "CLIENT", "OTHER"}


def test_server_echoed_arguments_are_redacted_from_errors() -> None:
    import redis

    from redis_toolkit.exceptions import wrap_redis_error

    echo = redis.ResponseError("unknown command 'AUHT', with args beginning with: 's3cret' ")
    message = str(wrap_redis_error(echo, "OTHER"))
    assert "s3cret" not in message and "with args beginning with:<redacted>" in message


# -- serialization depth at its exact bound, beside sibling containers -------------------------

FORMATS = ("msgpack", "legacy-json")


def _chain(kind: str, depth: int) -> Any:
    """``depth`` containers of ``kind`` nested inside each other, a scalar innermost."""
    value: Any = 7
    for _ in range(depth):
        if kind == "list":
            value = [value]
        elif kind == "dict":
            value = {"k": value}
        else:
            value = (value,)
    return value


def _beside_siblings(kind: str, depth: int, siblings: int, deep_first: bool) -> Any:
    """An outer list holding a chain ``depth - 1`` deep (``depth`` in all) and ``siblings`` small
    containers of its kind before or after it."""
    small = [_chain(kind, 1) for _ in range(siblings)]
    items = [_chain(kind, depth - 1), *small] if deep_first else [*small, _chain(kind, depth - 1)]
    return items


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["list", "dict", "tuple"])
@pytest.mark.parametrize("siblings", [1, 12])  # 12: past the fast path for big containers
@pytest.mark.parametrize("deep_first", [True, False])
@pytest.mark.parametrize("max_depth", [3, 8, DEFAULT_MAX_DEPTH])
def test_a_value_exactly_max_depth_deep_beside_a_sibling_container_is_accepted(
    fmt: str, kind: str, siblings: int, deep_first: bool, max_depth: int
) -> None:
    if fmt == "legacy-json" and kind == "tuple":
        pytest.skip("0.4's JSON format has no tuples (they come back as lists)")
    serializer = get_serializer(fmt, max_depth=max_depth)
    at_bound = _beside_siblings(kind, max_depth, siblings, deep_first)
    data = serializer.dumps(at_bound)
    assert serializer.loads(data) == at_bound
    if max_depth == DEFAULT_MAX_DEPTH and fmt == "msgpack":  # the public one-call API too
        assert deserialize_value(serialize_value(at_bound, format="msgpack")) == at_bound
    # One level more is refused, when writing and when reading.
    too_deep = _beside_siblings(kind, max_depth + 1, siblings, deep_first)
    with pytest.raises(SerializationError, match="max_depth"):
        serializer.dumps(too_deep)
    roomier = get_serializer(fmt, max_depth=max_depth + 1)
    with pytest.raises(SerializationError, match="max_depth"):
        serializer.loads(roomier.dumps(too_deep))


def test_pool_keys_differ_when_only_the_password_or_username_differs() -> None:
    from redis_toolkit import RedisConnectionConfig

    base = RedisConnectionConfig(host="h", port=1, username="u", password="p")
    assert (
        base.pool_key()
        == RedisConnectionConfig(host="h", port=1, username="u", password="p").pool_key()
    )
    for other in (
        RedisConnectionConfig(host="h", port=1, username="u", password="q"),
        RedisConnectionConfig(host="h", port=1, username="u", password=None),
        RedisConnectionConfig(host="h", port=1, username="v", password="p"),
        RedisConnectionConfig(host="h", port=1, username=None, password="p"),
    ):
        assert other.pool_key() != base.pool_key()
