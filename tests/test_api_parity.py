"""Guards: the two APIs cannot drift apart, and the sync tree holds no async code."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import redis_toolkit
import redis_toolkit._sync
import redis_toolkit.asyncio as rt_asyncio

ROOT = Path(__file__).resolve().parent.parent
ASYNC_NAMES = [name for name in redis_toolkit.__all__ if name.startswith("Async")]


def public_methods(cls: type) -> set[str]:
    names = {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
    return {"close" if n == "aclose" else n for n in names}


def test_there_are_async_classes_to_compare() -> None:
    assert "AsyncRedisToolkit" in ASYNC_NAMES


@pytest.mark.parametrize("async_name", ASYNC_NAMES)
def test_every_async_class_has_a_sync_twin_with_the_same_methods(async_name: str) -> None:
    sync_name = async_name[len("Async") :]
    async_cls = getattr(redis_toolkit, async_name)
    sync_cls = getattr(redis_toolkit, sync_name)
    assert sync_name in redis_toolkit.__all__
    assert public_methods(async_cls) == public_methods(sync_cls)


@pytest.mark.parametrize("async_name", ASYNC_NAMES)
def test_asyncio_module_exports_async_classes_under_plain_names(async_name: str) -> None:
    plain = async_name[len("Async") :]
    assert getattr(rt_asyncio, plain) is getattr(redis_toolkit, async_name)


def test_singletons_are_twins() -> None:
    assert isinstance(redis_toolkit.pool_manager, redis_toolkit.ConnectionPoolManager)
    assert isinstance(redis_toolkit.async_pool_manager, redis_toolkit.AsyncConnectionPoolManager)
    assert rt_asyncio.pool_manager is redis_toolkit.async_pool_manager


def _sync_modules():
    for info in pkgutil.walk_packages(redis_toolkit._sync.__path__, "redis_toolkit._sync."):
        yield importlib.import_module(info.name)


def test_sync_tree_defines_no_coroutine_function() -> None:
    found = []
    for module in _sync_modules():
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            candidates = [obj]
            if inspect.isclass(obj):
                candidates = [v for v in vars(obj).values()]
                candidates = [getattr(v, "__func__", v) for v in candidates]
            for fn in candidates:
                if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                    found.append(f"{module.__name__}.{name}")
    assert found == []


def _imports_asyncio(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        if any(n == "asyncio" or n.startswith(("asyncio.", "redis.asyncio")) for n in names):
            return True
    return False


@pytest.mark.parametrize("tree", ["redis_toolkit/_sync", "tests/_sync"])
def test_sync_tree_does_not_import_asyncio(tree: str) -> None:
    offenders = [
        str(p.relative_to(ROOT)) for p in (ROOT / tree).rglob("*.py") if _imports_asyncio(p)
    ]
    assert offenders == []


# The twins, the async-only coalescer, and the demo (user code: it runs its coroutine with
# asyncio.run and gathers tasks the way a user would).
ALLOWED_TO_IMPORT_ASYNCIO = {"_compat.py", "_coalesce.py", "__main__.py"}


def test_only_compat_and_coalesce_import_asyncio() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "redis_toolkit").rglob("*.py")
        if p.relative_to(ROOT / "redis_toolkit").as_posix() not in ALLOWED_TO_IMPORT_ASYNCIO
        and _imports_asyncio(p)
    ]
    assert offenders == []


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in redis_toolkit.__all__:
        obj = getattr(redis_toolkit, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not callable(member):
                        continue
                    if not (getattr(member, "__doc__", "") or "").strip():
                        missing.append(f"{name}.{attr}")
    assert missing == []
