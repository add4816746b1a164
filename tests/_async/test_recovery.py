"""Fast recovery, quiet when idle (issue 11).

With default settings a short outage must not keep callers refused for long: while the breaker
is open the health check probes about every second and lets callers through as soon as the
server answers. A toolkit that is constructed but never used starts nothing and connects nowhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig, async_pool_manager
from redis_toolkit._compat import AsyncRuntime
from redis_toolkit.resilience import CircuitState
from tests.servers import RedisServer

DURABLE = ["--appendonly", "yes", "--appendfsync", "always"]  # every acknowledged write on disk


def clients_of(server: RedisServer) -> int:
    with server.admin() as admin:
        return int(admin.info("clients")["connected_clients"])


async def test_an_unused_toolkit_starts_nothing_and_connects_nowhere(
    redis_server: RedisServer, prefix: str
) -> None:
    threads = threading.active_count()
    clients = clients_of(redis_server)
    config = RedisConnectionConfig(host=redis_server.host, port=redis_server.port)
    toolkits = [AsyncRedisToolkit(config=config) for _ in range(5)]
    try:
        for toolkit in toolkits:
            assert toolkit.health_checker is not None
            assert not toolkit.health_checker.running
        assert threading.active_count() == threads  # no thread (sync) started
        assert clients_of(redis_server) == clients  # no connection opened
        # The first command starts the health checker.
        await toolkits[0].setter(f"{prefix}k", 1)
        assert toolkits[0].health_checker is not None and toolkits[0].health_checker.running
        assert not any(t.health_checker.running for t in toolkits[1:] if t.health_checker)
    finally:
        for toolkit in toolkits:
            await toolkit.aclose()
        await async_pool_manager.close_all_pools()
    with redis_server.admin() as admin:
        admin.delete(f"{prefix}k")


async def test_callers_get_through_about_a_second_after_a_2s_outage_with_defaults(
    server_factory: Callable[..., RedisServer], prefix: str
) -> None:
    server = server_factory(extra_args=DURABLE)
    toolkit = AsyncRedisToolkit(config=RedisConnectionConfig(host=server.host, port=server.port))
    breaker = toolkit.circuit_breaker
    assert breaker is not None
    transitions: list[CircuitState] = []
    breaker.add_listener(lambda old, new: transitions.append(new))
    acked: dict[str, int] = {}
    successes: list[float] = []
    running = [True]

    async def writer(worker: int) -> None:
        n = 0
        while running[0]:
            key = f"{prefix}{worker}:{n}"
            try:
                await toolkit.setter(key, n)
            except Exception:
                pass
            else:
                acked[key] = n
                successes.append(AsyncRuntime.monotonic())
            n += 1
            await AsyncRuntime.sleep(0.01)

    async def wait_for(predicate: Callable[[], Any], timeout: float) -> None:
        deadline = AsyncRuntime.monotonic() + timeout
        while not predicate():
            assert AsyncRuntime.monotonic() < deadline, "timed out"
            await AsyncRuntime.sleep(0.01)

    workers = [AsyncRuntime.spawn(writer, i, name=f"writer-{i}") for i in range(4)]
    try:
        await wait_for(lambda: len(acked) >= 20, 10)
        server.stop()
        await wait_for(lambda: breaker.state is CircuitState.OPEN, 10)
        await AsyncRuntime.sleep(2.0)  # the outage itself, not a synchronization
        server.start()
        restarted = AsyncRuntime.monotonic()
        # Before issue 11 callers stayed refused until the next 30 s health check (~25 s).
        await wait_for(lambda: successes and successes[-1] > restarted, 30)
        recovery = [t for t in successes if t > restarted][0] - restarted
        print(f"callers succeed again {recovery:.2f}s after the restart (defaults)")
        await wait_for(lambda: breaker.state is CircuitState.CLOSED, 10)
    finally:
        running[0] = False
        for worker in workers:
            await AsyncRuntime.join(worker, 10)
        await toolkit.aclose()
        await async_pool_manager.close_all_pools()
    assert CircuitState.OPEN in transitions
    assert transitions[-1] is CircuitState.CLOSED
    # Generous: a probe comes about a second after the restart; the old cadence took ~25 s.
    assert recovery < 10.0
    with server.admin() as admin:  # no acknowledged write was lost
        keys = list(acked)
        values = admin.mget(keys)
    assert [v is not None for v in values] == [True] * len(keys)
