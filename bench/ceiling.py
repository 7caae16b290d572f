"""Stage ceiling: each stage's pure function over the same documents, in one process.

The sum of the per-stage costs is what one core needs per document at best; with two
cores the pipeline cannot beat 2 × 1000 / sum(ms) documents per second. The pipeline
benchmark is measured against that number.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.corpus import GeneratedDoc
from bench.timing import per_item_ms


def stage_ceiling(docs: list[GeneratedDoc], *, cores: int = 2) -> dict[str, Any]:
    from services.extract.cleaning import clean_document
    from services.extract.metadata import extract_metadata
    from shared.formats import decode_text

    # Mixed encodings as they arrive: every third document in GB18030.
    raw = [d.text.encode("gb18030" if i % 3 == 0 else "utf-8") for i, d in enumerate(docs)]
    stages: dict[str, float] = {}
    stages["decode"], decoded = per_item_ms(decode_text, raw)
    texts = [d.text for d in decoded]
    stages["clean"], cleaned = per_item_ms(clean_document, texts)
    clean_texts = [c.text for c in cleaned]
    stages["extract"], metas = per_item_ms(extract_metadata, clean_texts)
    stages["dedupe"] = _dedupe_ms(cleaned, metas)
    stages["analyze"], stages["engine_add"] = _index_ms(cleaned, metas)
    total = sum(stages.values())
    return {
        "documents": len(docs),
        "mean_kb": round(sum(len(r) for r in raw) / len(raw) / 1024, 2),
        "ms_per_doc": {k: round(v, 3) for k, v in stages.items()},
        "sum_ms_per_doc": round(total, 3),
        "ceiling_docs_per_s_1_core": round(1000 / total, 1),
        f"ceiling_docs_per_s_{cores}_cores": round(cores * 1000 / total, 1),
    }


def _dedupe_ms(cleaned: list[Any], metas: list[dict[str, Any]]) -> float:
    """The dedupe stage's functions as the pipeline runs them, against a real (SQLite)
    database: signature and candidate comparison per document (no lock), then the
    decisions of each batch in the pipeline's slices of write transactions."""
    import time

    from services.extract.dedupe import DocIdentity, deduplicate
    from services.extract.dedupe.core import DecisionBatch, Thresholds, prepare
    from services.extract.dedupe.signatures import signature
    from services.extract.pipeline.runner import SLICE_DOCS
    from shared.db import dispose_all, session_scope
    from shared.migrate import upgrade
    from shared.models import Document, Status
    from shared.settings import get_settings

    batch_size = get_settings().batch_event_size
    thresholds = Thresholds()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        ids = []
        with session_scope(url, write=True) as session:
            for c in cleaned:
                doc = Document(
                    status=Status.DEDUPLICATING, text=c.text, content_hash=c.content_hash
                )
                session.add(doc)
                session.flush()
                ids.append(doc.id)
        identities = [
            DocIdentity(doc_number=m.get("doc_number"), issuers=tuple(m.get("issuers") or ()))
            for m in metas
        ]
        start = time.perf_counter()
        for b in range(0, len(ids), batch_size):
            batch_ids = ids[b : b + batch_size]
            prepared = {}
            with session_scope(url) as reader:
                for doc_id, c in zip(batch_ids, cleaned[b : b + batch_size], strict=True):
                    sig = signature(c.text, threshold=thresholds.lowest)
                    prepared[doc_id] = (sig, prepare(reader, doc_id, sig, thresholds))
            decisions = DecisionBatch()
            for s in range(0, len(batch_ids), SLICE_DOCS):
                with session_scope(url, write=True) as session:
                    for i, doc_id in enumerate(batch_ids[s : s + SLICE_DOCS], start=b + s):
                        stored = session.get(Document, doc_id)
                        assert stored is not None
                        sig, prep = prepared[doc_id]
                        deduplicate(
                            session,
                            stored,
                            identity=identities[i],
                            signature=sig,
                            prepared=prep,
                            batch=decisions,
                        )
        elapsed = (time.perf_counter() - start) * 1000 / len(ids)
        dispose_all()
        return elapsed


def _index_ms(cleaned: list[Any], metas: list[dict[str, Any]]) -> tuple[float, float]:
    """What the indexer's engine call costs, in its two halves: analysis (building the
    engine's documents: normalising, segmenting, character fields) and the engine's add
    and commit, in the indexer's batches. Analysis was once timed apart from the engine
    call with a tokenizer the engine no longer uses, while the engine call analysed again:
    counted twice, it made the ceiling ~20 % too low."""
    import time

    from services.search.engines.base import IndexDocument
    from services.search.engines.embedded import EmbeddedEngine
    from shared.runtime import run_async

    docs = [
        IndexDocument(
            id=f"b{i}",
            title=m.get("title") or "",
            text=c.text,
            doc_number=m.get("doc_number"),
            issuers=list(m.get("issuers") or []),
            province=m.get("province"),
            city=m.get("city"),
            doc_type=m.get("doc_type"),
            topics=list(m.get("topics") or []),
        )
        for i, (c, m) in enumerate(zip(cleaned, metas, strict=True))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        engine = EmbeddedEngine(Path(tmp) / "index")
        analyze = add = 0.0
        for i in range(0, len(docs), 32):  # the indexer's batch size
            batch = docs[i : i + 32]
            start = time.perf_counter()
            built = engine._build(batch)
            analyzed = time.perf_counter()
            engine._write(batch, built)
            add += time.perf_counter() - analyzed
            analyze += analyzed - start
        run_async(engine.close())
        return analyze * 1000 / len(docs), add * 1000 / len(docs)
