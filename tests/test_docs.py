"""Every ```python block of the guides runs, with its own imports, against the private servers.

Each block runs as a script in a fresh interpreter with ``REDIS_URL`` set to the private
standalone server. Info strings choose how:

- ```python            runs against the standalone server;
- ```python cluster    runs with ``REDIS_CLUSTER_NODES`` set to the private cluster's nodes;
- ```python no-run: <reason>   is not run (the reason is required);
- a block right after ``<!-- design snippet: name -->`` is not run here: the design's snippets
  must stay exactly as the design wrote them (they connect to localhost:6379), and
  tests/test_memory_design.py runs them against the private server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [
    ROOT / "README.md",
    ROOT / "docs" / "ASYNC_GUIDE.md",
    ROOT / "docs" / "MIGRATION_GUIDE.md",
    ROOT / "docs" / "SERIALIZATION.md",
    ROOT / "docs" / "CLUSTER_GUIDE.md",
    ROOT / "docs" / "CLUSTER_FAILOVER.md",
    ROOT / "docs" / "TRANSACTIONS.md",
    ROOT / "docs" / "MEMORY_BACKEND.md",
]
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.M | re.S)
DESIGN_SNIPPET = re.compile(r"<!-- design snippet: \w+ -->\n$")
DESIGN_NO_RUN = "no-run: a design snippet kept as written; tests/test_memory_design.py runs it"


def blocks(path: Path) -> list[tuple[str, str, int]]:
    """(info string, code, line number) of each python block."""
    text = path.read_text(encoding="utf-8")
    return [
        (
            DESIGN_NO_RUN if DESIGN_SNIPPET.search(text, 0, m.start()) else m.group(1).strip(),
            m.group(2),
            text.count("\n", 0, m.start()) + 1,
        )
        for m in FENCE.finditer(text)
    ]


CASES = [
    pytest.param(path, info, code, id=f"{path.name}:{line}")
    for path in GUIDES
    for info, code, line in blocks(path)
]


def test_the_guides_have_blocks_and_every_marker_is_known() -> None:
    for path in GUIDES:
        found = blocks(path)
        assert found, f"{path.name} has no python block"
        assert any(not info.startswith("no-run") for info, _, _ in found), (
            f"{path.name}: no block runs"
        )
        for info, _, line in found:
            assert info in ("", "cluster") or re.match(r"no-run: \S", info), (
                f"{path.name}:{line}: unknown marker {info!r} (no-run needs a reason)"
            )


@pytest.mark.parametrize(("path", "info", "code"), CASES)
def test_guide_block_runs(
    path: Path, info: str, code: str, redis_server: RedisServer, request: pytest.FixtureRequest
) -> None:
    if info.startswith("no-run"):
        pytest.skip(info)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    env["REDIS_URL"] = redis_server.url
    if info == "cluster":
        cluster = request.getfixturevalue("redis_cluster")
        env["REDIS_CLUSTER_NODES"] = ",".join(f"{h}:{p}" for h, p in cluster.startup_nodes)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{path.name} block failed:\n{code}\n{result.stderr}"
