#!/usr/bin/env python3
"""Generate the sync code from its async source of truth, or check that it is up to date.

    python tools/run_unasync.py            # write redis_toolkit/_sync and tests/_sync
    python tools/run_unasync.py --check    # exit 1 (with a diff) if anything is stale

What it does, in order:

1. Lints every async source and refuses what unasync cannot convert token by token:
   ``asyncio`` or ``redis.asyncio`` used outside ``redis_toolkit/_compat.py`` and
   ``redis_toolkit/_coalesce.py``, ``await(``, ``AsyncGenerator[`` (write ``AsyncIterator``),
   quoted annotations naming ``Async*``, a misplaced ``# ASYNC`` marker, ``_coalesce`` imported on
   a line without the marker; library modules must start with
   ``from __future__ import annotations`` and import the package relatively.
2. Resolves the async-only branches (psycopg's convention) before conversion::

       if True:  # ASYNC
           self._commands = coalescing(self._client)   # kept in the async source only
       else:
           self._commands = self._client               # what the sync code gets

   An ``if True:  # ASYNC`` block becomes its ``else`` body (dedented), or nothing when it has no
   ``else``; an import statement whose line ends in ``# ASYNC`` is dropped. No ``elif``.
3. Converts each file with unasync (``Rule``/``unasync_files``, its public API only) and the
   explicit name map below, then heads it ``# Generated from <source> ... DO NOT EDIT.``
4. Rewrites the prose of docstrings and comments so it reads true in sync (:data:`DOC_REWRITES`,
   then every name of :data:`REPLACEMENTS`): ``await toolkit.x()`` becomes
   ``toolkit.x()``, ``async with`` becomes ``with``, ``AsyncRedisToolkit`` ``RedisToolkit``.
5. Checks every output parses and holds no ``async``, ``await`` or ``aclose`` token, no stray
   ``Async*`` or ``Sync*`` name (an ``AsyncX`` missing from the name map), imports from
   ``_compat`` only names that ``_compat`` exports, and keeps no hedge such as "(awaited in async)".
6. Writes the outputs and removes orphans (a generated file whose source is gone), or, with
   ``--check``, prints what differs and exits non-zero. ``--check`` also fails on a rule of
   :data:`REPLACEMENTS` that matches no token of any async source (a rule left behind).

The script is deliberately not named ``unasync.py``: it would import itself instead of the package.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import os
import re
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

# Names unasync's own rules do not cover. Its default turns ``AsyncFoo`` into ``SyncFoo``; every
# async name is mapped here explicitly instead, so the generated code reads as plain sync code.
REPLACEMENTS = {
    # package paths that tests import (redis_toolkit._async.memory -> redis_toolkit._sync.memory)
    "_async": "_sync",
    # lifecycle
    "aclose": "close",
    # the _compat twins
    "AsyncLock": "Lock",
    "AsyncEvent": "Event",
    "AsyncQueue": "Queue",
    "AsyncRuntime": "Runtime",
    "AsyncEmbedded": "Embedded",
    "AsyncRedis": "Redis",
    "AsyncRedisCluster": "RedisCluster",
    "AsyncClusterNode": "ClusterNode",
    "AsyncRetry": "Retry",
    "AsyncRedisPyLock": "RedisPyLock",
    "AsyncWatchPipeline": "WatchPipeline",
    "AsyncBlockingConnectionPool": "BlockingConnectionPool",
    # public classes
    "AsyncRedisToolkit": "RedisToolkit",
    "AsyncConnectionPoolManager": "ConnectionPoolManager",
    "async_pool_manager": "pool_manager",
    "AsyncSubscriber": "Subscriber",
    "AsyncRetryHandler": "RetryHandler",
    "AsyncCircuitBreaker": "CircuitBreaker",
    "AsyncHealthChecker": "HealthChecker",
    "AsyncResiliencePath": "ResiliencePath",
    "AsyncClusterOperations": "ClusterOperations",
    "AsyncTransaction": "Transaction",
    "AsyncRedisLock": "RedisLock",
    "AsyncRedisMemoryBackend": "RedisMemoryBackend",
    "AsyncClusterTopology": "ClusterTopology",
    "AsyncClusterResiliencePath": "ClusterResiliencePath",
    "AsyncClusterHealthChecker": "ClusterHealthChecker",
    "AsyncPerNodeCommands": "PerNodeCommands",
    # test fixtures: `atoolkit` in tests/_async is `toolkit` in tests/_sync
    "atoolkit": "toolkit",
    "atoolkit_server": "toolkit_server",
    "acluster_toolkit": "cluster_toolkit",
}

# Prose rewrites of docstrings and comments, in order, before the names of REPLACEMENTS. Keep
# this list short: a docstring that needs more says one thing true in both APIs instead.
DOC_REWRITES: list[tuple[str, str]] = [
    (r"\bawait\s+", ""),  # "``await toolkit.getter(k)``" -> "``toolkit.getter(k)``"
    (r"\basync (with|for)\b", r"\1"),  # "``async with toolkit:``" -> "``with toolkit:``"
    (r"\ban asyncio task\b", "a daemon thread"),  # what Runtime.spawn starts in sync
    (r"\basyncio task(s?)\b", r"thread\1"),
    (r" \(of this event loop\)", ""),  # async pools are per loop, sync pools per process
    (r"\bplain or async (callables?)\b", r"plain \1"),  # the sync API refuses async callables
]

# Hedges that say "this is only true in the other API": a generated docstring must not need them.
HEDGES = re.compile(r"awaited in (the )?async|\(async: ", re.IGNORECASE)

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


_ASYNC_ONLY_HINT = " (or, for what exists in async only, redis_toolkit._coalesce)"

# Modules of the package that exist in async only: reachable from _async on `# ASYNC` lines only.
ASYNC_ONLY_MODULES = {"_coalesce"}


def lint_source(rel: str, text: str, is_library: bool) -> list[Problem]:
    """Return what in one async source unasync cannot convert faithfully."""
    problems: list[Problem] = []
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as e:
        return [Problem(rel, e.lineno or 0, f"does not parse: {e.msg}")]

    resolved, branch_problems = resolve_async_branches(rel, text)
    problems.extend(branch_problems)
    if not branch_problems:
        try:
            sync_view = ast.parse(resolved, filename=rel)
        except SyntaxError as e:
            problems.append(
                Problem(rel, e.lineno or 0, f"does not parse once `# ASYNC` is resolved: {e.msg}")
            )
        else:
            for node in ast.walk(sync_view):
                if isinstance(node, ast.ImportFrom):
                    if (node.module or "").split(".")[-1] in ASYNC_ONLY_MODULES:
                        problems.append(
                            Problem(
                                rel,
                                node.lineno,
                                f"{node.module} is async only: import it on a line ending in "
                                "`# ASYNC` and use it in an `if True:  # ASYNC` branch",
                            )
                        )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_asyncio_module(alias.name):
                    problems.append(
                        Problem(
                            rel,
                            node.lineno,
                            f"imports {alias.name}: use redis_toolkit._compat" + _ASYNC_ONLY_HINT,
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
                    Problem(
                        rel,
                        node.lineno,
                        f"imports from {module}: use redis_toolkit._compat" + _ASYNC_ONLY_HINT,
                    )
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


# --- async-only branches ---------------------------------------------------------------------

_MARKER = re.compile(r"#\s*ASYNC\s*")


def _marker_lines(text: str) -> set[int]:
    """Lines that carry a ``# ASYNC`` comment (comments only: never text inside a string)."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT and _MARKER.fullmatch(tok.string):
            lines.add(tok.start[0])
    return lines


