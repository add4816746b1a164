"""tools/run_unasync.py: the generated tree is current, and --check catches every way it can rot."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("run_unasync", ROOT / "tools" / "run_unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module


run_unasync = _load_generator()
_real_generate = run_unasync.generate


def _source_key(root: Path) -> str:
    """Everything ``generate`` reads: the async sources, _compat, and the rules."""
    digest = hashlib.sha256(repr(sorted(run_unasync.REPLACEMENTS.items())).encode())
    paths = [root / "redis_toolkit" / "_compat.py"]
    for src_dir, _, _ in run_unasync.TREES:
        paths.extend(sorted((root / src_dir).rglob("*.py")))
    for path in paths:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="module", autouse=True)
def _generate_once_per_source() -> Iterator[None]:
    """Several tests run the generator on copies whose async sources are the committed ones and
    differ only in their generated trees (the thing --check compares). Converting the same
    sources again would prove nothing new and cost seconds each: ``generate`` (a pure function of
    the files it reads and REPLACEMENTS) runs once per distinct input; the comparison that each
    test is about still runs on its own tree."""
    results: dict[str, tuple[dict[str, str], list[str], list[object], list[str]]] = {}

    def generate(root: Path) -> tuple[dict[str, str], list[str], list[object], list[str]]:
        key = _source_key(root)
        if key not in results:
            results[key] = _real_generate(root)
        outputs, dst_dirs, problems, unused = results[key]
        return dict(outputs), list(dst_dirs), list(problems), list(unused)

    run_unasync.generate = generate
    try:
        yield
    finally:
        run_unasync.generate = _real_generate


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the parts of the project the generator reads and writes."""
    (tmp_path / "redis_toolkit").mkdir()
    shutil.copy(ROOT / "redis_toolkit" / "_compat.py", tmp_path / "redis_toolkit" / "_compat.py")
    ignore = shutil.ignore_patterns("__pycache__")
    for tree in ("redis_toolkit/_async", "redis_toolkit/_sync", "tests/_async", "tests/_sync"):
        shutil.copytree(ROOT / tree, tmp_path / tree, ignore=ignore)
    return tmp_path


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A project with _compat and an empty async tree: for one-file generator cases (fast)."""
    (tmp_path / "redis_toolkit" / "_async").mkdir(parents=True)
    shutil.copy(ROOT / "redis_toolkit" / "_compat.py", tmp_path / "redis_toolkit" / "_compat.py")
    return tmp_path


def check(root: Path) -> int:
    return run_unasync.main(["--check", "--root", str(root)])


def test_committed_tree_is_up_to_date() -> None:
    assert run_unasync.main(["--check"]) == 0


def test_copy_checks_clean(project: Path) -> None:
    assert check(project) == 0


def test_hand_edited_sync_file_fails_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "redis_toolkit" / "_sync" / "client.py"
    target.write_text(target.read_text() + "\n# a quick fix made by hand\n")
    assert check(project) == 1
    err = capsys.readouterr().err
    assert "STALE redis_toolkit/_sync/client.py" in err
    assert "+# a quick fix made by hand" in err


def test_orphan_fails_check_and_write_removes_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = project / "tests" / "_sync" / "test_gone.py"
    orphan.write_text(
        "# Generated from tests/_async/test_gone.py by tools/run_unasync.py. DO NOT EDIT.\n"
    )
    assert check(project) == 1
    assert "ORPHAN tests/_sync/test_gone.py" in capsys.readouterr().err
    assert run_unasync.main(["--root", str(project)]) == 0
    assert not orphan.exists()
    assert check(project) == 0


def test_missing_file_fails_check_and_write_restores_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "redis_toolkit" / "_sync" / "pool.py"
    target.unlink()
    assert check(project) == 1
    assert "MISSING redis_toolkit/_sync/pool.py" in capsys.readouterr().err
    assert run_unasync.main(["--root", str(project)]) == 0
    assert target.read_text().startswith("# Generated from redis_toolkit/_async/pool.py")


def test_every_generated_file_carries_the_header() -> None:
    for tree, source in (
        ("redis_toolkit/_sync", "redis_toolkit/_async"),
        ("tests/_sync", "tests/_async"),
    ):
        for path in (ROOT / tree).rglob("*.py"):
            rel = path.relative_to(ROOT / tree).as_posix()
            first = path.read_text().splitlines()[0]
            assert first == f"# Generated from {source}/{rel} by tools/run_unasync.py. DO NOT EDIT."


FORBIDDEN = [
    ("import asyncio\n", "imports asyncio"),
    ("from redis.asyncio import Redis\n", "imports from redis.asyncio"),
    ("from redis import asyncio\n", "imports from redis"),
    ("async def f(x):\n    return await(x)\n", "`await(`"),
    (
        "from typing import AsyncGenerator\ndef g() -> AsyncGenerator[int, None]: ...\n",
        "AsyncGenerator",
    ),
    ("def h(x: 'AsyncRedisToolkit') -> None: ...\n", "quoted annotation"),
    ("from redis_toolkit import options\n", "absolute import"),
]


@pytest.mark.parametrize(("code", "message"), FORBIDDEN, ids=[m for _, m in FORBIDDEN])
def test_forbidden_construct_fails_check(
    bare: Path, capsys: pytest.CaptureFixture[str], code: str, message: str
) -> None:
    source = bare / "redis_toolkit" / "_async" / "bad.py"
    source.write_text("from __future__ import annotations\n\n" + code)
    assert check(bare) != 0
    err = capsys.readouterr().err
    assert "redis_toolkit/_async/bad.py" in err
    assert message in err
    # write mode refuses too, and writes nothing
    assert run_unasync.main(["--root", str(bare)]) != 0
    assert not (bare / "redis_toolkit" / "_sync" / "bad.py").exists()


def test_module_without_future_annotations_is_refused(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bare / "redis_toolkit" / "_async" / "bad.py").write_text("X = 1\n")
    assert check(bare) != 0
    assert "from __future__ import annotations" in capsys.readouterr().err


def test_unmapped_public_async_class_is_refused(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new AsyncX that is not in the name map would become SyncX: the generator says so."""
    (bare / "redis_toolkit" / "_async" / "widget.py").write_text(
        "from __future__ import annotations\n\n\n"
        "class AsyncWidget:\n    async def aclose(self) -> None: ...\n"
    )
    assert check(bare) != 0
    assert "add 'AsyncWidget' to REPLACEMENTS" in capsys.readouterr().err


