"""RedisMetrics (counts, percentiles, caps, threads) and the optional Prometheus collector."""

from __future__ import annotations

import math
import random
import re
import sys
import threading
from typing import Any

import pytest
import redis

from redis_toolkit.exceptions import ValidationError
from redis_toolkit.resilience import (
    LATENCY_BUCKET_BOUNDS,
    OTHER_COMMAND,
    CircuitState,
    RedisMetrics,
)
from redis_toolkit.resilience.commands import KNOWN_COMMANDS
from tests.clock import FakeClock

SNAPSHOT_KEYS = {
    "total_operations",
    "successful_operations",
    "failed_operations",
    "success_rate",
    "avg_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "p99_latency_ms",
    "max_latency_ms",
    "retries",
    "breaker_state",
    "breaker_transitions",
    "errors_by_type",
    "commands",
    "uptime_seconds",
}
COMMAND_KEYS = {"total", "failures", "avg_latency_ms", "p95_latency_ms", "retries"}


def exact_percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def test_empty_snapshot() -> None:
    snap = RedisMetrics(clock=FakeClock()).snapshot()
    assert SNAPSHOT_KEYS <= set(snap)
    assert snap["total_operations"] == 0
    assert snap["success_rate"] == 1.0
    assert snap["avg_latency_ms"] == snap["p99_latency_ms"] == snap["max_latency_ms"] == 0.0
    assert snap["breaker_state"] is None and snap["breaker_transitions"] == 0
    assert snap["commands"] == {} and snap["errors_by_type"] == {}


def test_counts_success_rate_and_errors() -> None:
    metrics = RedisMetrics(clock=FakeClock())
    metrics.record("GET", 0.001, ok=True)
    metrics.record("get", 0.003, ok=True)
    metrics.record("SET", 0.002, ok=True)
    metrics.record("SET", 0.010, ok=False, error=redis.ConnectionError("down"))
    metrics.record("SET", 0.010, ok=False)  # a failure without an error object
    snap = metrics.snapshot()
    assert snap["total_operations"] == 5
    assert snap["successful_operations"] == 3
    assert snap["failed_operations"] == 2
    assert snap["success_rate"] == pytest.approx(0.6)
    assert snap["avg_latency_ms"] == pytest.approx(5.2)
    assert snap["max_latency_ms"] == pytest.approx(10.0)
    assert snap["errors_by_type"] == {"ConnectionError": 1}
    assert set(snap["commands"]) == {"GET", "SET"}
    get = snap["commands"]["GET"]
    assert COMMAND_KEYS <= set(get)
    assert get["total"] == 2 and get["failures"] == 0
    assert get["avg_latency_ms"] == pytest.approx(2.0)
    assert snap["commands"]["SET"]["failures"] == 2