def _is_async_branch(node: ast.AST, markers: set[int]) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Constant)
        and node.test.value is True
        and node.lineno in markers
    )


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _resolve_one(rel: str, text: str, markers: set[int]) -> tuple[str | None, list[Problem]]:
    """Resolve the first marked statement of ``text``; None when there is none left."""
    tree = ast.parse(text, filename=rel)
    lines = text.splitlines(keepends=True)
    candidates = sorted(
        (
            node
            for node in ast.walk(tree)
            if _is_async_branch(node, markers)
            or (isinstance(node, (ast.Import, ast.ImportFrom)) and node.end_lineno in markers)
        ),
        key=lambda n: n.lineno,
    )
    if not candidates:
        return None, []
    node = candidates[0]
    end = node.end_lineno or node.lineno
    if not isinstance(node, ast.If):  # an async-only import: dropped
        return "".join(lines[: node.lineno - 1] + lines[end:]), []
    if node.body[0].lineno == node.lineno:
        return None, [Problem(rel, node.lineno, "`if True:  # ASYNC` needs its body on new lines")]
    replacement: list[str] = []
    if node.orelse:
        first = node.orelse[0]
        else_line = next(
            (
                n
                for n in range(node.body[-1].end_lineno or node.lineno, first.lineno)
                if lines[n].lstrip().startswith("else")
            ),
            None,
        )
        if else_line is None:  # the else holds one `if`: it was written `elif`
            return None, [Problem(rel, node.lineno, "`if True:  # ASYNC` takes `else`, not `elif`")]
        body = lines[else_line + 1 : end]
        outer = _indent(lines[node.lineno - 1])
        inner = _indent(lines[first.lineno - 1])
        for number, line in enumerate(body, start=else_line + 2):
            if not line.strip():
                replacement.append(line)
            elif line.startswith(inner):
                replacement.append(outer + line[len(inner) :])
            else:
                return None, [
                    Problem(rel, number, "cannot dedent this line of an `# ASYNC` else branch")
                ]
    return "".join(lines[: node.lineno - 1] + replacement + lines[end:]), []


