"""The design's snippets, as docs/MEMORY_BACKEND.md quotes them, run against a private server.

They are run as written except for two things the snippets cannot know: the first one's
``host="localhost", port=6379`` is pointed at the private server (never the shared 6379), and
the placeholder ``...`` that ends the query vector ("your embedding vector") is dropped. The
fragments (batch, vector query, metrics) use a ``backend`` and top-level ``await``: they run in
that order inside one ``async def`` that creates ``backend`` the way the first snippet does.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "MEMORY_BACKEND.md"


def snippets() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- design snippet: (\w+) -->\n```python\n(.*?)```", text, re.S)
    return dict(found)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_the_doc_quotes_the_four_snippets() -> None:
    assert list(snippets()) == ["basic", "batch", "vector", "metrics"]


def test_basic_usage_snippet(redis_server: RedisServer) -> None:
    code = snippets()["basic"]
    target = 'host="localhost",\n            port=6379,'
    assert target in code
    private = f'host="{redis_server.host}",\n            port={redis_server.port},'
    code = code.replace(target, private)
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert "Retrieved: MemoryEntry(id='test1', content='Test memory'" in result.stdout
    admin = redis_server.admin()
    keys = list(admin.scan_iter(match="mem:{default}:*"))
    assert keys
    admin.delete(*keys)


def test_batch_vector_and_metrics_snippets(redis_server: RedisServer) -> None:
    parts = snippets()
    vector = parts["vector"]
    assert "[0.1, 0.2, 0.3, ...]" in vector
    vector = vector.replace("[0.1, 0.2, 0.3, ...]", "[0.1, 0.2, 0.3]")
    parts["vector"] = vector + (
        'assert len(results) == 10 and all(r.content.startswith("Batch entry") for r in results)\n'
    )
    body = "\n".join(textwrap.indent(parts[n], "    ") for n in ("batch", "vector", "metrics"))
    namespace = f"design-{uuid.uuid4().hex[:8]}"
    code = f"""
import asyncio
from redis_toolkit.memory import RedisBackendV2, RedisConfig, MemoryEntry, MemoryType

async def main():
    backend = RedisBackendV2(
        config=RedisConfig(
            host="{redis_server.host}", port={redis_server.port}, max_connections=50
        ),
        key_prefix="{namespace}",
    )
    await backend.initialize()
{body}
    await backend.clear()
    await backend.close()

asyncio.run(main())
"""
    result = run(code)
    assert result.returncode == 0, result.stderr + code
    out = result.stdout
    assert "Added 100 entries" in out
    assert out.count("Score: ") == 10 and "Content: Batch entry" in out
    assert "Success rate: 1.0" in out and "State: closed" in out and "Connected: True" in out


@pytest.mark.parametrize("name", ["batch", "vector", "metrics"])
def test_fragments_are_quoted_unchanged(name: str) -> None:
    """The fragments keep the design's call shapes (what users type)."""
    shapes = {
        "batch": "ids = await backend.add_batch(entries)",
        "vector": "results = await backend.query(query)",
        "metrics": "health = backend.get_health_status()",
    }
    assert shapes[name] in snippets()[name]
