"""Prometheus metrics at `/metrics`, with prometheus_client; correct across gunicorn workers.

`serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder under the system's temporary
directory (emptied at each boot, never the repository or the home directory) before gunicorn
forks, so each worker writes its samples to files there and `/metrics`, whichever worker
answers it, adds up every worker's. Without that variable (tests, `--reload`), the process's own
registry is served.

Label values are bounded: the path is one of the app's routes, the operation name is kept only
for the first `MAX_OPERATIONS` names a worker sees (then `other`), anonymous operations are `""`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

if TYPE_CHECKING:
    from app.access_log import RequestRecord

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
    "kb_sql_statements", "SQL statements one GraphQL request ran", buckets=(0, 1, 2, 3, 5, 8, 13, 21, 50, 100)
)
RESULT_CACHE = Counter("kb_result_cache", "GraphQL answers from the result cache (hit) or executed (miss)", ["result"])
APQ = Counter("kb_apq", "Automatic persisted queries: hash found (hit), not found (miss), registered", ["result"])
HEAVY_WAIT = Histogram(
    "kb_heavy_slot_wait_seconds",
    "Time heavy operations waited for one of their worker's heavy slots",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DATA_VERSION = Gauge("kb_data_version", "The data version the workers answer from", multiprocess_mode="max")

_operations: set[str] = set()


def _operation_label(name: str | None) -> str:
    if not name:
        return ""
    if name in _operations:
        return name
    if len(_operations) < MAX_OPERATIONS and OPERATION_NAME.fullmatch(name):
        _operations.add(name)
        return name
    return "other"


def observe(path: str, record: RequestRecord, status: int, seconds: float) -> None:
    """Count one answered request."""
    route = path if path in ROUTES else "other"
    operation = _operation_label(record.operation) if route == "/graphql" else ""
    REQUESTS.labels(route, operation, str(status)).inc()
    LATENCY.labels(route, operation).observe(seconds)
    if route != "/graphql":
        return
    if record.cost:
        COST.observe(record.cost)
    SQL.observe(record.statements)
    if record.served_by == "cache":
        RESULT_CACHE.labels("hit").inc()
    elif record.executed and not record.error_codes:
        RESULT_CACHE.labels("miss").inc()
    if record.apq is not None:
        APQ.labels(record.apq).inc()


def exposition(data_version: int | None) -> tuple[bytes, str]:
    """The metrics page: every worker's samples in multiprocess mode, else this process's."""
    if data_version is not None and data_version >= 0:
        DATA_VERSION.set(data_version)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges leave the page."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)
