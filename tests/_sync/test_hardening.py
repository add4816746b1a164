# Generated from tests/_async/test_hardening.py by tools/run_unasync.py. DO NOT EDIT.
"""Hardening (issue 11): bad input of one caller is refused cleanly, logging and handlers never
break a call or the listener, no secret or key leaks into labels or errors, consistent reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from redis_toolkit import (
    RedisToolkit,
    BatchWriteError,
    ConnectionFailedError,
    RedisConnectionConfig,
    RedisOptions,
    RedisToolkitError,
    ValidationError,
    pool_manager,
)
from redis_toolkit._sync import client as client_module
from redis_toolkit._compat import Event, Runtime
from tests._hardening_support import CancelledError
from tests.servers import RedisServer

BAD = "user:\ud800"  # a lone surrogate, as json.loads('"\\ud800"') yields from request data

# Every key-taking call, given (toolkit, good key, bad key). Each must refuse the bad key.
KEY_CALLS: dict[str, Callable[[RedisToolkit, str, str], Any]] = {
    "setter": lambda tk, good, bad: tk.setter(bad, 1),
    "setter_with_ttl": lambda tk, good, bad: tk.setter_with_ttl(bad, 1, 10),
    "getter": lambda tk, good, bad: tk.getter(bad),
    "deleter": lambda tk, good, bad: tk.deleter(bad),
    "exists": lambda tk, good, bad: tk.exists(bad),
    "get_ttl": lambda tk, good, bad: tk.get_ttl(bad),
    "expire": lambda tk, good, bad: tk.expire(bad, 10),
    "persist": lambda tk, good, bad: tk.persist(bad),
    "batch_set": lambda tk, good, bad: tk.batch_set({good: 1, bad: 2}),
    "batch_set_ttl": lambda tk, good, bad: tk.batch_set({good: 1, bad: 2}, ttl=10),
    "batch_get": lambda tk, good, bad: tk.batch_get([good, bad]),
    "batch_delete": lambda tk, good, bad: tk.batch_delete([good, bad]),
    "execute_command": lambda tk, good, bad: tk.execute_command("GET", bad),
}

CHANNEL_CALLS: dict[str, Callable[[RedisToolkit, str], Any]] = {
    "publisher": lambda tk, bad: tk.publisher(bad, 1),
    "publish": lambda tk, bad: tk.publish(bad, 1),
    "start_subscriber": lambda tk, bad: tk.start_subscriber([bad], lambda c, v: None),
    "start_subscriber_pattern": lambda tk, bad: tk.start_subscriber(
        handler=lambda c, v: None, patterns=[bad]
    ),
    "subscribe_dynamic": lambda tk, bad: tk.subscribe_dynamic(bad, lambda c, v: None),
}


@pytest.mark.parametrize("call", sorted(KEY_CALLS))
def test_a_key_that_cannot_be_encoded_is_refused_naming_it(
    toolkit: RedisToolkit, prefix: str, call: str
) -> None:
    good = f"{prefix}good"
    bad = f"{prefix}{BAD}"
    with pytest.raises(ValidationError, match="cannot be encoded") as info:
        Runtime.call(KEY_CALLS[call], toolkit, good, bad)
    assert info.value.key == bad
    assert repr(bad) in str(info.value)
    assert toolkit.exists(good) is False  # refused up front: nothing of the batch written


@pytest.mark.parametrize("call", sorted(CHANNEL_CALLS))
def test_a_channel_that_cannot_be_encoded_is_refused_naming_it(
    toolkit: RedisToolkit, prefix: str, call: str
) -> None:
    bad = f"{prefix}{BAD}"
    with pytest.raises(ValidationError, match="cannot be encoded") as info:
        Runtime.call(CHANNEL_CALLS[call], toolkit, bad)
    assert info.value.channel == bad
    if toolkit.subscriber is not None:
        assert bad not in toolkit.subscriber.channels
        toolkit.stop_subscriber()


def test_a_non_ascii_key_that_encodes_is_accepted(
    toolkit: RedisToolkit, prefix: str
) -> None:
    key = f"{prefix}usér:名前:🙂"
    assert toolkit.setter(key, "ok") is True
    assert toolkit.getter(key) == "ok"
    assert toolkit.batch_get([key]) == {key: "ok"}
    assert toolkit.execute_command("EXISTS", key) == 1


def test_execute_command_refuses_any_argument_that_cannot_be_encoded(
    toolkit: RedisToolkit, prefix: str
) -> None:
    key = f"{prefix}k"
    with pytest.raises(ValidationError, match="argument 2 cannot be encoded"):
        toolkit.execute_command("SET", key, "v\udcff")
    assert toolkit.exists(key) is False


# -- a log line never breaks a call ----------------------------------------------------------

HUGE_INT = 10**5000  # repr() raises ValueError past 4,300 digits (sys.int_info limit)
LOUD = RedisOptions(is_logger_info=True)
# 0.4's JSON format (the default) refuses ints that json cannot print; msgpack stores them.
LOUD_MSGPACK = RedisOptions(is_logger_info=True, serializer="msgpack")


def test_the_per_call_log_line_of_a_huge_int_does_not_fail_the_write(
    toolkit: RedisToolkit, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"{prefix}huge"
    channel = f"{prefix}huge-channel"
    with caplog.at_level(logging.INFO, logger="redis_toolkit"):
        assert toolkit.setter(key, HUGE_INT, options=LOUD_MSGPACK) is True
        assert toolkit.getter(key, options=LOUD_MSGPACK) == HUGE_INT
        assert toolkit.publisher(channel, HUGE_INT, options=LOUD_MSGPACK) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "redis_toolkit.client"]
    assert len(lines) == 3 and all("repr failed" in line for line in lines)


class _RaisingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        raise RuntimeError("a broken log filter")


def test_a_log_filter_that_raises_does_not_fail_the_write_or_the_publish(
    toolkit: RedisToolkit, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"{prefix}filtered"
    broken = _RaisingFilter()
    client_logger = logging.getLogger("redis_toolkit.client")
    client_logger.addFilter(broken)
    try:
        with caplog.at_level(logging.INFO, logger="redis_toolkit"):
            assert toolkit.setter(key, 1, options=LOUD) is True
            assert toolkit.publisher(f"{prefix}c", 1, options=LOUD) == 0
    finally:
        client_logger.removeFilter(broken)
    assert toolkit.getter(key) == 1


# -- no secrets or keys in metric labels or errors -------------------------------------------

PASSWORD = "s3cret-Pw-42"


def _scrape(toolkit: RedisToolkit) -> str:
    prometheus_client = pytest.importorskip("prometheus_client")
    from redis_toolkit.resilience import PrometheusCollector

    registry = prometheus_client.CollectorRegistry()
    registry.register(PrometheusCollector(toolkit.metrics, name="app"))
    return str(prometheus_client.generate_latest(registry).decode())


def _assert_nowhere(toolkit: RedisToolkit, secret: str, *errors: BaseException) -> None:
    forms = {secret, secret.upper(), secret.lower()}
    places = {"get_metrics()": repr(toolkit.get_metrics()), "prometheus": _scrape(toolkit)}
    places.update({f"error {i}": str(error) for i, error in enumerate(errors)})
    for where, text in places.items():
        for form in forms:
            assert form not in text, f"{form!r} leaked into {where}"


def test_a_password_typed_into_the_command_string_never_leaks(
    server_factory: Callable[..., RedisServer],
) -> None:
    server = server_factory()
    toolkit = RedisToolkit(
        config=RedisConnectionConfig(host=server.host, port=server.port, socket_timeout=5.0),
        options=RedisOptions(is_logger_info=False),
    )
    try:
        errors: list[BaseException] = []
        with pytest.raises(RedisToolkitError) as info:  # no password configured: refused
            toolkit.execute_command(f"AUTH {PASSWORD}")
        errors.append(info.value)
        with pytest.raises(RedisToolkitError) as info:  # an odd argument count: refused
            toolkit.execute_command(f"CONFIG SET requirepass {PASSWORD} maxmemory")
        errors.append(info.value)
        with pytest.raises(RedisToolkitError) as info:  # a typo: the server echoes the args
            toolkit.execute_command("AUHT", PASSWORD)
        errors.append(info.value)
        assert toolkit.execute_command(f"CONFIG SET requirepass {PASSWORD}") in (True, b"OK")
        assert toolkit.execute_command(f"AUTH {PASSWORD}") in (True, b"OK")
        _assert_nowhere(toolkit, PASSWORD, *errors)
        assert set(toolkit.get_metrics()["commands"]) - {"HEALTH_CHECK"} == {
            "AUTH",
            "CONFIG",
            "OTHER",
        }
        assert str(errors[0]).startswith("AUTH failed")
    finally:
        toolkit.close()
        pool_manager.close_all_pools()


def test_a_key_typed_into_the_command_string_is_no_label(
    toolkit_server: RedisToolkit, prefix: str
) -> None:
    key = f"{prefix}session-ab12"
    toolkit_server.client.hset(key, "f", "v")  # GET of a hash fails: an error to read
    with pytest.raises(RedisToolkitError, match="WRONGTYPE") as info:
        toolkit_server.execute_command(f"GET {key}")
    assert toolkit_server.execute_command(f"EXISTS {key}") == 1
    _assert_nowhere(toolkit_server, key, info.value)
    assert set(toolkit_server.get_metrics()["commands"]) - {"HEALTH_CHECK"} == {"GET", "EXISTS"}


# -- the listener outlives its handlers --------------------------------------------------------

HANDLER_ENDINGS: dict[str, type[BaseException]] = {
    "cancelled_elsewhere": CancelledError,
    "system_exit": SystemExit,
    "keyboard_interrupt": KeyboardInterrupt,
}


@pytest.mark.parametrize("ending", sorted(HANDLER_ENDINGS))
def test_the_listener_outlives_a_handler_ending_in_a_base_exception(
    toolkit: RedisToolkit, prefix: str, ending: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = f"{prefix}fragile"
    seen: list[int] = []
    errors: list[tuple[BaseException, str | None]] = []
    error_type = HANDLER_ENDINGS[ending]

    def handler(channel_name: str, value: int) -> None:
        if value == 1:
            raise error_type()
        seen.append(value)

    def on_error(error: BaseException, where: str | None) -> None:
        errors.append((error, where))

    assert toolkit.start_subscriber([channel], handler, on_error=on_error) is True
    with caplog.at_level(logging.ERROR, logger="redis_toolkit.pubsub"):
        for i in range(3):
            toolkit.publisher(channel, i)
        _poll(lambda: len(seen) == 2, "the message after the failing one")
    assert seen == [0, 2]
    assert len(errors) == 1 and type(errors[0][0]) is error_type and errors[0][1] == channel
    assert any("message handler raised" in r.getMessage() for r in caplog.records)
    subscriber = toolkit.subscriber
    assert subscriber is not None
    assert subscriber.handler_errors == 1
    assert subscriber.stats()["running"] is True and subscriber.stats()["connected"] is True
    assert toolkit.stop_subscriber() is True
    assert subscriber.stats()["running"] is False and subscriber.stats()["connected"] is False


def test_an_on_error_callback_ending_in_a_base_exception_does_not_end_the_listener(
    toolkit: RedisToolkit, prefix: str
) -> None:
    channel = f"{prefix}fragile-on-error"
    seen: list[int] = []

    def handler(channel_name: str, value: int) -> None:
        if value == 1:
            raise RuntimeError("boom")
        seen.append(value)

    def on_error(error: BaseException, where: str | None) -> None:
        raise SystemExit()

    toolkit.start_subscriber([channel], handler, on_error=on_error)
    for i in range(3):
        toolkit.publisher(channel, i)
    _poll(lambda: len(seen) == 2, "the message after the failing one")
    assert toolkit.subscriber is not None and toolkit.subscriber.running
    assert toolkit.stop_subscriber() is True


def _poll(predicate: Callable[[], Any], what: str, timeout: float = 10) -> None:
    deadline = Runtime.monotonic() + timeout
    while not Runtime.call(predicate):
        assert Runtime.monotonic() < deadline, f"timed out waiting for {what}"
        Runtime.sleep(0.02)


def test_the_listeners_own_cancellation_still_ends_it(
    toolkit_server: RedisToolkit, prefix: str
) -> None:
    pytest.skip("a thread cannot be cancelled: the sync stop waits for the handler")
    channel = f"{prefix}stuck"
    entered = Event()
    never = Event()
    errors: list[BaseException] = []

    def handler(channel_name: str, value: int) -> None:
        entered.set()
        never.wait()

    def on_error(error: BaseException, where: str | None) -> None:
        errors.append(error)

    toolkit_server.start_subscriber([channel], handler, on_error=on_error)
    toolkit_server.publisher(channel, 1)
    assert entered.wait(10)
    subscriber = toolkit_server.subscriber
    assert subscriber is not None
    assert subscriber.stop(timeout=0.2) is False  # the handler was still running: cancelled
    assert Runtime.finished(subscriber._task)
    assert errors == [] and subscriber.stats()["connected"] is False


# -- consistent reads ------------------------------------------------------------------------


def test_batch_get_of_a_key_of_another_type_raises_as_getter_does(
    toolkit: RedisToolkit, prefix: str
) -> None:
    plain, hashed, absent = f"{prefix}plain", f"{prefix}hash", f"{prefix}absent"
    toolkit.setter(plain, 1)
    toolkit.client.hset(hashed, "f", "v")
    with pytest.raises(RedisToolkitError, match="WRONGTYPE") as from_getter:
        toolkit.getter(hashed)
    with pytest.raises(RedisToolkitError, match="WRONGTYPE") as from_batch:
        toolkit.batch_get([plain, absent, hashed])
    assert type(from_batch.value) is type(from_getter.value)
    assert from_batch.value.key == hashed == from_getter.value.key
    assert str(from_batch.value) == str(from_getter.value)
    # Missing keys still map to None, with or without a present one beside them.
    assert toolkit.batch_get([plain, absent]) == {plain: 1, absent: None}
    assert toolkit.batch_get([absent]) == {absent: None}


# -- a handler restarting its own subscriber ---------------------------------------------------


def test_a_handler_restarting_its_own_subscriber_gets_true_at_once(
    toolkit: RedisToolkit, prefix: str
) -> None:
    channel, extra = f"{prefix}self", f"{prefix}self-extra"
    seen: list[tuple[str, Any]] = []
    answers: list[tuple[bool, bool]] = []

    def handler(channel_name: str, value: Any) -> None:
        if value == "restart":
            stopped = toolkit.stop_subscriber()
            answers.append((stopped, toolkit.start_subscriber()))
        elif value == "add":
            answers.append((True, toolkit.start_subscriber([extra])))
        seen.append((channel_name, value))

    assert toolkit.start_subscriber([channel], handler) is True
    toolkit.publisher(channel, "restart")
    _poll(lambda: len(seen) == 1, "the restarting message")
    # The answer came at once: the listener never waited its confirm timeout for itself.
    assert answers == [(False, True)]
    subscriber = toolkit.subscriber
    assert subscriber is not None and subscriber.running and subscriber.connected
    assert subscriber.reconnects == 0
    toolkit.publisher(channel, "add")
    _poll(lambda: len(seen) == 2, "the adding message")
    assert answers[-1] == (True, True)

    def extra_subscribed() -> bool:
        return int((toolkit.client.pubsub_numsub(extra))[0][1]) == 1

    _poll(extra_subscribed, "the new channel")
    assert toolkit.publisher(extra, "on the new channel") == 1
    _poll(lambda: len(seen) == 3, "the message on the new channel")
    assert seen[-1] == (extra, "on the new channel")
    assert toolkit.stop_subscriber() is True


# -- credentials take part in the pool identity ------------------------------------------------


def test_configs_differing_only_in_password_or_username_never_share_a_pool(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory()
    admin = server.admin()
    for user, password in [("alice", "pw-a"), ("carol", "same"), ("dave", "same")]:
        admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "&*", "+@all")
    admin.close()

    def config(username: str, password: str) -> RedisConnectionConfig:
        return RedisConnectionConfig(
            host=server.host, port=server.port, username=username, password=password
        )

    toolkits: list[RedisToolkit] = []

    def toolkit(username: str, password: str) -> RedisToolkit:
        made = RedisToolkit(
            config=config(username, password), options=RedisOptions(is_logger_info=False)
        )
        toolkits.append(made)
        return made

    try:
        # The right password first, so that an authenticated connection waits in its pool.
        alice = toolkit("alice", "pw-a")
        assert alice.setter(f"{prefix}k", 1) is True
        for username, password in [("alice", "pw-b"), ("bob", "pw-a")]:
            intruder = toolkit(username, password)
            with pytest.raises(ConnectionFailedError, match="authentication refused"):
                intruder.getter(f"{prefix}k")
        # Two valid users with one password: each talks as itself.
        for username in ("carol", "dave", "carol"):
            whoami = toolkit(username, "same").execute_command("ACL", "WHOAMI")
            assert whoami in (username, username.encode())
        pools = {
            id(pool_manager.get_pool(config(u, p)))
            for u, p in [("alice", "pw-a"), ("alice", "pw-b"), ("bob", "pw-a")]
        }
        assert len(pools) == 3
    finally:
        for made in toolkits:
            made.close()
        pool_manager.close_all_pools()


# -- a batch that fails after its first chunk ------------------------------------------------


@pytest.mark.parametrize("ttl", [None, 60])
def test_a_batch_failing_after_its_first_chunk_reports_exactly_what_was_written(
    server_factory: Callable[..., RedisServer], prefix: str, ttl: int | None
) -> None:
    server = server_factory()
    admin = server.admin()
    toolkit = RedisToolkit(
        config=RedisConnectionConfig(host=server.host, port=server.port, socket_timeout=5.0),
        options=RedisOptions(is_logger_info=False),
    )
    size = client_module.BATCH_CHUNK_SIZE
    keys = [f"{prefix}{i:05d}" for i in range(2 * size + size // 2)]  # three chunks
    write_chunk = toolkit._write_chunk
    calls: list[int] = []

    def then_refuse_writes(
        names: list[str], datas: list[bytes], extra: dict[str, int]
    ) -> None:
        # A hook between chunks: after the first one, the real server refuses every write.
        calls.append(len(names))
        write_chunk(names, datas, extra)
        if len(calls) == 1:
            admin.config_set("min-replicas-to-write", 1)

    toolkit._write_chunk = then_refuse_writes  # type: ignore[method-assign]
    try:
        with pytest.raises(BatchWriteError, match="NOREPLICAS|EXECABORT") as info:
            toolkit.batch_set({key: i for i, key in enumerate(keys)}, ttl=ttl)
        error = info.value
        assert calls == [size, size]  # the third chunk was never tried
        assert error.written_keys == keys[:size]
        assert error.failed_keys == keys[size:]
        assert f"wrote {size} of {len(keys)} keys" in str(error)
        admin.config_set("min-replicas-to-write", 0)
        assert admin.exists(*keys[:size]) == size
        assert admin.exists(*keys[size:]) == 0
    finally:
        admin.close()
        toolkit.close()
        pool_manager.close_all_pools()
