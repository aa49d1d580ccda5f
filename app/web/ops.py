"""Operations endpoints: ``/healthz``, ``/readyz`` and ``/metrics`` (Prometheus text format).

Several workers: why prometheus-client's multiprocess mode. A scrape reaches one worker at a
time, so a counter kept in one process's memory would jump between workers' values and
Prometheus would read every jump down as a reset. Under gunicorn, ``gunicorn.conf.py`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder; each worker's :class:`~prometheus_client.Counter`
and :class:`~prometheus_client.Gauge` values then live in small memory-mapped files there, and
``/metrics`` adds up every worker's files (counters include workers that have exited;
``dashboard_viewers`` counts live workers only, ``child_exit`` marks dead ones). Without that
variable (tests, ``flask run``) the same metrics are plain in-process values.

That is why the Hub's counts reach real ``Counter`` objects rather than a custom collector over
plain ints (which could only ever show the scraped worker): the Hub calls ``on_sent`` once per
published message with the number of subscribers it reached, one ``inc`` per message whatever
the number of viewers, never one per client.

The host gauges are the exception: they come from this worker's ``live.view.sample`` through
:class:`HostCollector` at scrape time, which is correct with any number of workers because every
worker folds the same samples from the store. So do the store's primary and failover count
(:class:`StoreCollector`, Redis Sentinel only): each worker follows the primary on its own.

Each app has its own :class:`~prometheus_client.CollectorRegistry`, never the global default,
so building many apps in one process (tests) does not collide.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.store import StoreUnavailable

from .access import is_write, require
from .credentials import failed
from .errors import error_response
from .access import needs

bp = Blueprint("ops", __name__)

#: Sample key (``app.sources.sample.METRICS``) -> (gauge name, help) of the host gauges.
HOST_GAUGES = {
    "cpu_percent": ("dashboard_host_cpu_percent", "CPU use over all logical CPUs, percent."),
    "mem_percent": ("dashboard_host_memory_percent", "Memory in use (total - available), percent."),
    "disk_percent": ("dashboard_host_disk_percent", "Use of DASHBOARD_DISK_PATH's file system, percent."),
    "load1": ("dashboard_host_load1", "1-minute load average."),
    "net_rx_bps": ("dashboard_host_network_receive_bytes_per_second",
                   "Bytes received per second over every interface but lo."),
    "net_tx_bps": ("dashboard_host_network_transmit_bytes_per_second",
                   "Bytes sent per second over every interface but lo."),
}


class HostCollector(Collector):
    """The latest host sample that ``view`` holds, as gauges labelled with ``host``.

    :param view: the :class:`~app.view.regions.LiveView` whose ``sample`` is read at each scrape;
        before the first sample the gauges have no series.
    """

    def __init__(self, view) -> None:
        self.view = view

    def collect(self):
        sample = self.view.sample or {}
        for key, (name, documentation) in HOST_GAUGES.items():
            family = GaugeMetricFamily(name, documentation, labels=["host"])
            if sample.get(key) is not None:
                family.add_metric([sample["host"]], sample[key])
            yield family


class StoreCollector(Collector):
    """With Redis Sentinel, the primary this worker uses and the failovers it saw, read from the
    store at each scrape (each worker follows the primary itself, so the answering worker's
    figures are the ones that matter); nothing for other stores."""

    def __init__(self, store) -> None:
        self.store = store

    def collect(self):
        found = self.store.describe()
        if not found.get("sentinel"):
            return
        primary = GaugeMetricFamily("dashboard_store_primary", "The Redis primary this worker "
                                    "uses (1), as the sentinels named it.", labels=["address"])
        if found["primary"]:
            primary.add_metric([found["primary"]], 1)
        yield primary
        yield CounterMetricFamily("dashboard_store_failovers", "Changes of the Redis primary "
                                  "this worker saw since it started.", value=found["failovers"])


class Metrics:
    """The dashboard's own metrics for one app, fed by the Hub and the ingest hook.

    :param live: the app's :class:`~app.live.engine.Live`; its Hub's hooks are pointed at these metrics.
    """

    def __init__(self, live) -> None:
        self.registry = CollectorRegistry()
        self.viewers = Gauge("dashboard_viewers", "Open /stream connections.",
                             registry=self.registry, multiprocess_mode="livesum")
        self.messages_sent = Counter(
            "dashboard_messages_sent", "SSE messages queued for stream clients (one per client reached).",
            registry=self.registry)
        self.slow_consumer_drops = Counter(
            "dashboard_slow_consumer_drops", "Stream clients closed because their queue was full.",
            registry=self.registry)
        self.ingest_requests = Counter(
            "dashboard_ingest_requests", "Write requests to /api/ and /simulator/ by route and status.",
            ["endpoint", "status"], registry=self.registry)
        self.render_errors = Counter(
            "dashboard_render_errors", "Region renders that raised (the region kept its last HTML).",
            ["region"], registry=self.registry)
        self.notifications = Counter(
            "dashboard_notifications", "Alert notification attempts by outcome: sent, retrying "
            "(failed, to be retried) or failed (given up after an hour).",
            ["outcome"], registry=self.registry)
        host, store = HostCollector(live.view), StoreCollector(live.store)
        self.registry.register(host)
        self.registry.register(store)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Scrapes read every worker's files, not this process's registry.
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed)
            self.exposed.register(host)
            self.exposed.register(store)
        else:
            self.exposed = self.registry
        # Every page's hub (app.live.pages) reports through these; viewers is their total.
        live.on_viewers = self.viewers.set
        live.on_sent = self.messages_sent.inc
        live.on_drop = self.slow_consumer_drops.inc
        live.on_notified = lambda outcome: self.notifications.labels(outcome).inc()
        live.view.on_render_error = lambda region: self.render_errors.labels(region).inc()
        # The JSON streams count in the same counters, not in dashboard_viewers (browser tabs).
        live.json.on_sent = self.messages_sent.inc
        live.json.on_drop = self.slow_consumer_drops.inc

    def count_ingest(self, response):
        """``after_request`` hook: count a write by route (``"unmatched"`` for none) and status."""
        if is_write():
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            self.ingest_requests.labels(endpoint, str(response.status_code)).inc()
        return response


def register(app: Flask) -> None:
    """Create the app's :class:`Metrics`, count ingest requests and add the ops routes."""
    metrics = Metrics(app.extensions["dashboard"])
    app.extensions["metrics"] = metrics
    app.after_request(metrics.count_ingest)
    app.register_blueprint(bp)


