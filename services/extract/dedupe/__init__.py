"""Dedupe: exact copies, near-duplicates and fragments, decided against a shared index.

- Exact: the content hash of the cleaned simplified text (layout, punctuation and script
  ignored) is claimed in `content_hashes`; the first holder wins, later copies become
  `duplicate` of it, also when two workers race (primary key + advisory lock).
- Near-duplicates: MinHash LSH with bands stored in `lsh_buckets`, so every worker and a
  restarted one see the same index; candidates are verified on exact shingle Jaccard.
- Fragments: LSH misses a short excerpt of a long text (their Jaccard is low), so a
  content-defined sample of shingle hashes (hash mod 32 = 0) is stored too; a fragment
  shares most of its samples with its source whichever arrives first, then exact
  containment confirms.
- Clusters: similar copies with no conflicting identity (issuer, 发文字号) form a cluster
  with one canonical copy (`identity.elect_canonical`); others are related only.
"""

from __future__ import annotations

from services.extract.dedupe.core import DedupeOutcome, RelationOut, deduplicate
from services.extract.dedupe.identity import DocIdentity
from services.extract.dedupe.maintenance import forget_document, reelect_clusters

__all__ = [
    "DedupeOutcome",
    "DocIdentity",
    "RelationOut",
    "deduplicate",
    "forget_document",
    "reelect_clusters",
]
