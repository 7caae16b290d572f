"""`fetch_rows`, `insert_rows`: DB-API cursor statements that behave like the session's own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from shared.db import fetch_rows, insert_rows, session_scope
from shared.models import Document, Status


def test_reads_in_the_session_transaction_with_positional_parameters(database_url: str) -> None:
    with session_scope(database_url, write=True) as session:
        doc = Document(status=Status.RECEIVED, text="正文")
        session.add(doc)
        session.flush()  # not committed: only this transaction sees it
        rows = fetch_rows(
            session.connection(),
            "SELECT id, status FROM documents WHERE id IN (?, ?) AND status != ?",
            [doc.id, "nobody", "failed"],
        )
        assert rows == [(doc.id, "received")]
        session.rollback()
    with session_scope(database_url) as session:
        assert fetch_rows(session.connection(), "SELECT count(*) FROM documents", []) == [(0,)]


def test_database_errors_arrive_as_sqlalchemys(database_url: str) -> None:
    # The pipeline retries on sqlalchemy's OperationalError; a raw DB-API error would
    # fail the document instead.
    expected = OperationalError if database_url.startswith("sqlite") else ProgrammingError
    with session_scope(database_url) as session, pytest.raises(expected) as raised:
        fetch_rows(session.connection(), "SELECT nothing FROM no_such_table WHERE x = ?", [1])
    assert isinstance(raised.value, sa.exc.DBAPIError)
    assert "no_such_table" in str(raised.value)


BUCKET = "INSERT INTO lsh_buckets (band, bucket, document_id) VALUES (?, ?, ?)"


def test_inserted_rows_commit_and_roll_back_with_the_transaction(database_url: str) -> None:
    with session_scope(database_url, write=True) as session:
        doc = Document(status=Status.RECEIVED, text="正文")
        session.add(doc)
        session.flush()
        doc_id = doc.id
        insert_rows(session.connection(), BUCKET, [(1, "a", doc_id), (2, "b", doc_id)])
    with session_scope(database_url, write=True) as session:
        insert_rows(session.connection(), BUCKET, [(3, "c", doc_id)])
        session.rollback()
    with session_scope(database_url) as session:
        rows = fetch_rows(session.connection(), "SELECT band, bucket FROM lsh_buckets", [])
    assert sorted(rows) == [(1, "a"), (2, "b")]
    # A row already there is SQLAlchemy's IntegrityError, and the others stay as they were.
    with (
        pytest.raises(IntegrityError),
        session_scope(database_url, write=True) as session,
    ):
        insert_rows(session.connection(), BUCKET, [(4, "d", doc_id), (1, "a", doc_id)])
    with session_scope(database_url) as session:
        assert fetch_rows(session.connection(), "SELECT count(*) FROM lsh_buckets", []) == [(2,)]