def resolve_async_branches(rel: str, text: str) -> tuple[str, list[Problem]]:
    """The sync view of an async source: ``# ASYNC`` branches and imports resolved.

    Every ``if True:  # ASYNC`` becomes its ``else`` body (or nothing) and every import
    statement ending in ``# ASYNC`` goes. A marker anywhere else is a problem: it would be
    silently ignored otherwise.
    """
    if "ASYNC" not in text:  # no marker: nothing to resolve
        return text, []
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as e:
        return text, [Problem(rel, e.lineno or 0, f"does not parse: {e.msg}")]
    markers = _marker_lines(text)
    used = {
        n.lineno if isinstance(n, ast.If) else (n.end_lineno or n.lineno)
        for n in ast.walk(tree)
        if _is_async_branch(n, markers)
        or (isinstance(n, (ast.Import, ast.ImportFrom)) and n.end_lineno in markers)
    }
    stray = sorted(markers - used)
    if stray:
        return text, [
            Problem(
                rel,
                line,
                "`# ASYNC` marks only an `if True:` line or the last line of an import",
            )
            for line in stray
        ]
    while True:
        resolved, problems = _resolve_one(rel, text, _marker_lines(text))
        if problems:
            return text, problems
        if resolved is None:
            return text, []
        text = resolved


# --- prose: docstrings and comments -------------------------------------------------------------


def _prose_rules() -> list[tuple[re.Pattern[str], str]]:
    rules = [(re.compile(pattern), repl) for pattern, repl in DOC_REWRITES]
    for name in sorted(REPLACEMENTS, key=len, reverse=True):
        if name == "_async":  # a path in prose names the source of truth: it stays as written
            continue
        rules.append((re.compile(rf"(?<!\w){re.escape(name)}\b"), REPLACEMENTS[name]))
    return rules


def rewrite_prose(text: str) -> str:
    """Apply the prose rules to a docstring's or a comment's text."""
    if not any(c.isalpha() for c in text):
        return text
    for pattern, repl in _prose_rules():
        text = pattern.sub(repl, text)
    return text


def _prose_tokens(text: str) -> list[tokenize.TokenInfo]:
    """Comments and docstrings (a string that is a statement by itself) of ``text``."""
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type not in (tokenize.NL, tokenize.ENCODING)
    ]
    found: list[tokenize.TokenInfo] = []
    starts = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            found.append(tok)
        elif tok.type == tokenize.STRING:
            before = next((t for t in reversed(tokens[:i]) if t.type != tokenize.COMMENT), None)
            after = next((t for t in tokens[i + 1 :] if t.type != tokenize.COMMENT), None)
            if (before is None or before.type in starts) and (
                after is None or after.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
            ):
                found.append(tok)
    return found


