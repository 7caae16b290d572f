"""Facet counts (and totals) of recent queries, for as long as the index does not change.

Counting facets is about half of a query's CPU at 100k documents (one pass over every
match, which also counts the total), and the same counts are asked for again and
again: the next page or another sort order of a result list, a portal's popular queries.
Elasticsearch keeps such results in its shard request cache until the next refresh; this
is the embedded engine's equivalent: entries belong to one index state (generation and
commit) and are all dropped when it moves.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import fields
from typing import Generic, TypeVar

from services.search.engines.base import SearchQuery

V = TypeVar("V")


# The fields that pick a page of results and its order; every other field of a query (its
# text and each filter) changes the counts, and a filter added later is part of the key.
NOT_FACET_INPUTS = frozenset({"page", "size", "sort"})


def facet_key(query: SearchQuery) -> Hashable:
    """What facet counts depend on: the text and the filters, not the page or the order."""
    return tuple(
        tuple(value) if isinstance(value, list) else value
        for f in fields(query)
        if f.name not in NOT_FACET_INPUTS
        for value in (getattr(query, f.name),)
    )


class StateCache(Generic[V]):
    """A small LRU whose entries hold only for one index `state`."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._state: Hashable = None
        self._lock = threading.Lock()

    def get(self, state: Hashable, key: Hashable) -> V | None:
        with self._lock:
            value = self._entries.get(key) if state == self._state else None
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, state: Hashable, key: Hashable, value: V) -> None:
        with self._lock:
            if state != self._state:
                self._entries.clear()
                self._state = state
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
