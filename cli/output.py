"""Readable tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()


def emit(
    data: Any, *, as_json: bool, columns: Sequence[str] = (), title: str | None = None
) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    rows = data if isinstance(data, list) else [data]
    table = Table(title=title)
    cols = list(columns) or (list(rows[0]) if rows and isinstance(rows[0], dict) else ["value"])
    for col in cols:
        table.add_column(col)
    for row in rows:
        if isinstance(row, dict):
            table.add_row(*(_cell(row.get(c)) for c in cols))
        else:
            table.add_row(_cell(row))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
