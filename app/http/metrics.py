"""Prometheus metrics at `/metrics`, with prometheus_client; correct across gunicorn workers.

`serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder under the system's temporary
directory (emptied at each boot, never the repository or the home directory) before gunicorn
forks, so each worker writes its samples to files there and `/metrics`, whichever worker
answers it, adds up every worker's. Without that variable (tests, `--reload`), the process's own
registry is served.

Label values are bounded: the path is one of the app's routes, the operation name is one of the
trusted documents' (the examples' and a manifest's, `know_operations`), any other name `other`
(clients choose names: 2,000 of them made 7,293 series when they were labels), anonymous `""`.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

from app.request import RequestRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/", "/schema.graphql"})
MAX_OPERATIONS = 200
OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

REQUESTS = Counter(
    "kb_http_requests", "HTTP requests answered, by path, GraphQL operation and status", ["path", "operation", "status"]
)
LATENCY = Histogram(
    "kb_http_request_duration_seconds",
    "Time to answer an HTTP request, by path and GraphQL operation",
    ["path", "operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
COST = Histogram(
    "kb_query_cost", "Requested cost (objects) of GraphQL operations", buckets=(1, 10, 50, 100, 500, 1000, 5000, 10000)
)
SQL = Histogram(
    "kb_sql_statements", "SQL statements of the GraphQL requests that ran any", buckets=(1, 2, 3, 5, 8, 13, 21, 50, 100)
)
RESULT_CACHE = Counter("kb_result_cache", "GraphQL answers from the result cache (hit) or executed (miss)", ["result"])
APQ = Counter("kb_apq", "Automatic persisted queries: hash found (hit), not found (miss), registered", ["result"])
HEAVY_WAIT = Histogram(
    "kb_heavy_slot_wait_seconds",
    "Time heavy operations waited for one of their worker's heavy slots",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DATA_VERSION = Gauge("kb_data_version", "The data version the workers answer from", multiprocess_mode="max")
REPLICA_LAG = Gauge(
    "kb_replica_lag_seconds",
    "On a standby: replay lag (now - last replayed commit, while received WAL awaits replay; else 0)",
    multiprocess_mode="livemostrecent",
)

_operations: set[str] = set()  # the trusted documents' operation names: the only ones that are labels


def know_operations(names: Iterable[str]) -> None:
    """Operation names that are labels of their own (the trusted documents', at start-up)."""
    for name in names:
        if len(_operations) < MAX_OPERATIONS and OPERATION_NAME.fullmatch(name):
            _operations.add(name)


def _operation_label(name: str | None) -> str:
    if not name:
        return ""
    return name if name in _operations else "other"


class _Pending:
    """Samples of this worker not yet written to prometheus_client: counts and histogram buckets in plain dicts.

    Writing a sample in multiprocess mode takes a lock and an mmap write per value (about 10 µs
    for one request's samples); adding to a dict takes well under 1 µs. The pending samples are
    written at most `FLUSH_SECONDS` later (a timer on the worker's event loop), when `/metrics`
    is served, and when the app stops: a scrape sees every worker's requests up to that delay.
    """

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.histograms: dict[Any, list[float]] = {}  # child -> [count per bucket..., sum]
        self.scheduled = False

    def count(self, child: Any, amount: int = 1) -> None:
        self.counts[child] = self.counts.get(child, 0) + amount

    def histogram(self, child: Any, value: float) -> None:
        entry = self.histograms.get(child)
        if entry is None:
            entry = self.histograms[child] = [0.0] * (len(child._upper_bounds) + 1)
        for index, bound in enumerate(child._upper_bounds):
            if value <= bound:
                entry[index] += 1
                break
        entry[-1] += value

    def schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no event loop: write now
                self.flush()

    def flush(self) -> None:
        self.scheduled = False
        counts, self.counts = self.counts, {}
        histograms, self.histograms = self.histograms, {}
        for child, amount in counts.items():
            child.inc(amount)
        for child, entry in histograms.items():
            for index, observed in enumerate(entry[:-1]):
                if observed:
                    child._buckets[index].inc(observed)
            child._sum.inc(entry[-1])


FLUSH_SECONDS = 0.5
pending = _Pending()
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_cache_hit = RESULT_CACHE.labels("hit")
_cache_miss = RESULT_CACHE.labels("miss")


def observe(path: str, record: RequestRecord, status: int, seconds: float) -> None:
    """Count one answered request (into `pending`; labelled children are looked up once per label set)."""
    route = path if path in ROUTES else "other"
    operation = _operation_label(record.operation) if route == "/graphql" else ""
    children = _children.get((route, operation, status))
    if children is None:
        children = (REQUESTS.labels(route, operation, str(status)), LATENCY.labels(route, operation))
        if len(_children) < 4 * MAX_OPERATIONS:
            _children[(route, operation, status)] = children
    pending.count(children[0])
    pending.histogram(children[1], seconds)
    if route == "/graphql":
        if record.cost:
            pending.histogram(COST, record.cost)
        if record.statements:  # requests that ran SQL (cache hits and `{ __typename }` pay nothing here)
            pending.histogram(SQL, record.statements)
        if record.served_by == "cache":
            pending.count(_cache_hit)
        elif record.executed and not record.error_codes:
            pending.count(_cache_miss)
        if record.apq is not None:
            pending.count(APQ.labels(record.apq))
        if record.heavy_wait_seconds is not None:
            pending.histogram(HEAVY_WAIT, record.heavy_wait_seconds)
    pending.schedule()


def exposition(data_version: int | None) -> tuple[bytes, str]:
    """The metrics page: every worker's samples in multiprocess mode, else this process's."""
    pending.flush()
    if data_version is not None and data_version >= 0:
        DATA_VERSION.set(data_version)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def set_replica_lag(seconds: float | None) -> None:
    """The standby's replay lag as just measured (None: not a standby, the gauge is 0)."""
    REPLICA_LAG.set(seconds or 0.0)


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges leave the page."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)
