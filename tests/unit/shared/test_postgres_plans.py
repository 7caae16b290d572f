"""PostgreSQL plans each dedupe lookup for its own values, never once for all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from services.extract.dedupe import store
from shared.db import dispose_all, session_scope
from shared.migrate import upgrade


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    upgrade(postgres_url)
    yield postgres_url
    dispose_all()


def test_the_lsh_lookup_runs_on_plans_made_for_its_values(pg_url: str) -> None:
    # psycopg prepares a statement run 5 times; PostgreSQL then switches to one generic
    # plan when that looks no dearer. The lookups start on an empty index that grows by
    # ~100 rows a document, and some buckets (templates) hold hundreds of documents: a
    # generic plan made early kept the workers waiting on this query (47 % of their time;
    # 26–29 → 38–44 docs/s with custom plans on 2,000 documents).
    keys = [(204000 + i, f"{i:016x}") for i in range(18)]
    with session_scope(pg_url) as session:
        for _ in range(12):
            store.lsh_candidates(session, keys, "me")
        plans = session.execute(
            sa.text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%FROM lsh_buckets b JOIN%'"
            )
        ).one()
    assert plans.custom_plans >= 7 and plans.generic_plans == 0
