"""Test fixtures: real private Redis servers, and per-test isolation.

- ``redis_server``: a session-scoped private standalone redis-server on a free loopback port.
- ``redis_cluster``: a session-scoped private 6-node cluster (3 masters, 3 replicas), started
  only when a test asks for it; its start-up time is printed in the session summary.
- ``server_factory``: function-scoped extra servers for fault tests (stopped, killed, stalled
  freely); each is stopped at the end of its test.
- ``prefix``: a key prefix unique to the test; keys under it are deleted afterwards.
- ``@pytest.mark.cluster_too`` (on a test or a module): the ``atoolkit``/``toolkit`` fixture runs
  the test on the private cluster as well (server, embedded, cluster), from one test source.

Property tests (hypothesis) run under the profile named by ``HYPOTHESIS_PROFILE``: ``dev``
(the default, ``make test``: 100 examples a test) or ``thorough`` (1,000 examples a test, what
the serialization property tests ran before they got a budget:
``HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_serialization*.py``). Failing
examples are kept in ``.hypothesis/`` and replayed first on the next run under either profile.

The async/sync pairs (``atoolkit`` -> ``toolkit``) live in tests/_async/conftest.py and its
generated twin tests/_sync/conftest.py.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.servers import RedisClusterNodes, RedisServer, redis_binaries_present
from tests.tls import certs, mutual_tls_server, tls_server  # noqa: F401 - fixtures for every test

settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_cluster_startup: list[float] = []


def _require_binaries() -> None:
    if not redis_binaries_present():
        pytest.exit(
            "redis-server and redis-cli are needed to run the tests (they start private "
            "servers). Run `make test`, which installs them, or install Redis yourself.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The private standalone server shared by the session (never the shared 6379)."""
    _require_binaries()
    server = RedisServer(tmp_path_factory.mktemp("redis-standalone")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """The private 6-node cluster shared by the session."""
    _require_binaries()
    cluster = RedisClusterNodes(tmp_path_factory.mktemp("redis-cluster")).start()
    assert cluster.startup_seconds is not None
    _cluster_startup.append(cluster.startup_seconds)
    yield cluster
    cluster.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start extra private servers for one test: ``server_factory(extra_args=[...])``."""
    _require_binaries()
    started: list[RedisServer] = []

    def make(extra_args: list[str] | None = None) -> RedisServer:
        server = RedisServer(tmp_path / f"server{len(started)}", extra_args=extra_args).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix unique to this test: ``<test name>:<random>:``."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)[:40]
    return f"t:{name}:{uuid.uuid4().hex[:8]}:"


#: The backends of the ``atoolkit``/``toolkit`` fixture for tests marked ``cluster_too``.
CLUSTER_TOO_BACKENDS = ["server", "embedded", "cluster"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster_too: run the atoolkit/toolkit fixture on the private cluster too (one source)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A parametrize *mark* (not a direct call) takes precedence over the fixture's own params.
    if metafunc.definition.get_closest_marker("cluster_too") is None:
        return
    for name in ("atoolkit", "toolkit"):
        if name in metafunc.fixturenames:
            mark = pytest.mark.parametrize(name, CLUSTER_TOO_BACKENDS, indirect=True)
            metafunc.definition.add_marker(mark)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: tell the controller
        workeroutput["cluster_startup"] = list(_cluster_startup)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller: collect each worker's cluster start-up time for the summary."""
    _cluster_startup.extend(getattr(node, "workeroutput", {}).get("cluster_startup", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _cluster_startup:
        terminalreporter.write_line(
            f"private Redis Cluster (6 nodes) ready in {_cluster_startup[0]:.2f}s"
        )
