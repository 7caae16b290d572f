"""Settings shared by every service, read from the environment (and `.env`).

Each process calls `get_settings()`; tests clear its cache (`get_settings.cache_clear()`)
after changing the environment.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Embedded database, broker, index")
    database_url: str | None = Field(default=None, description="Default: SQLite in DATA_DIR")
    broker_url: str | None = Field(default=None, description="Default: SQLite broker in DATA_DIR")
    search_engine: Literal["embedded", "elasticsearch"] = "embedded"
    elasticsearch_url: str = "http://localhost:9200"
    elasticsearch_index: str = "policy-documents"
    ingest_port: int = 8001
    search_port: int = 8002
    host: str = "127.0.0.1"

    # Ingest limits
    max_upload_bytes: int = 20 * 1024 * 1024
    batch_event_size: int = Field(default=32, description="Documents per pipeline task")
    max_batch_items: int = 10_000

    # Fetching
    fetch_max_bytes: int = 20 * 1024 * 1024
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 20.0
    fetch_max_redirects: int = 5
    fetch_allow_private: bool = Field(
        default=False, description="Allow URLs resolving to loopback/private ranges (tests)"
    )
    fetch_allowed_ports: list[int] = [80, 443, 8080, 8443]
    fetch_allowed_networks: list[str] = Field(
        default=[], description="CIDRs fetched although private (intranet sources)"
    )

    # Reliability
    outbox_relay_interval: float = 1.0
    ingest_relay: bool = Field(
        default=True,
        description="The ingest process publishes its outbox events (and on SQLite moves "
        "its inbox) itself; false where "
        "`policy-search relay` runs beside it (`policy-search run` and compose do)",
    )
    sweeper_stuck_after_seconds: int = 600
    sweeper_interval_seconds: int = 60

    # Dedupe
    near_duplicate_threshold: float = Field(
        default=0.8, description="MinHash Jaccard at which same-identity copies merge"
    )
    related_threshold: float = Field(
        default=0.6, description="Jaccard at which documents are related (never merged)"
    )
    containment_threshold: float = 0.8

    # Auth
    require_api_key: bool = Field(default=True, description="Write endpoints need X-API-Key")
    search_requires_api_key: bool = False
    write_rate_limit_per_minute: int = 6000
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts a key it verified (a revoked key stops "
        "working within this); 0 checks the database on every request",
    )
    bootstrap_api_key: bool = Field(
        default=True,
        description="`run` creates a first key in DATA_DIR/local-api-key if none exists",
    )

    cors_origins: list[str] = ["*"]
    public_ingest_url: str | None = Field(
        default=None, description="Ingest base URL as browsers reach it (search page)"
    )
    log_level: str = "INFO"
    log_json: bool = True

    # Cached: asked several times a request (authentication, the write), and resolving
    # the path is a `lstat` per directory on the way.
    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'policy.db').resolve()}"

    @cached_property
    def resolved_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        return f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
