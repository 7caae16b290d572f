"""The dedupe index in the database, shared by every worker: hashes, signatures, buckets."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import cast

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from services.extract.dedupe.signatures import SAMPLE_BAND
from shared.db import fetch_rows, insert_rows
from shared.models import Document, Relation, utcnow
from shared.models.dedupe import ContentHash, DedupeSignature, LshBucket

# These tables are only ever written here, with Core statements on the connection: the
# ORM's bulk and DML paths (identity-map sync, per-row bookkeeping) cost more than the
# SQL itself, inside the transaction every dedupe decision waits for.
HASHES = cast(Table, ContentHash.__table__)
SIGNATURES = cast(Table, DedupeSignature.__table__)
BUCKETS = cast(Table, LshBucket.__table__)
RELATIONS = cast(Table, Relation.__table__)
# Statements built once: constructing them (and their cache keys) per call was a third of
# a decision's Python time at 2,000 documents.
_ID: BindParameter[str] = bindparam("id")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_HOLDER = select(HASHES.c.document_id).where(HASHES.c.hash == bindparam("hash"))
_NEWEST = select(func.max(SIGNATURES.c.seq))
_STILL = select(SIGNATURES.c.document_id).where(
    SIGNATURES.c.document_id.in_(_IDS), SIGNATURES.c.seq <= bindparam("upto")
)
_DECIDED_AFTER = (
    select(
        BUCKETS.c.band,
        BUCKETS.c.bucket,
        BUCKETS.c.document_id,
        SIGNATURES.c.seq,
        SIGNATURES.c.shingle_count,
    )
    .join(SIGNATURES, SIGNATURES.c.document_id == BUCKETS.c.document_id)
    .where(SIGNATURES.c.seq > bindparam("high"))
)
_FORGET = [
    *(delete(t).where(t.c.document_id == _ID) for t in (HASHES, SIGNATURES, BUCKETS)),
    delete(RELATIONS).where(or_(RELATIONS.c.document_id == _ID, RELATIONS.c.other_id == _ID)),
]
_UNRELATE = delete(RELATIONS).where(
    or_(
        (RELATIONS.c.document_id == bindparam("a")) & (RELATIONS.c.other_id == bindparam("b")),
        (RELATIONS.c.document_id == bindparam("b")) & (RELATIONS.c.other_id == bindparam("a")),
    )
)


def serialize_decisions(session: Session) -> None:
    """One dedupe decision at a time across all workers, until this transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write engine already
    begins IMMEDIATE, which serialises writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('policy-search:dedupe'))"))


def claim_hash(session: Session, content_hash: str, document_id: str) -> str:
    """Record `document_id` as holder of `content_hash` unless another holds it; the holder."""
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(HASHES)
        .values(hash=content_hash, document_id=document_id)
        .on_conflict_do_nothing(index_elements=["hash"])
    )
    holder = connection.scalar(_HOLDER, {"hash": content_hash})
    return holder or document_id


def save_signature(
    session: Session,
    document_id: str,
    minhash: bytes,
    band_keys: list[tuple[int, str]],
    samples: list[str],
) -> tuple[int, list[str]]:
    """Returns the decision's sequence number, and the samples given a posting (those not
    known to be stock phrases, see `COMMON_SAMPLE_DOCS`)."""
    connection = session.connection()
    unique = set(samples)
    # A stock phrase's postings are never read (lookups skip a sample held by more than
    # COMMON_SAMPLE_DOCS documents), yet each document using it added one: half the sample
    # rows of the bench's corpus, each a write to a random page of the index.
    posted = sorted(unique - _known_common(connection))
    # `shingle_count` holds the number of containment samples, posted or not: what
    # candidate search divides by. ORM objects cost 10 ms per document here, and even
    # the ORM's bulk insert path spent 2 ms collecting ~70 rows.
    rows = [(band, key, document_id) for band, key in band_keys]
    rows += [(SAMPLE_BAND, x, document_id) for x in posted]
    # The sequence number is taken inside the serialised decision, so it grows in commit
    # order: what a decision prepared before the lock has not seen is exactly `seq > mark`.
    seq = (connection.scalar(_NEWEST) or 0) + 1
    connection.execute(
        insert(SIGNATURES),
        [
            {
                "document_id": document_id,
                "minhash": minhash,
                "shingle_count": len(unique),
                "seq": seq,
            }
        ],
    )
    # On the DB-API cursor: SQLAlchemy's executemany spent ~0.2 ms a document building
    # and binding the rows' dictionaries, inside the turn every writer waits for.
    insert_rows(
        connection, "INSERT INTO lsh_buckets (band, bucket, document_id) VALUES (?, ?, ?)", rows
    )
    return seq, posted


