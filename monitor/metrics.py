"""Prometheus series for the daemon, every one prefixed `monitor_`, served on /metrics (monitor.server).

Counters and histograms are module-level, the prometheus_client idiom: the stages record what they
did in one line (``metrics.POLLS.labels(outcome="ok").inc()``) without a metrics object threaded
through every constructor. They live in this module's own REGISTRY, not prometheus_client's
default one, so /metrics shows exactly the series the README lists and nothing a library registers.

Labels are bounded and never secret: outcomes and statuses are fixed sets, `channel` and `watchlist`
are names from the user's configuration. Feed and article URLs are never labels (one series per
URL grows without bound) and neither are webhook URLs or addresses (they are credentials).

What is a state rather than an event (configured feeds and watchlists, the outbox's pending rows)
is read when Prometheus scrapes, by `DaemonCollector`: see its docstring for why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, ProcessCollector, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric

from monitor import __version__
from monitor.errors import MonitorError
from monitor.types import ExtractionStatus

if TYPE_CHECKING:
    from monitor.pipeline import Pipeline

log = logging.getLogger("monitor.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)
# No `*_created` companion series: in the text format Prometheus stores each as one more gauge per
# labelled counter, doubling the series for a start time that monitor_process_start_time_seconds gives.
disable_created_metrics()  # type: ignore[no-untyped-call]

POLL_OUTCOMES = ("ok", "not_modified", "error")
DELIVERY_STATUSES = ("sent", "retry", "dead", "held")

POLLS = Counter("monitor_polls", "Feed polls by outcome: ok (new content read), not_modified (304), error.",
                ["outcome"], registry=REGISTRY)
ARTICLES = Counter("monitor_articles", "New articles stored, by how much of the page could be read.",
                   ["extraction"], registry=REGISTRY)
MATCHES = Counter("monitor_matches", "Matches stored (alerting or not: old news matches silently), by watchlist.",
                  ["watchlist"], registry=REGISTRY)
DELIVERIES = Counter("monitor_deliveries", "Delivery attempts and holds by channel and what came of them: "
                     "sent, retry (failed, will be retried), dead (refused for good), held (digest or quiet hours).",
                     ["channel", "status"], registry=REGISTRY)
FETCH_SECONDS = Histogram("monitor_fetch_seconds", "One feed or page fetch, from asking to the last byte of the body "
                          "(waiting for a politeness slot and redirects included), failures included.",
                          ["kind"], registry=REGISTRY,
                          buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0))
EXTRACT_SECONDS = Histogram("monitor_extract_seconds", "CPU seconds of extracting one page's text, in the "
                            "extraction process (time queued for a free process excluded).", registry=REGISTRY,
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
DELIVERY_SECONDS = Histogram("monitor_delivery_seconds", "One send to a channel, until the receiver answered "
                             "(failures included).", ["channel"], registry=REGISTRY,
                             buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
INFO = Info("monitor", "The running news-monitor.", registry=REGISTRY)
INFO.info({"version": __version__})
# The process's CPU, memory and open files, under our prefix like everything else on /metrics.
ProcessCollector(namespace="monitor", registry=REGISTRY)

for _outcome in POLL_OUTCOMES:
    POLLS.labels(outcome=_outcome)  # every known series exists from the start, at 0: rate() needs a first sample
for _status in ExtractionStatus:
    ARTICLES.labels(extraction=_status.value)


def delivered(channel: str, status: str, count: int = 1) -> None:
    """Count `count` deliveries of `channel` that ended in `status` (one of DELIVERY_STATUSES)."""
    DELIVERIES.labels(channel=channel, status=status).inc(count)


def declare(channels: Iterable[str], watchlists: Iterable[str]) -> None:
    """Create the series of the configured channels and watchlists at 0, before anything happened."""
    for channel in channels:
        for status in DELIVERY_STATUSES:
            DELIVERIES.labels(channel=channel, status=status)
        DELIVERY_SECONDS.labels(channel=channel)
    for name in watchlists:
        MATCHES.labels(watchlist=name)
    for kind in ("feed", "page"):
        FETCH_SECONDS.labels(kind=kind)


class DaemonCollector:
    """monitor_feeds, monitor_watchlists and monitor_delivery_queue_depth{channel}, read at scrape time.

    The queue depth is counted in the database when Prometheus asks, not refreshed by the delivery
    tick: the moment the number matters is when delivery is stuck (a channel that hangs holds its
    tick, `max_instances=1`), and a gauge the stuck tick should refresh would show the last good
    value exactly then. Read at scrape time it also counts what other processes queued (`monitor
    worker`s in distributed mode write the same outbox). The cost is one indexed COUNT … GROUP BY per
    scrape. `pipeline` is a callable so a live reload that swaps the pipeline is followed.

    Should the database fail or not answer within `timeout`, the queue series is left out of that
    scrape (Prometheus marks it stale) rather than reported as 0, which would read as "all
    delivered", and the other series are still served; /healthz says what is wrong. A query that
    hangs is not started again until it returns, so a stuck database costs one thread, not one a scrape.
    """

    def __init__(self, pipeline: Callable[[], Pipeline], *, timeout: float = 2.0) -> None:
        self._pipeline = pipeline
        self._timeout = timeout
        self._query: _Query | None = None

    def collect(self) -> Iterable[Metric]:
        pipeline = self._pipeline()
        yield GaugeMetricFamily("monitor_feeds", "Feeds in the configuration.", value=len(pipeline.settings.feeds))
        yield GaugeMetricFamily("monitor_watchlists", "Watchlists loaded.", value=len(pipeline.watchlists))
        pending = self._pending(pipeline)
        if pending is None:
            return
        depth = GaugeMetricFamily("monitor_delivery_queue_depth",
                                  "Deliveries waiting to be sent (due, retrying or held), by channel.",
                                  labels=["channel"])
        for channel in sorted(set(pipeline.settings.active_channels) | set(pending)):
            depth.add_metric([channel], pending.get(channel, 0))
        yield depth

    def _pending(self, pipeline: Pipeline) -> dict[str, int] | None:
        if self._query is not None and not self._query.done.is_set():
            return None  # the last scrape's query still hangs: do not pile up another
        query = self._query = _Query(pipeline.store.pending_by_channel)
        if not query.done.wait(self._timeout):
            log.warning("metrics_queue_depth_failed", extra={"error": f"no answer within {self._timeout:g} s"})
            return None
        if isinstance(query.error, MonitorError):
            log.warning("metrics_queue_depth_failed", extra={"error": str(query.error)})
            return None
        if query.error is not None:
            raise query.error
        return query.result

    def describe(self) -> Iterable[Metric]:
        # Registering must not query the database: describe() names the series without values.
        return [GaugeMetricFamily("monitor_feeds", ""), GaugeMetricFamily("monitor_watchlists", ""),
                GaugeMetricFamily("monitor_delivery_queue_depth", "", labels=["channel"])]


class _Query:
    """A database read on a daemon thread of its own, so a scrape can stop waiting for it."""

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.result: dict[str, int] | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        self._read = read
        threading.Thread(target=self._run, name="monitor-queue-depth", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self._read()
        except Exception as exc:  # handed to the scrape, which decides what it means
            self.error = exc
        finally:
            self.done.set()