def test_lifecycle_names_are_converted(bare: Path) -> None:
    (bare / "redis_toolkit" / "_async" / "widget.py").write_text(
        "from __future__ import annotations\n\nfrom .._compat import AsyncEvent\n\n\n"
        "async def stop(toolkit, event: AsyncEvent) -> None:\n"
        "    async with toolkit:\n        await toolkit.aclose()\n    await event.wait(1.0)\n"
    )
    assert run_unasync.main(["--root", str(bare)]) == 0
    out = (bare / "redis_toolkit" / "_sync" / "widget.py").read_text()
    assert "from .._compat import Event\n" in out
    assert "def stop(toolkit, event: Event) -> None:" in out
    assert "    with toolkit:\n        toolkit.close()\n    event.wait(1.0)" in out


def _widget(project: Path, body: str) -> Path:
    (project / "redis_toolkit" / "_async" / "widget.py").write_text(
        "from __future__ import annotations\n\n" + body
    )
    return project / "redis_toolkit" / "_sync" / "widget.py"


def test_async_branch_keeps_its_else_body_in_sync(bare: Path) -> None:
    out = _widget(
        bare,
        "from .._coalesce import coalescing  # ASYNC\n"
        "from .._compat import AsyncRuntime\n\n\n"
        "class AsyncRedisToolkit:\n"
        "    async def start(self, client: object) -> None:\n"
        "        if True:  # ASYNC\n"
        "            # only async has something to coalesce\n"
        "            self.commands = coalescing(client)\n"
        "        else:\n"
        "            # a thread's commands go one by one\n"
        "            self.commands = client\n"
        "\n"
        "            if client:\n"
        "                self.x = 1\n"
        "        if True:  # ASYNC\n"
        "            await AsyncRuntime.sleep(0)\n"
        "        self.done = True\n",
    )
    assert run_unasync.main(["--root", str(bare)]) == 0
    text = out.read_text()
    assert "coalescing" not in text and "_coalesce" not in text and "if True" not in text
    assert (
        "    def start(self, client: object) -> None:\n"
        "        # a thread's commands go one by one\n"
        "        self.commands = client\n"
        "\n"
        "        if client:\n"
        "            self.x = 1\n"
        "        self.done = True\n"
    ) in text
    assert "from .._compat import Runtime\n" in text  # an unmarked import stays


def test_the_committed_sync_client_has_no_coalescer() -> None:
    text = (ROOT / "redis_toolkit" / "_sync" / "client.py").read_text()
    assert "coalesc" not in text
    assert "self._commands = self._client\n" in text
    source = (ROOT / "redis_toolkit" / "_async" / "client.py").read_text()
    assert "from .._coalesce import coalescing  # ASYNC\n" in source


