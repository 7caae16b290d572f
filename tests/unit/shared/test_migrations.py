"""Upgrading a database in place keeps what it holds working."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from bench.corpus import make_document, near_copy
from services.extract.cleaning import clean_document
from services.extract.dedupe import DocIdentity, deduplicate
from services.extract.dedupe import signatures as sig
from shared.db import dispose_all, session_scope
from shared.migrate import alembic_config
from shared.models import Document, Status
from tests.conftest import PostgresSchema, require_services


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        dispose_all()
        return
    require_services("postgres")
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        dispose_all()
        schema.drop()


def test_dedupe_index_of_a_0001_database_still_finds_copies(blank_url: str) -> None:
    command.upgrade(alembic_config(blank_url), "0001")
    rng = random.Random(5)
    original = make_document(rng, "old", target_chars=3000)
    cleaned = clean_document(original.text)
    with session_scope(blank_url, write=True) as s:
        old = Document(status=Status.INDEXED, text=cleaned.text, content_hash=cleaned.content_hash)
        s.add(old)
        s.flush()
        old_id = old.id
    # The index as release 0001 wrote it: xxh32 shingles, bands numbered rows * 1000 + i.
    engine = sa.create_engine(blank_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO dedupe_signatures (document_id, minhash, shingle_count)"
                " VALUES (:d, :m, 2)"
            ),
            {"d": old_id, "m": bytes(8 * sig.NUM_PERM)},
        )
        conn.execute(
            sa.text("INSERT INTO lsh_buckets (band, bucket, document_id) VALUES (:b, :k, :d)"),
            [{"b": 4000 + i, "k": f"old{i}", "d": old_id} for i in range(32)]
            + [{"b": -1, "k": f"{i:08x}", "d": old_id} for i in range(2)],
        )
    engine.dispose()

    command.upgrade(alembic_config(blank_url), "head")

    copy = clean_document(near_copy(rng, original, "new").text)
    with session_scope(blank_url, write=True) as s:
        new = Document(status=Status.DEDUPLICATING, text=copy.text, content_hash=copy.content_hash)
        s.add(new)
        s.flush()
        outcome = deduplicate(s, new, identity=DocIdentity(original.doc_number, ()))
    assert [r.other_id for r in outcome.relations] == [old_id]
    assert outcome.relations[0].relation == "near_duplicate"
    with session_scope(blank_url) as s:
        bands = set(s.scalars(sa.text("SELECT DISTINCT band FROM lsh_buckets")))
        assert -1 not in bands and all(b == sig.SAMPLE_BAND or b > 100_000 for b in bands)
        seqs = dict(s.execute(sa.text("SELECT document_id, seq FROM dedupe_signatures")).all())
        assert seqs[old_id] == 0 and seqs[new.id] == 1


def test_migrations_build_the_schema_the_models_describe(blank_url: str) -> None:
    """A column or index added to a model without a migration would exist in tests'
    fresh databases and nowhere else."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shared.models.base import Base

    command.upgrade(alembic_config(blank_url), "head")
    engine = sa.create_engine(blank_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_forgetting_a_documents_hash_uses_an_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN DELETE FROM content_hashes WHERE document_id = 'x'"
        ).all()
    engine.dispose()
    assert "ix_content_hashes_document_id" in str(plan), plan
