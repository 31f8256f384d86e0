"""Settings, read once at start-up from the environment and an optional `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'knowledge-base.sqlite3'}"
SEED_DIR = PROJECT_ROOT / "seed"


class Settings(BaseSettings):
    """Every setting the service reads; the README's configuration table lists them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database")
    read_database_url: str | None = Field(
        None,
        description="the database `serve` reads from, when not DATABASE_URL: a streaming standby (or a pooler over "
        "standbys); `migrate` and `seed` always write to DATABASE_URL (the primary)",
    )
    max_replica_lag_seconds: float = Field(
        5.0, gt=0, description="/readyz fails on a standby whose replay lags this far behind what it received"
    )
    host: str = Field("127.0.0.1", description="address `serve` binds to")
    port: int = Field(8000, description="port `serve` listens on")
    workers: int = Field(1, ge=1, description="worker processes for `serve`")
    log_level: str = Field("info", description="log level: debug, info, warning, error")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS")
    cors_allow_headers: list[str] = Field(
        default_factory=list, description="request headers CORS allows besides the default list (app/http/cors.py)"
    )
    compress_min_bytes: int = Field(
        1_024, ge=0, description="answers this large or larger are sent with brotli or gzip when accepted (0: never)"
    )
    production: bool = Field(
        False,
        description="production mode: GraphiQL and introspection off unless turned on, GET only for persisted "
        "queries, no field suggestions in errors",
    )
    introspection: bool | None = Field(None, description="allow schema introspection (default: not in production)")
    graphiql: bool | None = Field(None, description="serve GraphiQL at /graphql (default: not in production)")
    default_page_size: int = Field(20, ge=1, description="page size when first/last is omitted")
    max_page_size: int = Field(100, ge=1, description="largest first/last a client may ask for")
    max_query_cost: int = Field(
        10_000, ge=1, description="most objects one query may ask for (app/execution/query_limits.py)"
    )
    heavy_query_cost: int = Field(1_000, ge=1, description="operations costing this much or more take a heavy slot")
    max_heavy_operations: int = Field(1, ge=1, description="heavy operations executing at once per worker")
    max_query_depth: int = Field(12, ge=1, description="deepest field nesting allowed")
    max_aliases: int = Field(30, ge=1, description="most aliases in one query")
    max_tokens: int = Field(2_000, ge=1, description="most tokens in one query document")
    max_directives: int = Field(20, ge=0, description="most directives in one query document")
    max_query_bytes: int = Field(20_000, ge=1, description="largest query document, in bytes")
    max_body_bytes: int = Field(100_000, ge=1, description="largest request body, in bytes (413)")
    max_batch_size: int = Field(0, ge=0, description="queries in one batched request (0: batching off)")
    body_timeout_seconds: float = Field(
        10.0, gt=0, description="a request body not complete this long after its head arrived is answered 408"
    )
    request_timeout_seconds: float = Field(5.0, gt=0, description="deadline of one request")
    statement_timeout_ms: int = Field(3_000, ge=1, description="deadline of one SQL statement")
    db_pool_size: int = Field(
        32, ge=1, description="PostgreSQL connections each worker keeps open (and as many more under bursts)"
    )
    worker_timeout_seconds: int = Field(
        20, ge=2, description="a worker silent this long (its event loop stuck) is killed and replaced"
    )
    graceful_timeout_seconds: int = Field(10, ge=1, description="on SIGTERM, how long running requests may finish")
    result_cache_size: int = Field(1_000, ge=0, description="cached results per worker (0: off)")
    result_cache_bytes: int = Field(
        64_000_000, ge=0, description="most bytes of JSON the result cache holds per worker (oldest dropped first)"
    )
    data_version_check_seconds: float = Field(
        1.0, ge=0, description="how often a worker re-reads the data version that result caches and ETags key on"
    )
    data_version_fallback_seconds: float = Field(
        30.0, ge=0, description="while re-seeds are announced (app/data/versions.py), how often a worker still re-reads"
    )
    apq_cache_size: int = Field(5_000, ge=1, description="persisted queries (APQ) kept per worker (LRU)")
    apq_cache_bytes: int = Field(
        4_000_000, ge=0, description="most bytes of query text the persisted queries (APQ) of one worker hold"
    )
    apq_shared_bytes: int = Field(
        16_000_000,
        ge=0,
        description="with REDIS_URL: most bytes of persisted queries (APQ) registered in Redis per day, all clients "
        "together (each client at most 1/16 of it); past it a query is kept by its worker only",
    )
    trusted_documents: Path | None = Field(
        None,
        description="manifest of trusted documents (JSON: SHA-256 hex -> document, as graphql-codegen's client "
        "preset writes it); the examples are always trusted",
    )
    trusted_documents_only: bool = Field(
        False, description="run only trusted documents, sent by `documentId` (others: TRUSTED_DOCUMENT_REQUIRED)"
    )
    http_cache_max_age_seconds: int = Field(
        60, ge=0, description="max-age of successful GET /graphql answers, for HTTP caches (0: no Cache-Control)"
    )
    max_request_line_bytes: int = Field(16_384, ge=256, description="longest request line (414 past it)")
    max_header_line_bytes: int = Field(16_384, ge=256, description="longest header line (431 past it)")
    max_header_bytes: int = Field(65_536, ge=1_024, description="longest request head, all headers (431 past it)")
    header_timeout_seconds: float = Field(
        10.0, gt=0, description="a request head not complete this long after it began is answered 408"
    )
    execution: Literal["compiled", "strawberry", "verify"] = Field(
        "compiled",
        description="how repeated queries run: compiled (the fast path), strawberry (no fast path), or verify "
        "(both, answering INTERNAL_SERVER_ERROR and logging the difference when they disagree; the tests' mode)",
    )
    rate_limit_points: int = Field(
        250_000,
        ge=0,
        description="cost points each client may spend per window (0: no rate limits); the default lets an office "
        "of ten behind one address use the landing page, GraphiQL and every example in the same minute",
    )
    rate_limit_window_seconds: int = Field(60, ge=1, description="the rate-limit window, in seconds")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="proxies (IPs or CIDRs) whose X-Forwarded-For names the client"
    )
    api_keys: list[str] = Field(default_factory=list, description="API keys (X-API-Key) that are clients of their own")
    redis_url: str | None = Field(None, description="Redis for budgets and persisted queries shared by all workers")
    rate_limit_redis_prefix: str = Field("kb:rl:", description="prefix of the rate-limit keys in Redis")
    seed_max_file_bytes: int = Field(10_000_000, ge=1, description="largest seed file `seed` reads (refused past it)")
    seed_dir: Path = Field(SEED_DIR, description="folder of documents and facts `seed` loads")

    @property
    def serving_database_url(self) -> str:
        """What `serve` reads from: READ_DATABASE_URL when set, else DATABASE_URL."""
        return self.read_database_url or self.database_url

    @model_validator(mode="after")
    def _production_defaults(self) -> Settings:
        """Introspection and GraphiQL follow production mode unless set one way or the other."""
        if self.introspection is None:
            self.introspection = not self.production
        if self.graphiql is None:
            self.graphiql = not self.production
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
