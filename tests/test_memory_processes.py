"""Two memory backends in two processes see each other's adds, updates, deletes and expiries.

The child process runs the sync backend and obeys one command per line on stdin (answering one
JSON line); the parent runs its own backend on the same private server. Each side's next query
must show the other side's change: the cache coherence protocol, not a shared cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from redis_toolkit import RedisMemoryBackend
from redis_toolkit.memory import MemoryEntry, MemoryQuery
from tests.servers import RedisServer

CHILD = r"""
import json, sys
import numpy as np
from redis_toolkit import RedisMemoryBackend
from redis_toolkit.memory import MemoryEntry, MemoryQuery

url, prefix = sys.argv[1], sys.argv[2]
backend = RedisMemoryBackend.from_url(url, key_prefix=prefix, reclaim_interval=0)
backend.initialize()
print(json.dumps("ready"), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd["op"]
    if op == "add":
        backend.add(MemoryEntry(id=cmd["id"], content=cmd["content"], embedding=cmd["vec"]),
                    ttl=cmd.get("ttl"))
        out = "ok"
    elif op == "update":
        out = backend.update(cmd["id"], embedding=cmd["vec"]).version
    elif op == "delete":
        out = backend.delete(cmd["id"])
    elif op == "top":
        out = [r.id for r in backend.query(MemoryQuery(embedding=cmd["vec"], limit=3))]
    elif op == "stats":
        out = backend.get_metrics()["memory"]
    else:
        break
    print(json.dumps(out), flush=True)
backend.close()
"""


class Child:
    """The other process."""

    def __init__(self, url: str, prefix: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, prefix],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._read() == "ready"

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the child process ended"
        return json.loads(line)

    def __call__(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def pair(redis_server: RedisServer, prefix: str) -> Iterator[tuple[RedisMemoryBackend, Child]]:
    key_prefix = prefix.rstrip(":")
    mine = RedisMemoryBackend.from_url(redis_server.url, key_prefix=key_prefix, reclaim_interval=0)
    mine.initialize()
    child = Child(redis_server.url, key_prefix)
    yield mine, child
    child.close()
    mine.clear()
    mine.close()


def vec(seed: int) -> list[float]:
    return np.random.default_rng(seed).standard_normal(16).astype(np.float32).tolist()


def test_each_process_sees_the_others_changes(pair: tuple[RedisMemoryBackend, Child]) -> None:
    mine, child = pair
    mine.add_batch([MemoryEntry(id=f"p{i}", content=f"parent {i}", embedding=vec(i))
                    for i in range(50)])  # fmt: skip
    target = vec(7)

    def my_top() -> list[str]:
        return [r.id for r in mine.query(MemoryQuery(embedding=target, limit=3))]

    assert child("top", vec=target)[0] == "p7"  # the child loads what the parent wrote
    assert my_top()[0] == "p7"
    # The child adds; the parent's next query sees it.
    assert child("add", id="c1", content="from the child", vec=target) == "ok"
    assert set(my_top()[:2]) == {"c1", "p7"}
    # The parent updates the child's entry away; the child's next query sees it.
    mine.update("c1", embedding=[-x for x in target])
    assert "c1" not in child("top", vec=target)
    # The child updates it back (a newer version); the parent sees it.
    before = mine.get("c1")
    assert before is not None
    assert child("update", id="c1", vec=target) > before.version
    assert "c1" in my_top()[:2]
    # The parent deletes; the child sees it.
    assert mine.delete("c1") is True
    assert child("top", vec=target)[0] == "p7"
    # The child deletes one of the parent's; the parent sees it.
    assert child("delete", id="p7") is True
    assert "p7" not in my_top()
    # Expiries, both ways: short TTLs, polled with a deadline.
    child("add", id="brief-c", content="child, brief", vec=target, ttl=0.3)
    mine.add(MemoryEntry(id="brief-p", content="parent, brief", embedding=target), ttl=0.3)
    assert {"brief-c", "brief-p"} <= set(my_top())
    assert {"brief-c", "brief-p"} <= set(child("top", vec=target))
    deadline = time.monotonic() + 10
    while {"brief-c", "brief-p"} & (set(my_top()) | set(child("top", vec=target))):
        assert time.monotonic() < deadline, "expired memories still found"
        time.sleep(0.02)
    # Each side patched its matrix from the change log: one full load each, at first use.
    assert child("stats")["full_loads"] == 1
    assert mine.get_metrics()["memory"]["full_loads"] == 1
