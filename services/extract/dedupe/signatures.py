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
from dataclasses import dataclass
from functools import cache

import numpy as np
import xxhash
from cachetools import LRUCache
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


# Shingle hashing is vectorised: a polynomial over the code points of each window, then
# the splitmix64 finaliser, top 32 bits. Hashing each shingle string with xxh32 from Python
# cost 0.5 µs a shingle (1.1 ms of a 1.6 ms signature for 2k characters, and again for
# every candidate read from the database); this costs ~0.05 ms. No library hashes all
# windows of an array, and this is the whole of it.
HASH_SCHEME = 2  # 1: xxh32 of each shingle string. Stored bands and samples carry it.
_POLY = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def shingle_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """The k-gram set as sorted unique 32-bit hashes: what every comparison works on.

    Set algebra on sorted uint32 arrays (numpy, in C) costs a fraction of Python string
    sets and a twentieth of their memory, so candidates' shingles can be cached. Two
    distinct shingles of a pair colliding is ~n²/2³³ (0.01 for 10k shingles): no effect."""
    return _window_hashes(content_chars(text), k)


def _window_hashes(chars: str, k: int) -> np.ndarray:
    if not chars:
        return np.zeros(0, dtype=np.uint32)
    points = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(k, points.size)  # a text shorter than k is one shingle
    count = points.size - width + 1
    h = np.zeros(count, dtype=np.uint64)
    for i in range(width):
        h = h * _POLY + points[i : i + count]  # wraps modulo 2**64, as intended
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return np.unique((h >> np.uint64(32)).astype(np.uint32))


def _identity(value: int) -> int:
    return value


@cache
def _template() -> MinHash:
    # Creating permutations costs more than hashing a document; share one set.
    return MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity, scheme=SCHEME)


def minhash(hashes: np.ndarray) -> LeanMinHash:
    """datasketch MinHash over the already-hashed shingles."""
    template = _template()
    m = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashfunc=_identity,
        permutations=template.permutations,
        scheme=SCHEME,
    )
    if hashes.size:
        m.update_batch(hashes.tolist())
    return LeanMinHash(m)


def to_bytes(m: LeanMinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(data, dtype=np.uint64), scheme=SCHEME)


# An LSH candidate whose MinHash estimate is this far below the threshold is not read: with
# 128 permutations the estimate's standard deviation is at most 0.045, so 0.15 is > 3 sigma.
ESTIMATE_MARGIN = 0.15


def estimated_jaccard(m: LeanMinHash, others: list[bytes]) -> np.ndarray:
    """MinHash estimates against many stored signatures at once."""
    if not others:
        return np.zeros(0)
    matrix = np.frombuffer(b"".join(others), dtype=np.uint64).reshape(len(others), -1)
    return np.asarray((matrix == m.hashvalues).mean(axis=1))


@dataclass(frozen=True)
class Signature:
    """Everything dedupe derives from a text alone: computed before the shared index is
    locked, so workers hash in parallel and hold the lock only for the lookups."""

    content_hash: str
    shingles: np.ndarray  # sorted xxh32 of the SHINGLE-grams
    minhash: LeanMinHash
    band_keys: list[tuple[int, str]]
    long_shingles: np.ndarray  # sorted xxh32 of the CONTAINMENT_SHINGLE-grams
    samples: list[str]


def signature(text: str, *, threshold: float) -> Signature:
    """`threshold`: the lowest Jaccard the LSH bands must find (see `bands_for`)."""
    chars = content_chars(text)
    hashes = _window_hashes(chars, SHINGLE)
    m = minhash(hashes)
    long_hashes = _window_hashes(chars, CONTAINMENT_SHINGLE)
    return Signature(
        content_hash=hashlib.sha256(chars.encode()).hexdigest(),
        shingles=hashes,
        minhash=m,
        band_keys=band_keys(m, threshold),
        long_shingles=long_hashes,
        samples=containment_sample(long_hashes),
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


# Containment samples live beside the LSH bands under a negative band number.
SAMPLE_BAND = -HASH_SCHEME


def band_keys(m: LeanMinHash, threshold: float) -> list[tuple[int, str]]:
    """(band, key) pairs. The band number carries the hash scheme and the row count, so
    buckets written under another scheme or threshold setting never match by accident
    (they just aren't found)."""
    b, r = bands_for(threshold)
    values = m.hashvalues
    return [
        (
            HASH_SCHEME * 100_000 + r * 1000 + i,
            xxhash.xxh64_hexdigest(values[i * r : (i + 1) * r].tobytes()),
        )
        for i in range(b)
    ]


def containment_sample(long_hashes: np.ndarray) -> list[str]:
    """Long-shingle hashes ≡ 0 (mod SAMPLE_MOD): long ones, so that documents sharing only
    stock phrases do not share samples."""
    return [f"{h:08x}" for h in long_hashes[long_hashes % SAMPLE_MOD == 0].tolist()]


def shared(a: np.ndarray, b: np.ndarray) -> int:
    """How many hashes two sorted unique arrays have in common."""
    return int(np.intersect1d(a, b, assume_unique=True).size)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if not a.size or not b.size:
        return 0.0
    both = shared(a, b)
    return both / (a.size + b.size - both)


# Shingle hashes of stored documents by (id, content hash, k), least recently used out:
# the same candidates come up again and again, and rereading their text costs more than
# comparing. ~20 KB per 5k-character document; 2,048 entries stay under ~100 MB.
STORED_SHINGLES: LRUCache[tuple[str, str | None, int], np.ndarray] = LRUCache(maxsize=2048)
