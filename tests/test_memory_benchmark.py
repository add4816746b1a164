"""The memory benchmark script runs (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers import RedisServer

ROOT = Path(__file__).resolve().parent.parent


def test_memory_benchmark_smoke(redis_server: RedisServer) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_memory.py", "--quick", "--url", redis_server.url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout and "cache/raw float32" in result.stdout
