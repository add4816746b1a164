#!/usr/bin/env python3
"""Generate the sync code from its async source of truth, or check that it is up to date.

    python tools/run_unasync.py            # write redis_toolkit/_sync and tests/_sync
    python tools/run_unasync.py --check    # exit 1 (with a diff) if anything is stale

What it does, in order:

1. Lints every async source and refuses what unasync cannot convert token by token:
   ``asyncio`` or ``redis.asyncio`` used outside ``redis_toolkit/_compat.py``, ``await(``,
   ``AsyncGenerator[`` (write ``AsyncIterator``), quoted annotations naming ``Async*``; library
   modules must start with ``from __future__ import annotations`` and import the package relatively.
2. Converts each file with unasync (``Rule``/``unasync_files``, its public API only) and the
   explicit name map below, then heads it ``# Generated from <source> ... DO NOT EDIT.``
3. Checks every output parses and holds no ``async``, ``await`` or ``aclose`` token and no
   ``Sync*`` name that ``_compat`` does not define (an ``AsyncX`` missing from the name map).
4. Writes the outputs and removes orphans (a generated file whose source is gone), or, with
   ``--check``, prints what differs and exits non-zero.

The script is deliberately not named ``unasync.py``: it would import itself instead of the package.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import os
import sys
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent

# (async source dir, generated dir, is library code)
TREES = [
    ("redis_toolkit/_async", "redis_toolkit/_sync", True),
    ("tests/_async", "tests/_sync", False),
]

# Names unasync's own rules do not cover. Its default turns ``AsyncFoo`` into ``SyncFoo``, which
# is right for the _compat twins and wrong for public classes: those are mapped here explicitly.
REPLACEMENTS = {
    # package layout
    "_async": "_sync",
    # lifecycle
    "aclose": "close",
    # public classes
    "AsyncRedisToolkit": "RedisToolkit",
    "AsyncConnectionPoolManager": "ConnectionPoolManager",
    "async_pool_manager": "pool_manager",
    "AsyncSubscriber": "Subscriber",
    "AsyncRetryHandler": "RetryHandler",
    "AsyncCircuitBreaker": "CircuitBreaker",
    "AsyncHealthChecker": "HealthChecker",
    "AsyncResiliencePath": "ResiliencePath",
    "AsyncTransaction": "Transaction",
    "AsyncRedisLock": "RedisLock",
    "AsyncRedisMemoryBackend": "RedisMemoryBackend",
    # test fixtures: `atoolkit` in tests/_async is `toolkit` in tests/_sync
    "atoolkit": "toolkit",
    "atoolkit_server": "toolkit_server",
    "acluster_toolkit": "cluster_toolkit",
    "aclient": "client",
}

HEADER = "# Generated from {source} by tools/run_unasync.py. DO NOT EDIT.\n"
FORBIDDEN_OUTPUT_NAMES = {"async", "await", "aclose"}


@dataclass
class Problem:
    """One reason the generation cannot proceed or the tree is stale."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# --- lint of the async source ---------------------------------------------------------------


def _is_asyncio_module(name: str | None) -> bool:
    if not name:
        return False
    return name == "asyncio" or name.startswith("asyncio.") or name.startswith("redis.asyncio")


def lint_source(rel: str, text: str, is_library: bool) -> list[Problem]:
    """Return what in one async source unasync cannot convert faithfully."""
    problems: list[Problem] = []
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as e:
        return [Problem(rel, e.lineno or 0, f"does not parse: {e.msg}")]

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_asyncio_module(alias.name):
                    problems.append(
                        Problem(
                            rel, node.lineno, f"imports {alias.name}: use redis_toolkit._compat"
                        )
                    )
                if is_library and alias.name.split(".")[0] == "redis_toolkit":
                    problems.append(
                        Problem(rel, node.lineno, "absolute import of redis_toolkit: use relative")
                    )
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [a.name for a in node.names]
            if _is_asyncio_module(module) or (module == "redis" and "asyncio" in names):
                problems.append(
                    Problem(rel, node.lineno, f"imports from {module}: use redis_toolkit._compat")
                )
            if is_library and node.level == 0 and module.split(".")[0] == "redis_toolkit":
                problems.append(
                    Problem(rel, node.lineno, "absolute import of redis_toolkit: use relative")
                )
        elif isinstance(node, ast.Attribute) and node.attr == "asyncio":
            problems.append(Problem(rel, node.lineno, "uses .asyncio: use redis_toolkit._compat"))
        elif isinstance(node, ast.Subscript):
            value = node.value
            name = value.id if isinstance(value, ast.Name) else getattr(value, "attr", None)
            if name == "AsyncGenerator":
                problems.append(
                    Problem(rel, node.lineno, "AsyncGenerator[...]: annotate with AsyncIterator")
                )

    for annotation in _annotations(tree):
        for sub in ast.walk(annotation):
            if (
                isinstance(sub, ast.Constant)
                and isinstance(sub.value, str)
                and "Async" in sub.value
            ):
                problems.append(
                    Problem(
                        rel,
                        sub.lineno,
                        f"quoted annotation {sub.value!r} names Async*: unasync does not rewrite "
                        "inside strings; use `from __future__ import annotations` and no quotes",
                    )
                )

    if is_library and not _has_future_annotations(tree):
        problems.append(Problem(rel, 1, "must start with `from __future__ import annotations`"))

    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    for tok, nxt in zip(tokens, tokens[1:]):
        if tok.type == tokenize.NAME and tok.string == "await" and nxt.string == "(":
            if nxt.start == tok.end:
                problems.append(
                    Problem(rel, tok.start[0], "`await(`: write `await x` (unasync drops a token)")
                )
    return problems


