"""`fetch_rows`: raw cursor reads that behave like the session's own statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, ProgrammingError

from shared.db import fetch_rows, session_scope
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
