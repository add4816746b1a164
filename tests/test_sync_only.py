"""What only the sync API does: refuse async callables with a clear error, before starting."""

from __future__ import annotations

import pytest

from redis_toolkit import RedisConnectionConfig, RedisToolkit
from tests.servers import RedisServer


async def async_handler(channel: str, value: object) -> None:
    return None


def test_sync_subscriber_refuses_async_handler(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    with RedisToolkit(config=config) as toolkit:
        with pytest.raises(TypeError, match="coroutine function"):
            toolkit.start_subscriber(["c"], async_handler)
        with pytest.raises(TypeError, match="coroutine function"):
            toolkit.subscribe_dynamic("c", async_handler)
        assert toolkit.subscriber is None


def test_sync_constructor_form_refuses_async_handler(redis_server: RedisServer) -> None:
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    with pytest.raises(TypeError, match="coroutine function"):
        RedisToolkit(config=config, channels=["c"], message_handler=async_handler)


# Sync only: a thread outlives a dropped toolkit unless it is told to stop (a task dies with
# its loop).
def test_dropped_toolkit_stops_its_health_thread(redis_server: RedisServer) -> None:
    import gc

    config = RedisConnectionConfig(
        host=redis_server.host, port=redis_server.port, health_checker_interval=1
    )
    toolkit = RedisToolkit(config=config)
    assert toolkit.health_checker is not None
    toolkit.exists("k")  # the first command starts the health thread
    thread = toolkit.health_checker._task
    assert thread is not None and thread.is_alive()
    del toolkit
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()


# Sync only: a thread cannot be interrupted in its handler (a task is cancelled).
def test_no_second_listener_while_the_first_finishes_a_handler(
    redis_server: RedisServer,
) -> None:
    import threading

    from redis_toolkit import RedisToolkitError

    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    entered, release = threading.Event(), threading.Event()

    def slow(channel: str, value: object) -> None:
        entered.set()
        release.wait(10)

    with RedisToolkit(config=config) as toolkit:
        toolkit.start_subscriber(["slow-channel"], slow)
        toolkit.publisher("slow-channel", 1)
        assert entered.wait(10)
        listener = toolkit.subscriber
        assert listener is not None
        assert listener.stop(timeout=0.05) is False  # a thread cannot be interrupted
        with pytest.raises(RedisToolkitError, match="still finishing"):
            toolkit.start_subscriber()
        release.set()
        assert listener.stop() is True
        assert toolkit.start_subscriber() is True  # now a new listener may start
        toolkit.stop_subscriber()