BAD_MARKERS = [
    (
        "def f(x: int) -> int:\n    if True:  # ASYNC\n        return 1\n"
        "    elif x:\n        return 2\n    return 3\n",
        "takes `else`, not `elif`",
    ),
    ("X = 1  # ASYNC\n", "`# ASYNC` marks only"),
    ("def f(x: int) -> int:\n    if x:  # ASYNC\n        return 1\n    return 2\n", "marks only"),
    ("from .._coalesce import coalescing\n", "import it on a line ending in `# ASYNC`"),
]


@pytest.mark.parametrize(("code", "message"), BAD_MARKERS, ids=[m for _, m in BAD_MARKERS])
def test_misused_async_marker_is_refused(
    bare: Path, capsys: pytest.CaptureFixture[str], code: str, message: str
) -> None:
    _widget(bare, code)
    assert check(bare) == 2
    assert message in capsys.readouterr().err


def test_marker_inside_a_string_is_not_a_marker(bare: Path) -> None:
    out = _widget(bare, 'NOTE = "if True:  # ASYNC"\n')
    assert run_unasync.main(["--root", str(bare)]) == 0
    assert 'NOTE = "if True:  # ASYNC"' in out.read_text()


def test_unused_rule_fails_check(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(run_unasync.REPLACEMENTS, "AsyncNobodyUsesMe", "NobodyUsesMe")
    assert check(project) == 1
    assert "UNUSED rule 'AsyncNobodyUsesMe'" in capsys.readouterr().err
    # once a source uses the name, the rule is used
    out = _widget(project, "def f(x: AsyncNobodyUsesMe) -> None: ...\n")
    assert run_unasync.main(["--root", str(project)]) == 0
    assert check(project) == 0
    assert "UNUSED" not in capsys.readouterr().err
    assert "def f(x: NobodyUsesMe) -> None: ..." in out.read_text()


def test_committed_rules_are_all_used() -> None:
    sources = {
        str(p): p.read_text()
        for tree in ("redis_toolkit/_async", "tests/_async")
        for p in (ROOT / tree).rglob("*.py")
    }
    assert run_unasync.unused_rules(sources) == []


def test_sync_code_imports_only_what_compat_exports(
    bare: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(run_unasync.REPLACEMENTS, "AsyncGhost", "Ghost")
    _widget(bare, "from .._compat import AsyncEvent, AsyncGhost\n")
    assert check(bare) == 2
    err = capsys.readouterr().err
    assert "imports Ghost from _compat, which does not export it" in err
    assert "imports Event" not in err


def test_docstrings_and_comments_are_rewritten_for_sync(bare: Path) -> None:
    out = _widget(
        bare,
        '"""Use ``await toolkit.getter(k)`` inside ``async with toolkit:``."""\n\n\n'
        "class AsyncRedisToolkit:\n"
        '    """Runs an asyncio task; ``aclose()`` ends it. See AsyncRedisToolkit.aclose."""\n\n'
        "    async def aclose(self) -> str:\n"
        "        # await the listener, then async for the rest\n"
        '        return "await me"  # not prose: a runtime string stays as it is\n',
    )
    assert run_unasync.main(["--root", str(bare)]) == 0
    text = out.read_text()
    assert '"""Use ``toolkit.getter(k)`` inside ``with toolkit:``."""' in text
    assert '"""Runs a daemon thread; ``close()`` ends it. See RedisToolkit.close."""' in text
    assert "# the listener, then for the rest" in text
    assert 'return "await me"' in text


@pytest.mark.parametrize("hedge", ["(awaited in async)", "(awaited in the async API)"])
def test_hedge_in_generated_prose_is_refused(
    bare: Path, capsys: pytest.CaptureFixture[str], hedge: str
) -> None:
    _widget(bare, f'def f() -> None:\n    """Call ``g()`` {hedge}."""\n')
    assert check(bare) == 2
    assert "generated prose hedges" in capsys.readouterr().err


def test_rewrite_prose_rules() -> None:
    rewrite = run_unasync.rewrite_prose
    assert rewrite("``await x.y(1)``") == "``x.y(1)``"
    assert rewrite("the listener's asyncio task") == "the listener's thread"
    assert rewrite("asyncio tasks") == "threads"
    assert rewrite("every pool (of this event loop).") == "every pool."
    assert rewrite("plain or async callables") == "plain callables"
    assert rewrite("async_pool_manager and AsyncConnectionPoolManager") == (
        "pool_manager and ConnectionPoolManager"
    )
    assert rewrite("redis_toolkit/_async/client.py") == "redis_toolkit/_async/client.py"
    assert rewrite("asynchronous") == "asynchronous"
