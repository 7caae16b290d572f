"""Recently returned hits' stored payloads, parsed and normalised, keyed by their bytes.

Every hit of a result page is read back from the index's store as JSON, and its title and
text normalised again for highlighting (width folding, script conversion): at 100k
documents, with eight queries at a time, building a page's hits was 42 % of the search
process's time holding the GIL (py-spy `--gil`), parsing and normalising about half of
it, and every request's Python work queues behind the GIL. The same documents come back
again and again (the top of popular queries, the next page of one). Keyed by the stored
bytes themselves, an entry cannot go stale: a re-indexed document has new bytes, and a
merge of the index moves none.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

# Stored bytes kept, in all: the parsed values take ~2-3× as much again (a page of long
# plans is ~1 MB of payloads), so this bounds the cache near 50 MB whatever the documents.
BUDGET_BYTES = 16_000_000


class ParsedCache(Generic[V]):
    """`parse(raw)` for raw bytes, remembered for the most recently used ones."""

    def __init__(self, parse: Callable[[bytes], V], *, budget: int = BUDGET_BYTES) -> None:
        self._parse = parse
        self.budget = budget
        self._entries: OrderedDict[bytes, V] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, raw: bytes) -> V:
        with self._lock:
            value = self._entries.get(raw)
            if value is not None:
                self._entries.move_to_end(raw)
                return value
        value = self._parse(raw)  # outside the lock: two threads may parse one at once
        if len(raw) > self.budget:
            return value
        with self._lock:
            if raw not in self._entries:
                self._entries[raw] = value
                self._held += len(raw)
                while self._held > self.budget:
                    old, _ = self._entries.popitem(last=False)
                    self._held -= len(old)
        return value

    def __len__(self) -> int:
        return len(self._entries)
