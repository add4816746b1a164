"""A forgotten toolkit never keeps a process alive (issue 11).

Each run is a fresh interpreter that uses a toolkit and never closes it: the async one must let
``asyncio.run`` return (its health-check task used to swallow the loop's shutdown cancellation
and hang there in most runs), the sync one must leave no non-daemon thread behind.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.servers import RedisServer

ASYNC_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from redis_toolkit import AsyncRedisToolkit, RedisConnectionConfig

    KEEP = []  # referenced to the end: no __del__ stops anything before the loop shuts down

    async def main(port, pause):
        toolkit = AsyncRedisToolkit(config=RedisConnectionConfig(host="127.0.0.1", port=port))
        KEEP.append(toolkit)
        await toolkit.setter("exit-test:k", 1)
        await asyncio.sleep(pause)
        return time.monotonic()

    ended = asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
    print(f"exit {time.monotonic() - ended:.3f}")
    """
)

SYNC_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from redis_toolkit import RedisConnectionConfig, RedisToolkit

    toolkit = RedisToolkit(config=RedisConnectionConfig(host="127.0.0.1", port=int(sys.argv[1])))
    toolkit.setter("exit-test:k", 1)
    time.sleep(float(sys.argv[2]))
    others = [t.name for t in threading.enumerate()
              if t is not threading.main_thread() and not t.daemon]
    assert not others, others
    print("exit 0.000")
    """
)

RUN_TIMEOUT = 20.0  # per run; a hang waits at least the 30 s health-check interval


def run_many(script: str, port: int, pauses: list[float]) -> list[float]:
    """Run ``script`` once per pause, four at a time; return each run's exit time."""
    times: list[float] = []
    for start in range(0, len(pauses), 4):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(port), str(pause)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for pause in pauses[start : start + 4]
        ]
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                pytest.fail(f"a process with an unclosed toolkit still ran after {RUN_TIMEOUT}s")
            assert proc.returncode == 0, err
            times.append(float(out.split()[-1]))
    return times


def test_an_unclosed_async_toolkit_lets_asyncio_run_return(redis_server: RedisServer) -> None:
    pauses = [0.0, 0.0, 0.001, 0.01, 0.05] * 4  # 20 runs, exiting at different moments
    times = run_many(ASYNC_SCRIPT, redis_server.port, pauses)
    print(f"asyncio.run exit with an unclosed toolkit: max {max(times):.3f}s over {len(times)}")
    assert len(times) == 20
    # The hang this pins waits out the 30 s health-check interval at least, forever in most runs.
    assert max(times) < 5.0


def test_an_unclosed_sync_toolkit_leaves_no_non_daemon_thread(redis_server: RedisServer) -> None:
    times = run_many(SYNC_SCRIPT, redis_server.port, [0.0, 0.05, 0.2, 0.5])
    assert len(times) == 4
