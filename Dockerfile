# syntax=docker/dockerfile:1
# The API's image: a build stage that installs the package into a virtualenv, and a slim runtime stage that
# runs it as a non-root user. `python -m app serve` is gunicorn with uvicorn workers (WORKERS, default 2 here).
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /srv/kb --shell /usr/sbin/nologin kb
WORKDIR /srv/kb
COPY --from=build /opt/venv /opt/venv
# migrations and seed data are read at run time (`migrate`, `seed`); pyproject.toml gives /healthz its version.
COPY --chown=root:root alembic.ini pyproject.toml schema.graphql ./
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root seed ./seed
COPY --chown=root:root app ./app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 PORT=8000 WORKERS=2 PRODUCTION=true
USER kb
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["python", "-m", "app", "serve"]
