"""Threshold evaluation on the labelled pairs in `tests/data/dedupe_eval/`.

Each pair goes through the real path — cleaning, metadata identity, `deduplicate` on a
migrated SQLite database — in both arrival orders, alone (the documents are forgotten and
deleted before the next pair). Scored per threshold:

- merge precision / recall: "one search result" (exact duplicate or same cluster) against
  the `same` label; a wrong merge hides a different legal document.
- relation recall: the expected relation (near_duplicate, contained_in) was recorded.
- wrong relations: a relation between unrelated documents.

`.venv/bin/python -m bench.dedupe_variants` prints the table; `make bench` includes it and
`tests/unit/extract/test_dedupe_variants.py` holds the default thresholds to the targets.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import delete, select

from services.extract.cleaning import clean_document
from services.extract.dedupe import DocIdentity, deduplicate, forget_document
from services.extract.dedupe import signatures as sig
from services.extract.metadata import extract_metadata
from shared.db import dispose_all, session_scope
from shared.migrate import upgrade
from shared.models import Document, Relation, Status

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedupe_eval"
THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    kind: str
    same: bool
    expect: str  # exact | near | contained_in | related | none


@dataclass(frozen=True)
class Result:
    pair: Pair
    a_first: bool
    merged: bool  # exact duplicate or one cluster: shown as one search result
    relation: str | None  # from b's side
    jaccard: float


def load_pairs() -> list[Pair]:
    lines = (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    return [
        Pair(**{k: v for k, v in json.loads(x).items() if k != "note"}) for x in lines if x.strip()
    ]


@cache
def prepared(path: str) -> tuple[str, DocIdentity]:
    """Cleaned text and identity, as the clean and dedupe stages compute them."""
    cleaned = clean_document((DATA / path).read_text(encoding="utf-8"))
    meta = extract_metadata(cleaned.text)
    return cleaned.text, DocIdentity(meta.get("doc_number"), tuple(meta.get("issuers") or ()))


def _dedupe(url: str, path: str, threshold: float, containment: float) -> str:
    text, identity = prepared(path)
    with session_scope(url, write=True) as s:
        doc = Document(status=Status.DEDUPLICATING, text=text)
        s.add(doc)
        s.flush()
        out = deduplicate(
            s, doc, identity=identity, near_threshold=threshold, containment_threshold=containment
        )
        doc.cluster_id, doc.is_canonical = out.cluster_id, out.is_canonical
        if out.duplicate_of:
            doc.duplicate_of, doc.status = out.duplicate_of, Status.DUPLICATE
        return doc.id


def run_pair(
    url: str, pair: Pair, threshold: float, *, a_first: bool, containment: float
) -> Result:
    order = [pair.a, pair.b] if a_first else [pair.b, pair.a]
    ids = dict(zip(order, (_dedupe(url, p, threshold, containment) for p in order), strict=True))
    a_id, b_id = ids[pair.a], ids[pair.b]
    with session_scope(url, write=True) as s:
        a, b = s.get(Document, a_id), s.get(Document, b_id)
        assert a is not None and b is not None
        merged = (
            a.duplicate_of == b.id
            or b.duplicate_of == a.id
            or (a.cluster_id is not None and a.cluster_id == b.cluster_id)
        )
        relation = s.scalar(
            select(Relation.relation).where(Relation.document_id == b_id, Relation.other_id == a_id)
        )
        if b.duplicate_of == a.id or a.duplicate_of == b.id:
            relation = "exact"
        for doc_id in (a_id, b_id):
            forget_document(s, doc_id)
        s.execute(delete(Document).where(Document.id.in_([a_id, b_id])))
    ta, tb = prepared(pair.a)[0], prepared(pair.b)[0]
    jaccard = sig.jaccard(sig.shingle_hashes(ta), sig.shingle_hashes(tb))
    return Result(pair, a_first, merged, relation, round(jaccard, 3))


def evaluate(threshold: float, *, containment: float = 0.8) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.db'}"
        upgrade(url)
        try:
            return [
                run_pair(url, pair, threshold, a_first=a_first, containment=containment)
                for pair in load_pairs()
                for a_first in (True, False)
            ]
        finally:
            dispose_all()


def score(results: list[Result]) -> dict[str, float]:
    same = [r for r in results if r.pair.same]
    merged = [r for r in results if r.merged]
    expected = {"exact": {"exact"}, "near": {"near_duplicate", "exact"}}
    expected["contained_in"] = {"contained_in"}
    with_relation = [r for r in results if r.pair.expect in expected]
    templates = [r for r in results if r.pair.expect == "related"]
    return {
        "merge_precision": round(sum(r.pair.same for r in merged) / max(1, len(merged)), 3),
        "merge_recall": round(sum(r.merged for r in same) / max(1, len(same)), 3),
        "relation_recall": round(
            sum(r.relation in expected[r.pair.expect] for r in with_relation)
            / max(1, len(with_relation)),
            3,
        ),
        "templates_related": round(
            sum(r.relation is not None for r in templates) / max(1, len(templates)), 3
        ),
        "wrong_relations": sum(r.pair.expect == "none" and r.relation is not None for r in results),
        "pairs": len(results),
    }


def threshold_table() -> dict[str, dict[str, float]]:
    """`score` at each merge threshold (the related threshold stays at its default)."""
    return {f"{t:.2f}": score(evaluate(t)) for t in THRESHOLDS}


def main() -> None:
    print("threshold  merge_P  merge_R  relation_R  templates_related  wrong_rel")
    misses: dict[float, list[str]] = {}
    for t in THRESHOLDS:
        results = evaluate(t)
        s = score(results)
        print(
            f"{t:9.2f}  {s['merge_precision']:7.3f}  {s['merge_recall']:7.3f}  "
            f"{s['relation_recall']:10.3f}  {s['templates_related']:17.3f}  "
            f"{s['wrong_relations']:9d}"
        )
        misses[t] = sorted(
            {
                f"{r.pair.b} ({r.pair.expect}, J={r.jaccard}, got {r.relation})"
                for r in results
                if (r.pair.same and not r.merged) or (r.merged and not r.pair.same)
            }
        )
    for t, m in misses.items():
        if m:
            print(f"misses at {t}: " + "; ".join(m))
    print("Jaccard (4-char shingles) per pair kind:")
    by_kind: dict[str, list[float]] = {}
    for r in evaluate(0.8):
        if r.a_first:
            by_kind.setdefault(r.pair.kind, []).append(r.jaccard)
    for kind, js in sorted(by_kind.items()):
        print(f"  {kind:16s} min {min(js):.3f}  max {max(js):.3f}")


if __name__ == "__main__":
    main()