def _annotations(tree: ast.AST) -> list[ast.expr]:
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    found.append(arg.annotation)
            if node.returns is not None:
                found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return found


def _has_future_annotations(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            if any(a.name == "annotations" for a in node.names):
                return True
    return False


# --- checks of the output -------------------------------------------------------------------


def compat_sync_names(root: Path) -> set[str]:
    """The ``Sync*`` twins that redis_toolkit/_compat.py defines."""
    tree = ast.parse((root / "redis_toolkit" / "_compat.py").read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if n.startswith("Sync")}


def check_output(rel: str, text: str, allowed_sync: set[str]) -> list[Problem]:
    """Return what is wrong in one generated file."""
    problems: list[Problem] = []
    try:
        ast.parse(text, filename=rel)
    except SyntaxError as e:
        return [Problem(rel, e.lineno or 0, f"generated code does not parse: {e.msg}")]
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type != tokenize.NAME:
            continue
        if tok.string in FORBIDDEN_OUTPUT_NAMES:
            problems.append(
                Problem(rel, tok.start[0], f"generated code still holds `{tok.string}`")
            )
        elif tok.string.startswith("Async") and tok.string[5:6].isupper():
            problems.append(Problem(rel, tok.start[0], f"generated code holds {tok.string}"))
        elif (
            tok.string.startswith("Sync")
            and tok.string[4:5].isupper()
            and tok.string not in allowed_sync
        ):
            problems.append(
                Problem(
                    rel,
                    tok.start[0],
                    f"{tok.string} is neither a _compat twin nor mapped: add "
                    f"'Async{tok.string[4:]}' to REPLACEMENTS in tools/run_unasync.py",
                )
            )
    return problems


# --- generation -----------------------------------------------------------------------------


def generate(root: Path) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Convert every async source under ``root``.

    Returns ``(outputs, expected_dirs, problems)``: the generated text keyed by its path relative to
    root, the generated directories, and every lint or output problem found.
    """
    problems: list[Problem] = []
    outputs: dict[str, str] = {}
    allowed_sync = compat_sync_names(root)
    rule = unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)

    with tempfile.TemporaryDirectory(prefix="run_unasync_") as tmp:
        staged: list[tuple[str, str, str]] = []  # (source rel, staged source, output rel)
        for index, (src_dir, dst_dir, is_library) in enumerate(TREES):
            src_root = root / src_dir
            if not src_root.is_dir():
                continue
            for path in sorted(src_root.rglob("*.py")):
                if "__pycache__" in path.parts:
                    continue
                rel_in_tree = path.relative_to(src_root).as_posix()
                source_rel = f"{src_dir}/{rel_in_tree}"
                text = path.read_text(encoding="utf-8")
                problems.extend(lint_source(source_rel, text, is_library))
                stage = Path(tmp, f"tree{index}", "_async", rel_in_tree)
                stage.parent.mkdir(parents=True, exist_ok=True)
                stage.write_text(text, encoding="utf-8")
                staged.append((source_rel, str(stage), f"{dst_dir}/{rel_in_tree}"))

        unasync.unasync_files([s for _, s, _ in staged], [rule])

        for source_rel, stage, output_rel in staged:
            converted_path = stage.replace(f"{os.sep}_async{os.sep}", f"{os.sep}_sync{os.sep}")
            body = Path(converted_path).read_text(encoding="utf-8")
            text = HEADER.format(source=source_rel) + body
            problems.extend(check_output(output_rel, text, allowed_sync))
            outputs[output_rel] = text

    return outputs, [dst for _, dst, _ in TREES], problems


def existing_outputs(root: Path, dst_dirs: list[str]) -> dict[str, str]:
    """Every committed file of the generated trees, keyed by path relative to root."""
    found: dict[str, str] = {}
    for dst_dir in dst_dirs:
        base = root / dst_dir
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            found[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return found


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated code is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (for tests)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()

    outputs, dst_dirs, problems = generate(root)
    if problems:
        print("run_unasync: the async source cannot be converted as it is:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2

    current = existing_outputs(root, dst_dirs)
    stale = [rel for rel, text in outputs.items() if rel in current and current[rel] != text]
    missing = [rel for rel in outputs if rel not in current]
    orphans = [rel for rel in current if rel not in outputs]

    if args.check:
        if not (stale or missing or orphans):
            print(f"run_unasync: {len(outputs)} generated files are up to date")
            return 0
        for rel in stale:
            diff = difflib.unified_diff(
                outputs[rel].splitlines(keepends=True),
                current[rel].splitlines(keepends=True),
                fromfile=f"{rel} (as generated)",
                tofile=f"{rel} (as committed)",
            )
            sys.stderr.writelines(diff)
            print(f"run_unasync: STALE {rel} differs from its generated form", file=sys.stderr)
        for rel in missing:
            print(f"run_unasync: MISSING {rel} is not generated yet", file=sys.stderr)
        for rel in orphans:
            print(f"run_unasync: ORPHAN {rel} has no async source", file=sys.stderr)
        print(
            "run_unasync: generated code is out of date; edit the _async source and run "
            "`python tools/run_unasync.py` (never edit _sync by hand)",
            file=sys.stderr,
        )
        return 1

    for rel in [*stale, *missing]:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(outputs[rel], encoding="utf-8")
        print(f"run_unasync: wrote {rel}")
    for rel in orphans:
        (root / rel).unlink()
        print(f"run_unasync: removed orphan {rel}")
    if not (stale or missing or orphans):
        print(f"run_unasync: {len(outputs)} generated files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