def rewrite_docs(text: str) -> str:
    """``text`` with the prose of its docstrings and comments rewritten for the sync API."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    try:
        prose = _prose_tokens(text)
    except (tokenize.TokenError, SyntaxError):  # unparseable output: check_output says so
        return text
    for tok in reversed(prose):
        if tok.type == tokenize.COMMENT and tok.start[0] == 1 and tok.string.startswith("#!"):
            continue
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        text = text[:start] + rewrite_prose(text[start:end]) + text[end:]
    return text


def unused_rules(sources: dict[str, str]) -> list[str]:
    """Rules of REPLACEMENTS that match no token of any async source (unasync's own view:
    a name, or a string holding exactly that name)."""
    seen: set[str] = set()
    for text in sources.values():
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type == tokenize.NAME:
                    seen.add(tok.string)
                elif tok.type == tokenize.STRING and len(tok.string) >= 2:
                    seen.add(tok.string[1:-1])
        except (tokenize.TokenError, SyntaxError):  # the lint reports a source that does not parse
            continue
    return [name for name in REPLACEMENTS if name not in seen]


# --- checks of the output -------------------------------------------------------------------


def compat_exports(root: Path) -> set[str]:
    """The names redis_toolkit/_compat.py exports (its ``__all__``): the twins."""
    tree = ast.parse((root / "redis_toolkit" / "_compat.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return {str(name) for name in value}
    return set()


def check_output(rel: str, text: str, twins: set[str]) -> list[Problem]:
    """Return what is wrong in one generated file."""
    problems: list[Problem] = []
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError as e:
        return [Problem(rel, e.lineno or 0, f"generated code does not parse: {e.msg}")]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "_compat":
            for alias in node.names:
                if alias.name not in twins:
                    problems.append(
                        Problem(
                            rel,
                            node.lineno,
                            f"imports {alias.name} from _compat, which does not export it: add the "
                            "twin to _compat (and its __all__) or map the async name in "
                            "REPLACEMENTS",
                        )
                    )
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.COMMENT, tokenize.STRING):
            match = HEDGES.search(tok.string)
            if match:
                problems.append(
                    Problem(
                        rel,
                        tok.start[0],
                        f"generated prose hedges ({match.group(0)!r}): say it in async in the "
                        "source and let the generator rewrite it",
                    )
                )
            continue
        if tok.type != tokenize.NAME:
            continue
        if tok.string in FORBIDDEN_OUTPUT_NAMES:
            problems.append(
                Problem(rel, tok.start[0], f"generated code still holds `{tok.string}`")
            )
        elif tok.string.startswith("Async") and tok.string[5:6].isupper():
            problems.append(Problem(rel, tok.start[0], f"generated code holds {tok.string}"))
        elif tok.string.startswith("Sync") and tok.string[4:5].isupper():
            problems.append(
                Problem(
                    rel,
                    tok.start[0],
                    f"{tok.string} is unasync's default for an unmapped name: add "
                    f"'Async{tok.string[4:]}' to REPLACEMENTS in tools/run_unasync.py",
                )
            )
    return problems


# --- generation -----------------------------------------------------------------------------


def generate(root: Path) -> tuple[dict[str, str], list[str], list[Problem], list[str]]:
    """Convert every async source under ``root``.

    Returns ``(outputs, expected_dirs, problems, unused)``: the generated text keyed by its path
    relative to root, the generated directories, every lint or output problem found, and the
    rules of REPLACEMENTS that matched nothing.
    """
    problems: list[Problem] = []
    outputs: dict[str, str] = {}
    twins = compat_exports(root)
    sources: dict[str, str] = {}
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
                sources[source_rel] = text
                problems.extend(lint_source(source_rel, text, is_library))
                resolved, _ = resolve_async_branches(source_rel, text)
                stage = Path(tmp, f"tree{index}", "_async", rel_in_tree)
                stage.parent.mkdir(parents=True, exist_ok=True)
                stage.write_text(resolved, encoding="utf-8")
                staged.append((source_rel, str(stage), f"{dst_dir}/{rel_in_tree}"))

        unasync.unasync_files([s for _, s, _ in staged], [rule])

        for source_rel, stage, output_rel in staged:
            converted_path = stage.replace(f"{os.sep}_async{os.sep}", f"{os.sep}_sync{os.sep}")
            body = rewrite_docs(Path(converted_path).read_text(encoding="utf-8"))
            text = HEADER.format(source=source_rel) + body
            problems.extend(check_output(output_rel, text, twins))
            outputs[output_rel] = text

    return outputs, [dst for _, dst, _ in TREES], problems, unused_rules(sources)


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

    outputs, dst_dirs, problems, unused = generate(root)
    if problems:
        print("run_unasync: the async source cannot be converted as it is:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 2

    current = existing_outputs(root, dst_dirs)
    stale = [rel for rel, text in outputs.items() if rel in current and current[rel] != text]
    missing = [rel for rel in outputs if rel not in current]
    orphans = [rel for rel in current if rel not in outputs]

    for name in unused:
        print(
            f"run_unasync: UNUSED rule {name!r} -> {REPLACEMENTS[name]!r} matches nothing in any "
            "async source: remove it from REPLACEMENTS",
            file=sys.stderr,
        )

    if args.check:
        if not (stale or missing or orphans or unused):
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
        if stale or missing or orphans:
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