def watermark(session: Session) -> int:
    """The newest signature committed so far (see `save_signature`)."""
    return int(session.connection().scalar(_NEWEST) or 0)


def still_indexed(session: Session, ids: Iterable[str], *, upto: int) -> set[str]:
    """Those of `ids` whose signature, as seen at `upto`, is still in the index (not
    deleted, not re-decided since)."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(session.connection().scalars(_STILL, {"ids": wanted, "upto": upto}))


# A containment sample held by more documents than this is a stock phrase (or a text
# republished that often, whose copies LSH finds): it says nothing about which document a
# fragment was cut from, and counting its postings was most of the candidate search (3 →
# 1.3 ms a document at 1,000 generated documents). Ignoring such samples, as plagiarism
# detectors ignore common fingerprints, leaves a fragment its distinctive ones.
COMMON_SAMPLE_DOCS = 100
# Samples found common, remembered by the process per database: counting their postings
# again was most of what remained of the search. Common stays common: a common sample gets
# no more postings (`save_signature`), and documents are rarely deleted.
_KNOWN_COMMON: dict[str, set[str]] = {}


def _known_common(connection: Connection) -> set[str]:
    return _KNOWN_COMMON.setdefault(str(connection.engine.url), set())


def _marks(n: int) -> str:
    return ", ".join("?" * n)


# The two lookups every document makes, on the DB-API cursor (`fetch_rows`): through
# SQLAlchemy they cost 0.71 and 0.92 ms a document, through the cursor 0.46 and 0.65
# (2,000 bench documents, same SQL, plans and results).
@lru_cache(maxsize=16)
def _bucket_lookup(n: int) -> str:
    # Plain SQL, cached per band count: building the same 32-way OR as SQLAlchemy
    # expressions took 6 ms per document against 0.2 ms for this (both use the index).
    # The signature's version comes along (a primary-key lookup per row, in the database):
    # the candidate check then reads only signatures it has not cached (core.py).
    where = " OR ".join(["(b.band = ? AND b.bucket = ?)"] * n)
    return (
        "SELECT b.document_id, s.seq FROM lsh_buckets b"
        " JOIN dedupe_signatures s ON s.document_id = b.document_id"
        f" WHERE ({where}) AND b.document_id != ?"
    )


def lsh_candidates(
    session: Session, band_keys: list[tuple[int, str]], exclude: str
) -> dict[str, int]:
    """Documents sharing an LSH band, with their signature's version (`seq`)."""
    if not band_keys:
        return {}
    params = [value for key in band_keys for value in key]
    rows = fetch_rows(session.connection(), _bucket_lookup(len(band_keys)), [*params, exclude])
    return dict(rows)


def containment_candidates(
    session: Session, samples: list[str], exclude: str, *, min_share: float, limit: int = 10
) -> set[str]:
    """Documents sharing at least `min_share` of the smaller of the two sample sets."""
    if not samples:
        return set()
    connection = session.connection()
    known = _known_common(connection)
    unknown = [x for x in samples if x not in known]
    if unknown:
        rows = fetch_rows(
            connection,
            "SELECT bucket FROM lsh_buckets"
            f" WHERE band = ? AND bucket IN ({_marks(len(unknown))})"
            " GROUP BY bucket HAVING count(*) > ?",
            [SAMPLE_BAND, *unknown, COMMON_SAMPLE_DOCS],
        )
        common = {bucket for (bucket,) in rows}
        if len(known) < 200_000:  # ~12 MB at most
            known.update(common)
        unknown = [x for x in unknown if x not in common]
    informative = unknown  # the samples not known to be stock phrases
    if not informative:
        return set()
    shared: dict[str, int] = dict(
        fetch_rows(
            connection,
            "SELECT document_id, count(*) FROM lsh_buckets"
            f" WHERE band = ? AND bucket IN ({_marks(len(informative))}) AND document_id != ?"
            " GROUP BY document_id ORDER BY count(*) DESC LIMIT ?",
            [SAMPLE_BAND, *informative, exclude, limit * 5],
        )
    )
    if not shared:
        return set()
    sizes: dict[str, int] = dict(
        fetch_rows(
            connection,
            "SELECT document_id, shingle_count FROM dedupe_signatures"
            f" WHERE document_id IN ({_marks(len(shared))})",
            list(shared),
        )
    )
    return _best_containment(shared, sizes, len(informative), min_share=min_share, limit=limit)


def _best_containment(
    shared: dict[str, int], sizes: dict[str, int], mine: int, *, min_share: float, limit: int
) -> set[str]:
    # Stock phrases make a few shared samples common; require 3+ (fewer only for a short
    # fragment that has fewer samples in all) and the share of the smaller sample set,
    # best first, so verification only reads a handful of texts.
    smaller = {doc_id: min(mine, sizes.get(doc_id, 0)) for doc_id in shared}
    ranked = sorted(
        (
            (n / max(1, smaller[doc_id]), doc_id)
            for doc_id, n in shared.items()
            if n >= min(3, smaller[doc_id])
        ),
        reverse=True,
    )
    return {doc_id for share, doc_id in ranked[:limit] if share >= min_share}