def test_percentiles_within_ten_percent_uniform() -> None:
    metrics = RedisMetrics()
    latencies = [ms / 1000.0 for ms in range(1, 1001)]
    random.Random(1).shuffle(latencies)
    for latency in latencies:
        metrics.record("GET", latency, ok=True)
    snap = metrics.snapshot()
    for key, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        expected = exact_percentile(latencies, fraction) * 1000
        assert snap[f"{key}_latency_ms"] == pytest.approx(expected, rel=0.10), key
    assert snap["commands"]["GET"]["p95_latency_ms"] == pytest.approx(950, rel=0.10)
    assert snap["max_latency_ms"] == pytest.approx(1000.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentiles_within_ten_percent_lognormal(seed: int) -> None:
    rng = random.Random(seed)
    metrics = RedisMetrics()
    latencies = [rng.lognormvariate(math.log(0.0008), 1.2) for _ in range(20_000)]
    for latency in latencies:
        metrics.record("HGETALL", latency, ok=True)
    snap = metrics.snapshot()
    for key, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        expected = exact_percentile(latencies, fraction) * 1000
        assert snap[f"{key}_latency_ms"] == pytest.approx(expected, rel=0.10), key
        command_figure = snap["commands"]["HGETALL"][f"{key}_latency_ms"]
        assert command_figure == snap[f"{key}_latency_ms"]


def test_percentiles_of_a_single_value_and_extremes() -> None:
    metrics = RedisMetrics()
    metrics.record("GET", 0.0042, ok=True)
    snap = metrics.snapshot()
    assert snap["p50_latency_ms"] == pytest.approx(4.2)  # clamped to the observed value
    metrics.reset()
    metrics.record("GET", 1e-7, ok=True)  # below the first bucket
    metrics.record("GET", 120.0, ok=True)  # above the last
    snap = metrics.snapshot()
    assert 0 <= snap["p50_latency_ms"] <= 120_000.0
    assert snap["p99_latency_ms"] == pytest.approx(120_000.0)
    assert snap["max_latency_ms"] == pytest.approx(120_000.0)


def test_bad_latencies_are_clamped() -> None:
    metrics = RedisMetrics()
    metrics.record("GET", -1.0, ok=True)
    metrics.record("GET", float("nan"), ok=True)
    metrics.record("GET", float("inf"), ok=True)
    snap = metrics.snapshot()
    assert snap["total_operations"] == 3
    assert math.isfinite(snap["avg_latency_ms"]) and math.isfinite(snap["max_latency_ms"])


def test_buckets_are_ten_percent_wide_from_10us_to_60s() -> None:
    assert LATENCY_BUCKET_BOUNDS[0] == pytest.approx(1e-5)
    assert LATENCY_BUCKET_BOUNDS[-1] >= 60.0 > LATENCY_BUCKET_BOUNDS[-2]
    ratios = {round(b / a, 9) for a, b in zip(LATENCY_BUCKET_BOUNDS, LATENCY_BUCKET_BOUNDS[1:])}
    assert ratios == {1.1}
    assert len(LATENCY_BUCKET_BOUNDS) < 200


def test_command_names_are_upper_cased_and_key_like_names_rejected() -> None:
    metrics = RedisMetrics()
    metrics.record("get", 0.001, ok=True)
    metrics.record(b"get", 0.001, ok=True)  # type: ignore[arg-type]
    metrics.record(" Get ", 0.001, ok=True)
    metrics.record("json.get", 0.001, ok=True)
    metrics.record("user:42:session", 0.001, ok=True)
    metrics.record("https://example.com/x", 0.001, ok=True)
    metrics.record("x" * 100, 0.001, ok=True)
    commands = metrics.snapshot()["commands"]
    assert commands["GET"]["total"] == 3
    assert commands["JSON.GET"]["total"] == 1
    assert commands[OTHER_COMMAND]["total"] == 3
    assert set(commands) == {"GET", "JSON.GET", OTHER_COMMAND}


def test_number_of_command_names_is_capped() -> None:
    metrics = RedisMetrics(max_commands=10)
    names = sorted(KNOWN_COMMANDS)[:40]  # only known command names become labels
    for i in range(5000):
        metrics.record(names[i % 40], 0.001, ok=i % 2 == 0)
        metrics.record_retry(names[i % 40])
    snap = metrics.snapshot()
    assert len(snap["commands"]) == 11  # 10 names + OTHER
    assert sum(c["total"] for c in snap["commands"].values()) == 5000
    assert sum(c["retries"] for c in snap["commands"].values()) == 5000 == snap["retries"]
    # The first 10 names (125 records each) took the 10 slots, the 30 others went to OTHER.
    assert snap["commands"][OTHER_COMMAND]["total"] == 3750
    assert len(metrics._lookup) <= 4 * metrics.max_commands  # the raw-name cache is bounded too


def test_error_types_are_capped() -> None:
    metrics = RedisMetrics()
    for i in range(200):
        error_type = type(f"Error{i}", (Exception,), {})
        metrics.record("GET", 0.001, ok=False, error=error_type())
    errors = metrics.snapshot()["errors_by_type"]
    assert len(errors) <= 65
    assert sum(errors.values()) == 200


def test_retries_and_breaker_figures() -> None:
    metrics = RedisMetrics()
    metrics.record_retry("GET")
    metrics.record_retry("get")
    metrics.record_retry()
    metrics.record_breaker_transition(CircuitState.CLOSED, CircuitState.OPEN)
    metrics.record_breaker_transition("open", "half_open")
    snap = metrics.snapshot()
    assert snap["retries"] == 3
    assert snap["commands"]["GET"]["retries"] == 2
    assert snap["breaker_state"] == "half_open"
    assert snap["breaker_transitions"] == 2 and snap["breaker_opens"] == 1
    metrics.set_breaker_state(CircuitState.CLOSED)
    assert metrics.snapshot()["breaker_state"] == "closed"
    assert metrics.snapshot()["breaker_transitions"] == 2


def test_reset_and_uptime() -> None:
    clock = FakeClock()
    metrics = RedisMetrics(clock=clock)
    clock.advance(12.5)
    metrics.record("GET", 0.001, ok=False, error=ValueError())
    metrics.record_breaker_transition("closed", "open")
    assert metrics.snapshot()["uptime_seconds"] == pytest.approx(12.5)
    metrics.reset()
    clock.advance(2.0)
    snap = metrics.snapshot()
    assert snap["total_operations"] == 0 and snap["errors_by_type"] == {}
    assert snap["breaker_transitions"] == 0
    assert snap["breaker_state"] == "open"  # the breaker did not change by resetting metrics
    assert snap["uptime_seconds"] == pytest.approx(2.0)


def test_invalid_max_commands() -> None:
    with pytest.raises(ValidationError, match="max_commands"):
        RedisMetrics(max_commands=0)


def test_overall_figures_are_the_sum_of_the_commands() -> None:
    """Recording updates only the command's own figures; every overall figure adds them up."""
    metrics = RedisMetrics(clock=FakeClock())
    metrics.record("GET", 0.002, ok=True)
    metrics.record("GET", 0.0005, ok=True)
    metrics.record("SET", 0.004, ok=False, error=redis.TimeoutError("slow"))
    metrics.record("HGET", 0.001, ok=True)
    metrics.record_retry("SET")
    metrics.record_conflict("EXEC")
    metrics.record_conflict()
    snap = metrics.snapshot()
    assert snap["total_operations"] == 4 == metrics.total_operations
    assert snap["failed_operations"] == 1 == metrics.failed_operations
    assert snap["successful_operations"] == 3 == metrics.successful_operations
    assert snap["success_rate"] == pytest.approx(0.75) == metrics.success_rate
    assert snap["avg_latency_ms"] == pytest.approx(7.5 / 4) == metrics.avg_latency_ms
    assert snap["max_latency_ms"] == pytest.approx(4.0) == metrics.max_latency_ms
    assert snap["p50_latency_ms"] == metrics.p50_latency_ms
    assert snap["p99_latency_ms"] == pytest.approx(4.0, rel=0.10)
    assert snap["p99_latency_ms"] == metrics.p99_latency_ms
    # The smallest sample (GET's) bounds the overall lowest percentile.
    assert metrics._all.min == pytest.approx(0.0005)
    assert snap["retries"] == 1 == metrics.retries
    assert snap["conflicts"] == 2 == snap["commands"]["EXEC"]["conflicts"]
    assert sum(metrics._all.buckets) == 4
    metrics.reset()
    assert metrics.total_operations == 0 and metrics.snapshot()["conflicts"] == 0


def test_buffered_successes_land_in_the_same_buckets_as_one_by_one() -> None:
    """Successes are buffered and folded in batches (sorted): every sample still lands in the
    bucket that bisect gives it, bounds included, and reads see the samples not yet folded."""
    from bisect import bisect_right

    rng = random.Random(7)
    latencies = [rng.lognormvariate(math.log(0.0002), 2.0) for _ in range(1000)]
    latencies += list(LATENCY_BUCKET_BOUNDS[::7])  # exactly on bounds: the upper bucket
    latencies += [0.0, 1e-7, 60.0, 3600.0]
    rng.shuffle(latencies)
    metrics = RedisMetrics()
    for n, latency in enumerate(latencies, 1):
        metrics.record("GET", latency, ok=True)
        if n in (1, 63, 64, 65, 500):  # mid-batch reads count everything recorded so far
            assert metrics.total_operations == n
    expected = [0] * (len(LATENCY_BUCKET_BOUNDS) + 1)
    for latency in latencies:
        expected[bisect_right(LATENCY_BUCKET_BOUNDS, latency)] += 1
    assert metrics._all.buckets == expected
    snap = metrics.snapshot()
    assert snap["total_operations"] == len(latencies)
    assert snap["max_latency_ms"] == pytest.approx(3600_000.0)
    assert snap["avg_latency_ms"] == pytest.approx(sum(latencies) / len(latencies) * 1000)
    assert metrics._all.min == 0.0


def test_bad_latencies_in_a_buffered_batch_are_clamped() -> None:
    metrics = RedisMetrics()
    for n in range(200):
        metrics.record("SET", (-1.0, float("nan"), float("inf"), 0.001)[n % 4], ok=True)
    snap = metrics.snapshot()
    assert snap["total_operations"] == 200
    assert math.isfinite(snap["avg_latency_ms"]) and math.isfinite(snap["max_latency_ms"])
    assert metrics._all.min == 0.0
    with pytest.raises(TypeError):
        metrics.record("SET", "slow", ok=True)  # type: ignore[arg-type]


def test_exact_totals_under_eight_threads() -> None:
    metrics = RedisMetrics()
    barrier = threading.Barrier(8)
    per_thread = 10_000

    def worker(index: int) -> None:
        rng = random.Random(index)
        barrier.wait()
        for i in range(per_thread):
            command = ("GET", "SET", "HGET")[i % 3]
            metrics.record(command, rng.random() / 100, ok=i % 10 != 0)
            if i % 100 == 0:
                metrics.record_retry(command)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = metrics.snapshot()
    total = 8 * per_thread
    assert snap["total_operations"] == total
    assert snap["failed_operations"] == total // 10
    assert snap["successful_operations"] == total - total // 10
    assert snap["retries"] == 8 * (per_thread // 100)
    assert sum(c["total"] for c in snap["commands"].values()) == total
    assert snap["commands"]["GET"]["total"] == 8 * 3334
    assert sum(metrics._all.buckets) == total


# -- Prometheus --------------------------------------------------------------------------------


def test_prometheus_import_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from redis_toolkit.resilience import PrometheusCollector

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"redis-toolkit\[prometheus\]"):
        PrometheusCollector(RedisMetrics())


def _scrape(collector: Any) -> tuple[str, list[Any]]:
    prometheus_client = pytest.importorskip("prometheus_client")
    registry = prometheus_client.CollectorRegistry()
    registry.register(collector)
    text = prometheus_client.generate_latest(registry).decode()
    return text, list(registry.collect())


def test_prometheus_collector_output() -> None:
    pytest.importorskip("prometheus_client")
    from redis_toolkit.resilience import PrometheusCollector

    metrics = RedisMetrics()
    for i in range(100):
        metrics.record("GET", (i + 1) / 1000, ok=i % 4 != 0)
    metrics.record("set", 0.002, ok=True)
    metrics.record_retry("GET")
    metrics.record_breaker_transition("closed", "open")
    text, families = _scrape(PrometheusCollector(metrics, name="cache"))

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
    }
    get = (("command", "GET"), ("name", "cache"))
    assert samples[("redis_toolkit_operations_total", get)] == 100
    assert samples[("redis_toolkit_operation_failures_total", get)] == 25
    assert samples[("redis_toolkit_retries_total", get)] == 1
    assert samples[("redis_toolkit_command_latency_seconds_count", get)] == 100
    assert samples[("redis_toolkit_command_latency_seconds_sum", get)] == pytest.approx(5.05)
    p95 = samples[("redis_toolkit_command_latency_seconds", (*get, ("quantile", "0.95")))]
    assert p95 == pytest.approx(0.095, rel=0.1)
    name = (("name", "cache"),)
    assert samples[("redis_toolkit_operation_latency_seconds_count", name)] == 101
    assert samples[("redis_toolkit_success_ratio", name)] == pytest.approx(76 / 101)
    assert samples[("redis_toolkit_circuit_breaker_state", name)] == 2
    assert samples[("redis_toolkit_circuit_breaker_transitions_total", name)] == 1
    assert samples[("redis_toolkit_circuit_breaker_opens_total", name)] == 1
    assert 'command="SET"' in text
    assert "# TYPE redis_toolkit_command_latency_seconds summary" in text


