"""Where the CLI finds the services and its API key (env vars, then local defaults)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from shared.settings import get_settings


def ingest_url() -> str:
    s = get_settings()
    return os.environ.get("POLICY_SEARCH_INGEST_URL", f"http://{s.host}:{s.ingest_port}")


def search_url() -> str:
    s = get_settings()
    return os.environ.get("POLICY_SEARCH_SEARCH_URL", f"http://{s.host}:{s.search_port}")


def api_key() -> str | None:
    if key := os.environ.get("POLICY_SEARCH_API_KEY"):
        return key
    path: Path = get_settings().data_dir / "local-api-key"
    return path.read_text().strip() if path.exists() else None


def ingest_client(timeout: float = 60) -> httpx.Client:
    headers = {"X-API-Key": key} if (key := api_key()) else {}
    return httpx.Client(base_url=ingest_url(), headers=headers, timeout=timeout)


def search_client(timeout: float = 30) -> httpx.Client:
    headers = {"X-API-Key": key} if (key := api_key()) else {}
    return httpx.Client(base_url=search_url(), headers=headers, timeout=timeout)