class RecentSignatures:
    """The signatures decided after a watermark, in memory, for one batch of decisions.

    A worker decides a batch in one transaction that holds the decision lock throughout,
    so nothing else is decided meanwhile: what others committed since the watermark is
    read once, and each decision of the batch is added as it is made. Looking the delta
    up in SQL cost ~2 ms a document inside the lock (sample postings of stock phrases
    are long); this is a dictionary lookup."""

    def __init__(self, session: Session, since: int) -> None:
        self.since = since
        self._high = since  # the newest decision known
        self._buckets: dict[tuple[int, str], set[str]] = defaultdict(set)
        self._keys: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._seq: dict[str, int] = {}
        self._sizes: dict[str, int] = {}
        self.catch_up(session)

    def catch_up(self, session: Session) -> None:
        """Read what was decided since the newest decision known: the batch's decisions
        are committed in slices, and others may decide between two slices."""
        rows = session.connection().execute(_DECIDED_AFTER, {"high": self._high})
        fresh: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for band, bucket, doc_id, seq, size in rows:
            fresh[doc_id].append((band, bucket))
            self._seq[doc_id], self._sizes[doc_id] = seq, size
            self._high = max(self._high, seq)
        for doc_id, keys in fresh.items():
            self._drop(doc_id)
            for key in keys:
                self._put(doc_id, key)

    def _put(self, doc_id: str, key: tuple[int, str]) -> None:
        self._buckets[key].add(doc_id)
        self._keys[doc_id].append(key)

    def add(
        self,
        doc_id: str,
        seq: int,
        band_keys: list[tuple[int, str]],
        posted: list[str],
        *,
        samples: int,
    ) -> None:
        """Record a decision just written (replacing what an earlier run of it wrote):
        the postings `save_signature` wrote, and the document's number of samples."""
        self._drop(doc_id)
        for key in band_keys:
            self._put(doc_id, key)
        for sample in posted:
            self._put(doc_id, (SAMPLE_BAND, sample))
        self._seq[doc_id], self._sizes[doc_id] = seq, samples
        self._high = max(self._high, seq)

    def _drop(self, doc_id: str) -> None:
        for key in self._keys.pop(doc_id, []):
            self._buckets[key].discard(doc_id)

    def _after(self, doc_ids: Iterable[str], exclude: str, since: int) -> Iterator[str]:
        return (d for d in doc_ids if d != exclude and self._seq[d] > since)

    def lsh_candidates(
        self, band_keys: list[tuple[int, str]], exclude: str, *, since: int
    ) -> set[str]:
        return {
            d for key in band_keys for d in self._after(self._buckets.get(key, ()), exclude, since)
        }

    def containment_candidates(
        self, samples: list[str], exclude: str, *, since: int, min_share: float, limit: int = 10
    ) -> set[str]:
        shared = Counter(
            d
            for sample in set(samples)
            for d in self._after(self._buckets.get((SAMPLE_BAND, sample), ()), exclude, since)
        )
        if not shared:
            return set()
        return _best_containment(
            dict(shared), self._sizes, len(samples), min_share=min_share, limit=limit
        )


def set_relation(session: Session, a: str, b: str, kind_ab: str, kind_ba: str, sim: float) -> None:
    connection = session.connection()
    connection.execute(_UNRELATE, {"a": a, "b": b})
    now, similarity = utcnow(), round(sim, 4)
    connection.execute(
        insert(RELATIONS),
        [
            {
                "document_id": a,
                "other_id": b,
                "relation": kind_ab,
                "similarity": similarity,
                "created_at": now,
            },
            {
                "document_id": b,
                "other_id": a,
                "relation": kind_ba,
                "similarity": similarity,
                "created_at": now,
            },
        ],
    )


def forget(session: Session, document_id: str) -> None:
    """Remove everything dedupe knows about a document (re-run, new version, delete)."""
    session.flush()  # pending ORM changes first: these statements bypass the session
    forget_rows(session, document_id)


def forget_rows(session: Session, document_id: str) -> None:
    """`forget` without flushing the session first: for a caller whose pending changes
    cannot touch these tables (`deduplicate`)."""
    connection = session.connection()
    for statement in _FORGET:
        connection.execute(statement, {"id": document_id})


def cluster_members(session: Session, cluster_ids: Iterable[str]) -> list[Document]:
    ids = [c for c in cluster_ids if c]
    if not ids:
        return []
    return list(session.scalars(select(Document).where(Document.cluster_id.in_(ids))))