def test_prometheus_labels_never_hold_keys_or_passwords() -> None:
    pytest.importorskip("prometheus_client")
    from redis_toolkit.resilience import PrometheusCollector

    password = "s3cr3t-Passw0rd"
    keys = ["user:42:session", "cache/item/7", f"redis://:{password}@h:6379/0", "token=abc"]
    metrics = RedisMetrics()
    for key in keys:
        metrics.record(key, 0.001, ok=False, error=redis.AuthenticationError(password))
        metrics.record_retry(key)
    metrics.record("GET", 0.001, ok=True)
    text, families = _scrape(PrometheusCollector(metrics, name="app"))
    for secret in [password, *keys]:
        assert secret not in text
    allowed = {"name", "command", "quantile"}
    for family in families:
        for sample in family.samples:
            assert set(sample.labels) <= allowed, sample
            if "command" in sample.labels:
                assert re.fullmatch(r"[A-Z0-9][A-Z0-9_.\- ]*", sample.labels["command"])


def test_register_prometheus_with_several_toolkits() -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    from redis_toolkit.resilience import PrometheusCollector, register_prometheus

    registry = prometheus_client.CollectorRegistry()
    first, second = RedisMetrics(), RedisMetrics()
    first.record("GET", 0.001, ok=True)
    second.record("GET", 0.001, ok=True)
    second.record("GET", 0.001, ok=True)
    collector = register_prometheus(
        {"primary": first, "replica": second}, registry=registry, namespace="myapp"
    )
    assert isinstance(collector, PrometheusCollector)
    value = registry.get_sample_value
    assert value("myapp_operations_total", {"name": "primary", "command": "GET"}) == 1
    assert value("myapp_operations_total", {"name": "replica", "command": "GET"}) == 2
    # no breaker reported yet: no state series rather than a made-up value
    assert value("myapp_circuit_breaker_state", {"name": "primary"}) is None
    registry.unregister(collector)
    register_prometheus(first, registry=registry, name="solo")
    assert value("redis_toolkit_operations_total", {"name": "solo", "command": "GET"}) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"namespace": "bad-name"}, "namespace"), ({"name": ""}, "name")],
)
def test_prometheus_collector_validation(kwargs: dict[str, Any], match: str) -> None:
    pytest.importorskip("prometheus_client")
    from redis_toolkit.resilience import PrometheusCollector

    with pytest.raises(ValidationError, match=match):
        PrometheusCollector(RedisMetrics(), **kwargs)
