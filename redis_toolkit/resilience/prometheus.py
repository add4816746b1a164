"""Optional Prometheus export of :class:`~redis_toolkit.resilience.metrics.RedisMetrics`.

Needs ``pip install 'redis-toolkit[prometheus]'`` (prometheus-client); this module imports it
only when a collector is created, so importing ``redis_toolkit`` never requires it.

The collector reads :meth:`RedisMetrics.snapshot` at scrape time; nothing is recorded twice.
Labels are only ``name`` (a label you choose per toolkit) and ``command`` (upper-cased command
names from the capped set, or ``OTHER``), plus the standard ``quantile`` of summaries: never a
key, a channel, a host or a password.

Series (``<ns>`` is the namespace, ``redis_toolkit`` by default):

=============================================  =======  ===================================
``<ns>_operations_total``                      counter  operations, by name and command
``<ns>_operation_failures_total``              counter  failed operations, by name and command
``<ns>_retries_total``                         counter  retries, by name and command
``<ns>_command_latency_seconds``               summary  p50/p95/p99, count, sum by command
``<ns>_operation_latency_seconds``             summary  p50/p95/p99, count, sum of all commands
``<ns>_success_ratio``                         gauge    successful / total (1 when none ran)
``<ns>_circuit_breaker_state``                 gauge    0 closed, 1 half_open, 2 open
``<ns>_circuit_breaker_transitions_total``     counter  breaker state changes
``<ns>_circuit_breaker_opens_total``           counter  times the breaker opened
=============================================  =======  ===================================
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..exceptions import ValidationError
from .metrics import RedisMetrics

__all__ = ["PrometheusCollector", "register_prometheus", "BREAKER_STATE_VALUES"]

#: How ``<ns>_circuit_breaker_state`` encodes the breaker state.
BREAKER_STATE_VALUES: dict[str, int] = {"closed": 0, "half_open": 1, "open": 2}

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_QUANTILES = (("0.5", "p50_latency_ms"), ("0.95", "p95_latency_ms"), ("0.99", "p99_latency_ms"))


def _import_prometheus() -> Any:
    try:
        import prometheus_client
        import prometheus_client.core  # noqa: F401
        import prometheus_client.samples  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "Prometheus export needs the prometheus-client package: "
            "pip install 'redis-toolkit[prometheus]'"
        ) from e
    return prometheus_client


class PrometheusCollector:
    """A prometheus-client custom collector that exposes one or more :class:`RedisMetrics`.

    ``metrics`` is a :class:`RedisMetrics` (exported with the label ``name=<name>``) or a mapping
    ``{name: RedisMetrics}`` to expose several toolkits from one collector (one registry cannot
    hold two collectors with the same series names). ``namespace`` prefixes every series.

    Register it with ``registry.register(collector)`` or use :func:`register_prometheus`.
    Raises ``ImportError`` (saying what to install) when prometheus-client is missing.
    """

    def __init__(
        self,
        metrics: RedisMetrics | Mapping[str, RedisMetrics],
        namespace: str = "redis_toolkit",
        name: str = "default",
    ) -> None:
        _import_prometheus()
        if not isinstance(namespace, str) or not _METRIC_NAME.match(namespace):
            raise ValidationError(
                f"PrometheusCollector: namespace must match [a-zA-Z_:][a-zA-Z0-9_:]*, "
                f"got {namespace!r}"
            )
        sources = {name: metrics} if isinstance(metrics, RedisMetrics) else dict(metrics)
        for label, source in sources.items():
            if not isinstance(label, str) or not label:
                raise ValidationError(
                    f"PrometheusCollector: name must be a non-empty str, got {label!r}"
                )
            if not isinstance(source, RedisMetrics):
                raise ValidationError(
                    f"PrometheusCollector: expected RedisMetrics for {label!r}, got {source!r}"
                )
        self.namespace = namespace
        self._sources: dict[str, RedisMetrics] = sources

    def collect(self) -> Iterator[Any]:
        """Yield the metric families (called by prometheus-client at each scrape)."""
        core = _import_prometheus().core
        from prometheus_client.samples import Sample

        ns = self.namespace
        by_command = ["name", "command"]
        operations = core.CounterMetricFamily(
            f"{ns}_operations", "Redis operations run through the toolkit", labels=by_command
        )
        failures = core.CounterMetricFamily(
            f"{ns}_operation_failures", "Redis operations that failed", labels=by_command
        )
        retries = core.CounterMetricFamily(
            f"{ns}_retries", "Retries of Redis operations", labels=by_command
        )
        command_latency = core.SummaryMetricFamily(
            f"{ns}_command_latency_seconds",
            "Latency of Redis operations by command (quantiles from a 10%-wide histogram)",
            labels=by_command,
        )
        latency = core.SummaryMetricFamily(
            f"{ns}_operation_latency_seconds",
            "Latency of all Redis operations (quantiles from a 10%-wide histogram)",
            labels=["name"],
        )
        success = core.GaugeMetricFamily(
            f"{ns}_success_ratio",
            "Successful operations / all operations (1 when none ran)",
            labels=["name"],
        )
        breaker_state = core.GaugeMetricFamily(
            f"{ns}_circuit_breaker_state",
            "Circuit breaker state: 0 closed, 1 half_open, 2 open",
            labels=["name"],
        )
        transitions = core.CounterMetricFamily(
            f"{ns}_circuit_breaker_transitions",
            "Circuit breaker state changes",
            labels=["name"],
        )
        opens = core.CounterMetricFamily(
            f"{ns}_circuit_breaker_opens", "Times the circuit breaker opened", labels=["name"]
        )

        def add_summary(family: Any, labels: dict[str, str], figures: dict[str, Any]) -> None:
            count = figures.get("total", figures.get("total_operations", 0))
            for quantile, key in _QUANTILES:
                family.samples.append(
                    Sample(family.name, {**labels, "quantile": quantile}, figures[key] / 1000.0)
                )
            family.add_metric(
                list(labels.values()), count, figures["avg_latency_ms"] * count / 1000.0
            )

        for label, source in self._sources.items():
            snap = source.snapshot()
            for command, figures in snap["commands"].items():
                operations.add_metric([label, command], figures["total"])
                failures.add_metric([label, command], figures["failures"])
                retries.add_metric([label, command], figures["retries"])
                add_summary(command_latency, {"name": label, "command": command}, figures)
            add_summary(latency, {"name": label}, snap)
            success.add_metric([label], snap["success_rate"])
            state = snap["breaker_state"]
            if state in BREAKER_STATE_VALUES:
                breaker_state.add_metric([label], BREAKER_STATE_VALUES[state])
            transitions.add_metric([label], snap["breaker_transitions"])
            opens.add_metric([label], snap["breaker_opens"])

        yield from (
            operations,
            failures,
            retries,
            command_latency,
            latency,
            success,
            breaker_state,
            transitions,
            opens,
        )


def register_prometheus(
    metrics: RedisMetrics | Mapping[str, RedisMetrics],
    registry: Any = None,
    **kw: Any,
) -> PrometheusCollector:
    """Create a :class:`PrometheusCollector` and register it (default: the global registry).

    ``kw`` are passed to the collector (``namespace``, ``name``). Returns the collector, so it
    can later be removed with ``registry.unregister(collector)``.
    """
    prometheus_client = _import_prometheus()
    collector = PrometheusCollector(metrics, **kw)
    (registry if registry is not None else prometheus_client.REGISTRY).register(collector)
    return collector
