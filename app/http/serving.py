"""Production serving: gunicorn's arbiter over uvicorn workers (uvloop, httptools).

The arbiter restarts a worker that dies, and kills and replaces one that stops sending its
heartbeat for `WORKER_TIMEOUT_SECONDS`: a worker whose event loop is stuck (past every
request deadline) is recycled while the other workers go on serving. SIGTERM stops
accepting, lets running requests finish for `GRACEFUL_TIMEOUT_SECONDS`, then exits.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from app.config import Settings
from app.logs import configure_logging, gunicorn_logconfig

HTTP_PROTOCOL = "app.http.head_limits:LimitedHttpToolsProtocol"


class Worker(UvicornWorker):
    """A uvicorn worker on uvloop and httptools (asyncio's loop adds ~44 ms per keep-alive request)."""

    # httptools with head limits and a head deadline (app/http/head_limits.py)
    # proxy_headers off: X-Forwarded-For names a client only through TRUSTED_PROXIES (app.http.budgets), never
    # through uvicorn's own rule (which trusts 127.0.0.1, so any local proxy's header would choose the client).
    CONFIG_KWARGS = {"loop": "uvloop", "http": HTTP_PROTOCOL, "access_log": False, "proxy_headers": False}  # noqa: RUF012


class Server(BaseApplication):
    """gunicorn, configured from our settings rather than its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from app.http.app import app

        return app


def gunicorn_options(settings: Settings, *, host: str, port: int, workers: int) -> dict[str, Any]:
    """The options `serve` runs gunicorn with (also the README's equivalent command line)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": f"{Worker.__module__}.{Worker.__qualname__}",
        "timeout": settings.worker_timeout_seconds,
        "graceful_timeout": settings.graceful_timeout_seconds,
        "keepalive": 5,
        "loglevel": settings.log_level,
        "logconfig_dict": gunicorn_logconfig(settings.log_level),  # every line JSON, gunicorn's too
        "control_socket_disable": True,  # gunicorn 25+ would open a control socket in the home directory
        "child_exit": _child_exit,
    }


def _child_exit(_server: Any, worker: Any) -> None:
    from app.http.metrics import worker_exited

    worker_exited(worker.pid)


def metrics_dir(port: int) -> Path:
    """This server's folder of worker metrics (prometheus_client's multiprocess mode), emptied at each boot."""
    folder = Path(tempfile.gettempdir()) / f"kb-metrics-{os.getuid()}-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    return folder


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve the app until SIGTERM or SIGINT."""
    configure_logging(settings.log_level)
    # Before gunicorn forks and before any worker imports prometheus_client (app.http.metrics).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(port))
    Server(gunicorn_options(settings, host=host, port=port, workers=workers)).run()


class PortUnavailable(Exception):
    """The address `serve` would listen on is taken, or not ours to take."""


def check_port(host: str, port: int) -> None:
    """Raise `PortUnavailable`, saying what to change, when `serve` could not listen on host:port.

    gunicorn would retry for a while, log each attempt as JSON and exit 2 with "Can't connect"; this
    answers in one line before anything starts. gunicorn binds with SO_REUSEADDR, so this does too.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as problem:
        raise PortUnavailable(
            f"cannot listen on {host}: {problem.strerror}; set --host or the HOST setting to an address of this machine"
        ) from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except PermissionError:
            raise PortUnavailable(
                f"port {port} on {host} needs privileges this user lacks; choose a port above 1023 with --port"
                " or the PORT setting"
            ) from None
        except OSError as problem:
            if problem.errno != errno.EADDRINUSE:
                raise PortUnavailable(f"cannot listen on {host}:{port}: {problem.strerror}") from None
            raise PortUnavailable(
                f"port {port} on {host} is already in use; stop what listens there, or choose another port with"
                " --port or the PORT setting"
            ) from None