@bp.get("/healthz")
@needs("open")
def healthz():
    """200 ``{"status": "ok"}`` while the process answers at all (liveness)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@needs("open")
def readyz():
    """200 ``{"status": "ready", "store": {...}}`` when the store answers, else 503
    ``{"error": ..., "store": {...}}`` (readiness); ``store`` is ``Store.describe()``: the
    backend and, with Redis Sentinel, the primary in use and the failovers seen."""
    store = current_app.extensions["dashboard"].store
    try:
        store.ping()
    except StoreUnavailable as exc:
        current_app.logger.warning("readyz: store unavailable: %s", exc)
        return error_response(503, "not ready: the store is unavailable", store=store.describe())
    return jsonify({"status": "ready", "store": store.describe()})


@bp.get("/metrics")
@needs("open")
def metrics():
    """Every metric in the format the scraper's ``Accept`` asks for (Prometheus text by default).

    With ``DASHBOARD_METRICS_TOKEN`` set, a scrape sends it as ``Authorization: Bearer``
    (compared in constant time; a wrong one counts as a failed credential): 401 otherwise.
    Without it, like any read: a viewer, a key with ``read``, or nobody while nothing is
    configured.
    """
    token = current_app.config["SETTINGS"].metrics_token.get_secret_value()
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not (scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(), token.encode())):
            if given:
                failed("metrics token")
            response = error_response(401, "send DASHBOARD_METRICS_TOKEN as 'Authorization: "
                                           "Bearer <token>'")
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    else:
        refused = require(("read",))
        if refused is not None:
            return refused
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(current_app.extensions["metrics"].exposed), content_type=content_type)
