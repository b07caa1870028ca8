"""Prometheus metrics, computed from the election view at scrape time.

A custom collector (rather than gauges set from callbacks) keeps every
gunicorn worker's answer identical: all read the same shared snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .. import ElectionState
from .view import ElectionView

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric


class ElectionCollector(Collector):
    def __init__(self, view: ElectionView) -> None:
        self._view = view

    def collect(self) -> Iterator[Metric]:
        status = self._view.status()
        yield GaugeMetricFamily(
            "zkleader_is_leader",
            "1 while this instance may act as leader.",
            value=float(status.is_leader_now()),
        )
        yield GaugeMetricFamily(
            "zkleader_epoch",
            "Fencing token of the current leadership as this instance knows it (czxid), -1 if unknown.",
            value=float(status.epoch if status.epoch is not None else -1),
        )
        yield CounterMetricFamily(
            "zkleader_leadership_transitions",
            "Times this instance became or stopped being leader.",
            value=float(status.transitions),
        )
        yield CounterMetricFamily(
            "zkleader_election_notifications",
            "Predecessor-watch notifications this instance received.",
            value=float(status.election_notifications),
        )
        state = GaugeMetricFamily("zkleader_election_state", "1 for the current election state.", labels=["state"])
        for candidate in ElectionState:
            state.add_metric([candidate.value], float(candidate is status.state))
        yield state
        yield GaugeMetricFamily(
            "zkleader_last_election_timestamp_seconds",
            "Unix time this instance was last elected, 0 if never.",
            value=status.last_election_at or 0.0,
        )
        yield GaugeMetricFamily(
            "zkleader_session_timeout_seconds",
            "Negotiated ZooKeeper session timeout.",
            value=status.session_timeout,
        )
        yield GaugeMetricFamily("zkleader_scrape_timestamp_seconds", "When these values were read.", value=time.time())


def make_registry(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
