"""Record the SQL statements a piece of code sends: for tests that hold a path's number
of reads or writes constant (a per-document query or row rewrite is a slowdown that no
functional assertion notices)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement any engine executes meanwhile (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def starting(seen: list[str], prefix: str) -> list[str]:
    """The statements that start with `prefix` (case and leading space ignored)."""
    return [s for s in seen if s.lstrip().upper().startswith(prefix.upper())]
