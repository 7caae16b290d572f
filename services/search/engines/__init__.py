"""Pick the engine the settings ask for; both implement `base.SearchEngine`."""

from __future__ import annotations

from services.search.engines.base import SearchEngine
from shared.settings import Settings


def create_engine(settings: Settings, *, writable: bool) -> SearchEngine:
    if settings.search_engine == "elasticsearch":
        from services.search.engines.elastic import ElasticEngine

        return ElasticEngine(settings.elasticsearch_url, index=settings.elasticsearch_index)
    from services.search.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir, writable=writable)
