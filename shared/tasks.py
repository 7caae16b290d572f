"""Task names and queues: the only thing one service knows about another's workers.

A service calls another's task with `send_task(NAME, kwargs=event.model_dump(mode="json"),
queue=QUEUE)`; it never imports the other service's code.
"""

from typing import Final

EXTRACT_QUEUE: Final = "extract"
SEARCH_QUEUE: Final = "search"

# Extract pipeline, in order. Each takes a `DocumentBatch` event.
FETCH: Final = "extract.fetch"
CLEAN: Final = "extract.clean"
DEDUPE: Final = "extract.dedupe"
EXTRACT: Final = "extract.extract"
RECLUSTER: Final = "extract.recluster"  # after a delete: re-elect canonical documents
POLL_SOURCES: Final = "extract.poll_sources"
SWEEP_STUCK: Final = "extract.sweep_stuck"

# Search indexer.
INDEX: Final = "search.index"
UNINDEX: Final = "search.unindex"

TASK_QUEUES: Final[dict[str, str]] = {
    FETCH: EXTRACT_QUEUE,
    CLEAN: EXTRACT_QUEUE,
    DEDUPE: EXTRACT_QUEUE,
    EXTRACT: EXTRACT_QUEUE,
    RECLUSTER: EXTRACT_QUEUE,
    POLL_SOURCES: EXTRACT_QUEUE,
    SWEEP_STUCK: EXTRACT_QUEUE,
    INDEX: SEARCH_QUEUE,
    UNINDEX: SEARCH_QUEUE,
}
