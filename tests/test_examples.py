"""Every example in examples/ runs, on the private real server and on the embedded backend;
the examples of examples/cluster/ on the private cluster (REDIS_CLUSTER_URL), except the failover
example, which swaps a master and its replica and has a test of its own. Each runs exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import RedisClusterNodes, RedisServer

ROOT = Path(__file__).resolve().parent.parent
ALL_CLUSTER_EXAMPLES = sorted((ROOT / "examples" / "cluster").glob("*.py"))
#: Run only by test_failover_example_runs_on_cluster: it takes REDIS_CLUSTER_NODES, forces a
#: failover on the shared cluster and prints no "deleted" line.
FAILOVER_EXAMPLE = ROOT / "examples" / "cluster" / "failover_handling.py"
CLUSTER_EXAMPLES = [p for p in ALL_CLUSTER_EXAMPLES if p != FAILOVER_EXAMPLE]
EXAMPLES = sorted(set((ROOT / "examples").rglob("*.py")) - set(ALL_CLUSTER_EXAMPLES))


def run(
    path: Path, url: str | None, variable: str = "REDIS_URL"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER_URL")}
    if url is not None:
        env[variable] = url
    return subprocess.run(
        [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.relative_to(ROOT).as_posix() for p in EXAMPLES])
def test_example_runs_on_real_server(path: Path, redis_server: RedisServer) -> None:
    result = run(path, redis_server.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.relative_to(ROOT).as_posix() for p in EXAMPLES])
def test_example_runs_on_embedded_backend(path: Path) -> None:
    result = run(path, None)
    assert result.returncode == 0, result.stderr


@pytest.mark.cluster
@pytest.mark.parametrize(
    "path", CLUSTER_EXAMPLES, ids=[p.relative_to(ROOT).as_posix() for p in CLUSTER_EXAMPLES]
)
def test_cluster_example_runs_on_the_private_cluster(
    path: Path, redis_cluster: RedisClusterNodes
) -> None:
    url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in redis_cluster.startup_nodes)
    result = run(path, url, "REDIS_CLUSTER_URL")
    assert result.returncode == 0, result.stderr
    assert "deleted" in result.stdout and "INCOMPLETE" not in result.stdout


def test_there_are_cluster_examples() -> None:
    names = {p.name for p in CLUSTER_EXAMPLES}
    assert {"basic_operations.py", "sharding_demo.py", "performance_test.py"} <= names
    assert FAILOVER_EXAMPLE in ALL_CLUSTER_EXAMPLES and FAILOVER_EXAMPLE not in CLUSTER_EXAMPLES


def test_demo_runs_on_embedded_backend() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "redis_toolkit", "demo"],
        env=env, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "embedded" in result.stdout and "done." in result.stdout


def test_demo_runs_on_real_server(redis_server: RedisServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "redis_toolkit", "demo", "--url", redis_server.url],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert redis_server.url in result.stdout


def test_pubsub_benchmark_smoke(redis_server: RedisServer) -> None:
    """The pub/sub benchmark script runs (no timing is asserted)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_pubsub.py", "--quick", "--url", redis_server.url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "msg/s" in result.stdout


def test_core_benchmark_smoke(redis_server: RedisServer) -> None:
    """The benchmark script runs (no timing is asserted)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_core.py", "--quick", "--url", redis_server.url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout


@pytest.mark.cluster
def test_cluster_benchmark_smoke(
    redis_server: RedisServer, redis_cluster: RedisClusterNodes
) -> None:
    """The cluster benchmark script runs on the fixture server and cluster (no timing asserted)."""
    curl = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in redis_cluster.startup_nodes)
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_cluster.py", "--quick",
         "--url", redis_server.url, "--cluster-url", curl],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ratio") >= 4


def test_transactions_benchmark_smoke(redis_server: RedisServer) -> None:
    """The transactions benchmark script runs (no timing is asserted)."""
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_transactions.py", "--quick", "--url", redis_server.url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "contended / uncontended" in result.stdout


@pytest.mark.cluster
def test_failover_example_runs_on_cluster(redis_cluster: RedisClusterNodes) -> None:
    """examples/cluster/failover_handling.py on the fixture cluster: a graceful failover while it
    writes, no error reaches it, the sharded subscriber receives afterwards."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "REDIS_CLUSTER_URL", "REDIS_CLUSTER_NODES")
    }
    env["REDIS_CLUSTER_NODES"] = ",".join(f"{h}:{p}" for h, p in redis_cluster.startup_nodes)
    result = subprocess.run(
        [sys.executable, str(FAILOVER_EXAMPLE)],
        env=env, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "failover done: True" in result.stdout, result.stdout
    assert "errors seen by the caller: 0" in result.stdout, result.stdout
    assert "receives after the failover: True" in result.stdout, result.stdout
    redis_cluster.wait_ready(30)  # the shared cluster is whole again (roles swapped)
