"""Hardening (issue 11), the pure parts: log descriptions that never raise, serialization depth
at its exact bound, pool keys that tell credentials apart."""

from __future__ import annotations

from typing import Any

from redis_toolkit._logging import describe


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
