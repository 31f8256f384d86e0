"""Deployment: nginx (Debian's, deploy/nginx.conf as written) in front of the real server caches GET answers
and revalidates them with the ETag; compose.yaml and the Dockerfile have the services and checks they promise."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from app.data.migrations import upgrade
from app.seeding import seed
from tests.conftest import FIXTURES, IN_CI, Databases
from tests.live import PROJECT, LiveServer, free_port

QUERY = "query Titles { events(first: 10, filter: {kind: MEETING}) { nodes { id title } } }"


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        if IN_CI:
            pytest.fail("nginx is missing; .ci/run installs Debian's package")
        pytest.skip("nginx is missing (apt-get install nginx)")
    return found


def _config(tmp: Path, upstream_port: int, port: int) -> Path:
    """deploy/nginx.conf with only its addresses and cache folder moved, inside a main file like the image's."""
    site = (PROJECT / "deploy" / "nginx.conf").read_text()
    for old, new in [
        ("server api:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("/var/cache/nginx/kb", str(tmp / "cache")),
    ]:
        assert old in site, f"deploy/nginx.conf no longer has {old!r}: update this test"
        site = site.replace(old, new)
    (tmp / "kb.conf").write_text(site)
    main = tmp / "nginx.conf"
    main.write_text(
        f"""user root root;
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp / "access.log"};
    client_body_temp_path {tmp / "body"};
    proxy_temp_path {tmp / "proxy"};
    fastcgi_temp_path {tmp / "fastcgi"};
    uwsgi_temp_path {tmp / "uwsgi"};
    scgi_temp_path {tmp / "scgi"};
    include {tmp / "kb.conf"};
}}
"""
    )
    return main


@pytest.mark.nginx
def test_nginx_caches_gets_and_revalidates_them_with_the_etag(databases: Databases, tmp_path: Path) -> None:
    nginx = _nginx()
    url = databases.new("sqlite")
    upgrade(url)
    seed_dir = tmp_path / "seed"
    shutil.copytree(FIXTURES / "seed-small", seed_dir)
    asyncio.run(seed(url, seed_dir))
    env = {"HTTP_CACHE_MAX_AGE_SECONDS": "1", "DATA_VERSION_CHECK_SECONDS": "0", "LOG_LEVEL": "info"}
    with LiveServer(url, tmp_path / "server.log", **env) as server:
        port = free_port()
        config = _config(tmp_path, server.port, port)
        checked = subprocess.run([nginx, "-t", "-c", str(config)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        with (tmp_path / "nginx.stderr").open("wb") as stderr:
            proxy = subprocess.Popen([nginx, "-c", str(config), "-g", "daemon off;"], stderr=stderr)
        client = httpx.Client(timeout=5)
        try:
            base = f"http://127.0.0.1:{port}/graphql"
            for _ in range(50):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            first = client.get(base, params={"query": QUERY}, headers={"accept-encoding": "gzip"})
            assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS"
            tag = first.headers["etag"]
            hit = client.get(base, params={"query": QUERY})
            assert hit.headers["x-cache-status"] == "HIT" and hit.json() == first.json()
            # A browser holding the answer revalidates with nginx: 304 from the cache, weak tag and all.
            assert client.get(base, params={"query": QUERY}, headers={"if-none-match": f"W/{tag}"}).status_code == 304

            time.sleep(2.2)  # max-age 1 passed (nginx counts whole seconds): it revalidates; the data did not change
            revalidated = client.get(base, params={"query": QUERY})
            assert revalidated.headers["x-cache-status"] == "REVALIDATED", revalidated.headers
            assert revalidated.json() == first.json()

            path = seed_dir / "small.yaml"
            path.write_text(path.read_text().replace("title: ESCAP meeting", "title: ESCAP ministerial meeting"))
            asyncio.run(seed(url, seed_dir))  # a new data version
            time.sleep(2.2)
            fresh = client.get(base, params={"query": QUERY})
            assert fresh.headers["x-cache-status"] in ("EXPIRED", "MISS")
            assert "ESCAP ministerial meeting" in fresh.text and fresh.headers["etag"] != tag
            old_tag = client.get(base, params={"query": QUERY}, headers={"if-none-match": tag})
            assert old_tag.status_code == 200  # the tag the client held is stale: the new answer
        finally:
            client.close()
            proxy.terminate()
            proxy.wait(10)
        upstream = [r for r in server.log_lines() if r.get("logger") == "app.access" and r.get("path") == "/graphql"]
    statuses = [r["status"] for r in upstream]
    assert statuses == [200, 304, 200], statuses  # the API saw a miss, one revalidation (304), the new data


def test_compose_has_the_services_and_health_checks() -> None:
    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "api", "nginx"}
    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    migrate = services["migrate"]
    assert "python -m app migrate && python -m app seed" in " ".join(migrate["command"])
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy" and migrate["restart"] == "no"
    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert api["environment"]["DATABASE_URL"].startswith("postgresql://")
    nginx = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert nginx["depends_on"]["api"]["condition"] == "service_healthy"
    assert migrate["image"] == api["image"]  # one image, built once


def test_the_dockerfile_is_multi_stage_non_root_with_a_readiness_check() -> None:
    lines = [line.strip() for line in (PROJECT / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and stages[1].startswith("FROM python:3.11-slim AS runtime")
    runtime = lines[lines.index(stages[1]) :]
    users = [line for line in runtime if line.startswith("USER ")]
    assert users and users[-1] != "USER root"
    healthcheck = next(i for i, line in enumerate(runtime) if line.startswith("HEALTHCHECK"))
    assert "/readyz" in runtime[healthcheck + 1]
    assert any(line.startswith("COPY --from=build") for line in runtime)
    for path in ("alembic.ini", "migrations", "seed", "app"):
        assert any(line.startswith("COPY") and path in line for line in runtime), path
