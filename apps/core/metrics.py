"""Prometheus metrics: per-process HTTP figures, and bridge-wide figures read from Redis.

HTTP request counts and latencies are recorded in each web process by
``MetricsMiddleware``; with PROMETHEUS_MULTIPROC_DIR set (gunicorn with several
workers) prometheus_client aggregates them across processes. Queue lengths, lag,
verdicts per check, drain, callback and notification counts and set sizes live in Redis, and the
Celery queues on the broker's Redis, so every process reports the same numbers for them
at scrape time.
"""

import json
import os
import time
from collections.abc import Callable, Iterator

import redis
from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from . import keys, registry
from .broker import celery_queue_lengths
from .redis import get_redis
from .selectors import heartbeat_age, queue_stats

HTTP_REQUESTS = Counter(
    "smsbridge_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "smsbridge_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["endpoint", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class MetricsMiddleware:
    """Count and time every request, labelled by its URL pattern (bounded cardinality)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        endpoint = match.route if match else "unmatched"
        method = request.method or ""
        HTTP_LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        return response


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, doc)
    gauge.add_metric([], value)
    return gauge


def notification_queue_lag() -> float:
    """Seconds the oldest notification has waited to be sent; 0 when none waits.

    The queue is LPUSHed and claimed from the right, so the oldest is the last item; its
    record carries ``created_at`` (epoch seconds). Read from the key here, not through the
    messaging app: core imports no feature app.
    """
    oldest = get_redis().lindex(keys.notification_queue(), -1)
    try:
        created_at = float(json.loads(oldest or "{}").get("created_at") or 0)
    except (ValueError, TypeError, AttributeError):  # not a record: no age to tell
        return 0.0
    return round(max(time.time() - created_at, 0.0), 3) if created_at else 0.0


class BridgeCollector(Collector):
    """Figures shared by the whole deployment, read from Redis when scraped."""

    def collect(self) -> Iterator[Metric]:
        try:
            metrics = [
                *self._queues(),
                self._celery_queues(),
                *self._counters(),
                self._notifications(),
                self._notification_lag(),
                self._otp(),
                *self._sets(),
            ]
        except redis.RedisError:
            metrics = [_gauge("smsbridge_redis_up", "Whether Redis answered the scrape", 0)]
        yield from metrics
        yield from self._database_gauges()

    def _database_gauges(self) -> Iterator[Metric]:
        for spec in registry.database_gauges():
            try:
                yield _gauge(spec.name, spec.help, float(spec.value()))
            except (DatabaseError, InterfaceError):
                continue  # PostgreSQL away: /metrics still answers with what Redis has

    def _queues(self) -> list[Metric]:
        families = {
            "waiting": GaugeMetricFamily(
                "smsbridge_queue_waiting", "Items waiting in a queue", labels=["queue"]
            ),
            "in_flight": GaugeMetricFamily(
                "smsbridge_queue_in_flight",
                "Items claimed by a worker, not yet acknowledged",
                labels=["queue"],
            ),
            "dead": GaugeMetricFamily("smsbridge_queue_dead_letters", "Items set aside", labels=["queue"]),
            "lag_seconds": GaugeMetricFamily(
                "smsbridge_queue_lag_seconds", "Age of the oldest unhandled item", labels=["queue"]
            ),
        }
        for stats in queue_stats():
            for field, family in families.items():
                family.add_metric([stats.name], getattr(stats, field))
        return list(families.values())

    def _celery_queues(self) -> Metric:
        """Messages waiting on each Celery queue: "callbacks" grows when client servers are
        slow or the callbacks pool is down, "housekeeping" when the housekeeping pool is."""
        family = GaugeMetricFamily(
            "smsbridge_celery_queue_messages", "Messages waiting on a Celery queue", labels=["queue"]
        )
        for queue, length in celery_queue_lengths().items():
            family.add_metric([queue], float(length))
        return family

    def _counters(self) -> list[Metric]:
        r = get_redis()
        verdicts = CounterMetricFamily(
            "smsbridge_verdicts", "SMS judged, by verdict and failed check", labels=["status", "check"]
        )
        for field, count in r.hgetall(keys.metrics_verdicts()).items():
            status, _, check = str(field).partition(":")
            verdicts.add_metric([status, check], float(count))
        drained = CounterMetricFamily("smsbridge_drained", "Items drained from a queue", labels=["queue"])
        for queue, count in r.hgetall(keys.metrics_drained()).items():
            drained.add_metric([str(queue)], float(count))
        callbacks = CounterMetricFamily(
            "smsbridge_callbacks", "Callback attempts by outcome", labels=["outcome"]
        )
        for outcome, count in r.hgetall(keys.metrics_callbacks()).items():
            callbacks.add_metric([str(outcome)], float(count))
        return [verdicts, drained, callbacks]

    def _notifications(self) -> Metric:
        """Sends per gateway and outcome (sent, error, rejected, failed, delivered,
        undelivered), counted by the notification status script."""
        family = CounterMetricFamily(
            "smsbridge_notifications",
            "Notification sends by gateway and outcome",
            labels=["gateway", "outcome"],
        )
        for field, count in get_redis().hgetall(keys.metrics_notifications()).items():
            gateway, _, outcome = str(field).rpartition(":")
            family.add_metric([gateway, outcome], float(count))
        return family

    def _notification_lag(self) -> Metric:
        return _gauge(
            "smsbridge_notification_queue_lag_seconds",
            "Age of the oldest notification waiting to be sent",
            notification_queue_lag(),
        )

    def _otp(self) -> Metric:
        """One-time-password requests and checks by outcome (requested, verified, failed,
        expired, blocked), counted by the OTP scripts in the round trip they already make."""
        family = CounterMetricFamily(
            "smsbridge_otp", "OTP requests and checks by outcome", labels=["outcome"]
        )
        for outcome, count in get_redis().hgetall(keys.metrics_otp()).items():
            family.add_metric([str(outcome)], float(count))
        return family

    def _sets(self) -> list[Metric]:
        """The size of every Redis set the apps registered, then Redis and the heartbeat."""
        sets = registry.redis_sets()
        with get_redis().pipeline(transaction=False) as pipe:
            for spec in sets:
                pipe.scard(spec.key())
            sizes = pipe.execute()
        age = heartbeat_age()
        return [
            *(
                _gauge(spec.metric, spec.metric_help, float(size))
                for spec, size in zip(sets, sizes, strict=True)
            ),
            _gauge("smsbridge_redis_up", "Whether Redis answered the scrape", 1),
            _gauge(
                "smsbridge_worker_heartbeat_age_seconds",
                "Seconds since a worker ran a heartbeat",
                age if age is not None else float("inf"),
            ),
        ]


def metrics_exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    shared = CollectorRegistry()
    shared.register(BridgeCollector())
    return generate_latest(registry) + generate_latest(shared)
