"""docker/docker-compose.cluster.yml: parses as YAML, describes 3 primaries + 3 replicas and a
one-shot `redis-cli --cluster create`, and its node options are accepted by a real redis-server
(docker itself cannot run here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import RedisServer

COMPOSE = Path(__file__).resolve().parent.parent / "docker" / "docker-compose.cluster.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def node_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose["services"].items()
        if svc.get("command", [None])[0] == "redis-server"
    }


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_six_cluster_nodes_on_distinct_ports(compose: dict[str, Any]) -> None:
    nodes = node_services(compose)
    assert len(nodes) == 6
    ports = sorted(int(option(svc["command"], "--port")) for svc in nodes.values())
    assert ports == list(range(7000, 7006))
    for svc in nodes.values():
        command = svc["command"]
        assert option(command, "--cluster-enabled") == "yes"
        assert option(command, "--cluster-config-file") == f"nodes-{option(command, '--port')}.conf"
        assert svc["environment"]["REDIS_PORT"] == option(command, "--port")
        assert svc["network_mode"] == "host" and "healthcheck" in svc


def test_one_shot_create_joins_every_node_with_one_replica_each(compose: dict[str, Any]) -> None:
    create = compose["services"]["cluster-create"]
    assert create["restart"] == "no"
    script = " ".join(create["command"])
    assert "--cluster create" in script and "--cluster-replicas 1" in script
    assert "--cluster-yes" in script
    ports = [int(option(s["command"], "--port")) for s in node_services(compose).values()]
    for port in ports:
        assert f"127.0.0.1:{port}" in script
    assert set(create["depends_on"]) == set(node_services(compose))
    assert all(d["condition"] == "service_healthy" for d in create["depends_on"].values())


def test_node_options_are_accepted_by_redis_server(
    compose: dict[str, Any], server_factory: Callable[..., RedisServer]
) -> None:
    command = next(iter(node_services(compose).values()))["command"]
    # Everything but the address (the test server picks a free port on loopback).
    extra = [a for i, a in enumerate(command[1:]) if command[i] not in ("--port", "--bind")]
    extra = [a for a in extra if a not in ("--port", "--bind")]
    server = server_factory(extra_args=extra)
    with server.admin() as admin:
        assert admin.info("cluster")["cluster_enabled"] == 1
        assert admin.config_get("appendonly")["appendonly"] == "yes"
