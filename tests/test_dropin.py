"""The design's import paths, the one-line migration module, the plain install and 0.4 options."""

from __future__ import annotations

import importlib
import inspect
import logging
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

import redis_toolkit
import redis_toolkit.asyncio as rt_asyncio
from redis_toolkit import RedisOptions, RedisToolkit


def test_asyncio_offers_every_public_name_with_its_async_flavour() -> None:
    assert set(redis_toolkit.__all__) <= set(rt_asyncio.__all__)
    # Beyond those, only the design's name for the async memory backend.
    assert set(rt_asyncio.__all__) - set(redis_toolkit.__all__) == {"RedisBackendV2"}
    assert rt_asyncio.RedisBackendV2 is redis_toolkit.AsyncRedisMemoryBackend
    for name in redis_toolkit.__all__:
        mine = getattr(rt_asyncio, name)
        if name == "pool_manager":
            assert mine is redis_toolkit.async_pool_manager
        elif f"Async{name}" in redis_toolkit.__all__:
            assert mine is getattr(redis_toolkit, f"Async{name}"), name
        else:
            assert mine is getattr(redis_toolkit, name), name


def test_design_module_paths_import() -> None:
    from redis_toolkit.async_core import AsyncRedisToolkit
    from redis_toolkit.async_pool_manager import (
        AsyncConnectionPoolManager,
        async_pool_manager,
        close_all_pools,
    )

    assert AsyncRedisToolkit is redis_toolkit.AsyncRedisToolkit
    assert AsyncConnectionPoolManager() is async_pool_manager  # the singleton
    assert async_pool_manager is redis_toolkit.async_pool_manager
    assert inspect.iscoroutinefunction(close_all_pools)
    module = importlib.import_module("redis_toolkit.async_pool_manager")
    assert inspect.iscoroutinefunction(module.close_all_pools)
    # importing the alias module did not rebind the package attribute to the module
    assert isinstance(redis_toolkit.async_pool_manager, AsyncConnectionPoolManager)


async def test_close_all_pools_of_the_alias_module_closes_the_pools() -> None:
    from redis_toolkit.async_pool_manager import async_pool_manager, close_all_pools
    from redis_toolkit.options import RedisConnectionConfig

    async_pool_manager.get_pool(RedisConnectionConfig(host="127.0.0.1", port=1))
    assert async_pool_manager.get_pool_stats()
    await close_all_pools()
    assert async_pool_manager.get_pool_stats() == {}


def test_retry_decorators_of_asyncio_wrap_coroutines() -> None:
    @rt_asyncio.with_retry(max_attempts=2, delay=0)
    async def work() -> int:
        return 1

    assert inspect.iscoroutinefunction(work)


def test_fakeredis_is_an_install_requirement() -> None:
    requires = metadata.requires("redis-toolkit") or []
    plain = [r for r in requires if "extra ==" not in r]
    assert any(r.lower().startswith("fakeredis") for r in plain), plain
    extras = metadata.metadata("redis-toolkit").get_all("Provides-Extra") or []
    assert "embedded" in extras  # old install commands keep working


def test_log_path_directory_gets_a_log_file_inside(tmp_path: Path) -> None:
    from redis_toolkit import _logging

    logger = logging.getLogger("redis_toolkit")
    level = logger.level
    options = RedisOptions(log_path=str(tmp_path), log_level="DEBUG")
    toolkit = RedisToolkit.from_url("memory://log-dir", options=options)
    handler = _logging._handlers[str(tmp_path / "redis_toolkit.log")]
    try:
        toolkit.setter("k", {"logged": 1})
        handler.flush()
        text = (tmp_path / "redis_toolkit.log").read_text(encoding="utf-8")
        assert "'k'" in text and "logged" in text
    finally:
        toolkit.close()
        logger.removeHandler(handler)
        handler.close()
        _logging._handlers.pop(str(tmp_path / "redis_toolkit.log"), None)
        logger.setLevel(level)


def test_sync_sub_thread_is_the_stopped_thread() -> None:
    toolkit = RedisToolkit.from_url("memory://sub-thread")
    try:
        assert toolkit.start_subscriber(["ch"], lambda channel, value: None)
        thread = toolkit.sub_thread
        assert thread.is_alive()
        assert toolkit.stop_subscriber() is True
        assert toolkit.sub_thread is thread
        assert toolkit.sub_thread.is_alive() is False  # 0.4: not an AttributeError on None
    finally:
        toolkit.close()


def test_sync_closed_toolkit_raises() -> None:
    toolkit = RedisToolkit.from_url("memory://closed")
    toolkit.close()
    with pytest.raises(redis_toolkit.ClientClosedError, match="closed"):
        toolkit.setter("k", 1)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_bench_runs_the_benchmark_scripts() -> None:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        ["make", "-n", "bench", "BENCH_ARGS=--quick"],
        cwd=root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    scripts = [w for w in result.stdout.split() if w.startswith("benchmarks/bench_")]
    assert {"benchmarks/bench_core.py", "benchmarks/bench_pubsub.py"} <= set(scripts)
    assert all((root / script).is_file() for script in scripts)
    assert "redis_toolkit bench" not in result.stdout
