"""Make the embedded engine unavailable the way it really happens: another process holds
the index's writer lock (a long `reindex`, a stuck process), so the indexer cannot write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy


@contextmanager
def hold_index_writer(index_dir: Path) -> Iterator[None]:
    generation = (index_dir / "CURRENT").read_text().strip()
    index = tantivy.Index.open(str(index_dir / generation))
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    try:
        yield
    finally:
        writer.rollback()
        del writer
