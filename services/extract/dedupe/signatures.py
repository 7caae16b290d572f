"""Shingles, MinHash signatures, LSH band keys and containment samples of a cleaned text.

Character shingles: Chinese has no spaces, and word segmentation would make the signature
depend on the dictionary; 4-character shingles over the text with whitespace and
punctuation removed separate unrelated policies well (they share stock phrases of 2–3
characters) while a changed sentence only touches a few dozen shingles. MinHash is
datasketch's with `update_batch`, xxh32 and one shared set of permutations: ≈1 ms per
document against ≈17 ms for the naive per-shingle `update` loop (MEASUREMENTS.md).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash

SHINGLE = 4
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"  # datasketch 2's default for 32-bit hashes; stored signatures use it
# Containment sample: shingle hashes ≡ 0 (mod SAMPLE_MOD). Content-defined, so a fragment
# samples the same shingles as the document it was cut from, whatever their sizes.
SAMPLE_MOD = 32
# Containment is confirmed on longer shingles: an excerpt shares whole runs of text with
# its source, while a short text on the same topic shares only stock 4-character phrases.
CONTAINMENT_SHINGLE = 8
NOT_CONTENT = re.compile(r"[\W_]+", re.UNICODE)


# LSH must find a pair at exactly the threshold almost surely: candidates are verified on
# exact shingle sets, so an extra candidate costs one text read, a missed one a wrong result.
# datasketch's `_optimal_param` (equal weights) picks 9 bands x 13 rows for 0.8, which finds
# a pair at Jaccard 0.8 only 40 % of the time.
MIN_RECALL_AT_THRESHOLD = 0.98


def content_chars(text: str) -> str:
    """The words only: NFKC (full-width forms, ㈠), no whitespace or punctuation, lower case."""
    return NOT_CONTENT.sub("", unicodedata.normalize("NFKC", text)).lower()


def content_hash(text: str) -> str:
    """Exact-copy key: copies differing in layout, punctuation or width hash the same."""
    return hashlib.sha256(content_chars(text).encode()).hexdigest()


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    """Character k-grams of the words (str, not bytes: encoding each cost a third)."""
    chars = content_chars(text)
    if len(chars) < k:
        return {chars} if chars else set()
    return {chars[i : i + k] for i in range(len(chars) - k + 1)}


def _xxh32(data: bytes) -> int:
    return xxhash.xxh32_intdigest(data)


@cache
def _template() -> MinHash:
    # Creating permutations costs more than hashing a document; share one set.
    return MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_xxh32, scheme=SCHEME)


def minhash(shingle_set: set[str]) -> LeanMinHash:
    template = _template()
    m = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_xxh32,
        permutations=template.permutations,
        scheme=SCHEME,
    )
    if shingle_set:
        m.update_batch([x.encode() for x in shingle_set])
    return LeanMinHash(m)


def to_bytes(m: LeanMinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(data, dtype=np.uint64), scheme=SCHEME)


# An LSH candidate whose MinHash estimate is this far below the threshold is not read: with
# 128 permutations the estimate's standard deviation is at most 0.045, so 0.15 is > 3 sigma.
ESTIMATE_MARGIN = 0.15


def estimated_jaccard(m: LeanMinHash, other: bytes) -> float:
    return float(np.mean(m.hashvalues == np.frombuffer(other, dtype=np.uint64)))


@dataclass(frozen=True)
class Signature:
    """Everything dedupe derives from a text alone: computed before the shared index is
    locked, so workers hash in parallel and hold the lock only for the lookups."""

    content_hash: str
    shingles: set[str]
    minhash: LeanMinHash
    band_keys: list[tuple[int, str]]
    long_shingles: set[str]
    samples: list[str]


def signature(text: str, *, threshold: float) -> Signature:
    """`threshold`: the lowest Jaccard the LSH bands must find (see `bands_for`)."""
    shingle_set = shingles(text)
    m = minhash(shingle_set)
    long_set = shingles(text, CONTAINMENT_SHINGLE)
    return Signature(
        content_hash=content_hash(text),
        shingles=shingle_set,
        minhash=m,
        band_keys=band_keys(m, threshold),
        long_shingles=long_set,
        samples=containment_sample(long_set),
    )


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Chance that two sets with this Jaccard share at least one LSH band."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


@cache
def bands_for(threshold: float) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest false candidates) that still make a
    pair at `threshold` a candidate with probability >= MIN_RECALL_AT_THRESHOLD.
    0.8 -> 18 x 7 (P = 0.986 at 0.8, 0.13 at 0.5, 0.004 at 0.3)."""
    for rows in range(NUM_PERM, 0, -1):
        bands = NUM_PERM // rows
        if candidate_probability(threshold, bands, rows) >= MIN_RECALL_AT_THRESHOLD:
            return bands, rows
    return NUM_PERM, 1


def band_keys(m: LeanMinHash, threshold: float) -> list[tuple[int, str]]:
    """(band, key) pairs. The band number carries the row count, so buckets written under
    another threshold setting never match by accident (they just aren't found)."""
    b, r = bands_for(threshold)
    values = m.hashvalues
    return [
        (r * 1000 + i, xxhash.xxh64_hexdigest(values[i * r : (i + 1) * r].tobytes()))
        for i in range(b)
    ]


def containment_sample(long_shingles: AbstractSet[str]) -> list[str]:
    """Hashes of the long shingles ≡ 0 (mod SAMPLE_MOD): long ones, so that documents
    sharing only stock phrases do not share samples."""
    return sorted(
        {f"{h:08x}" for s in long_shingles if (h := _xxh32(s.encode())) % SAMPLE_MOD == 0}
    )


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(part: AbstractSet[str], whole: AbstractSet[str]) -> float:
    """Share of `part`'s shingles found in `whole`."""
    if not part:
        return 0.0
    return len(part & whole) / len(part)


@lru_cache(maxsize=4096)
def cached_shingles(doc_id: str, content_hash: str | None, text: str, k: int) -> frozenset[str]:
    """Shingles of a stored document: the same candidates come up again and again."""
    return frozenset(shingles(text, k))
