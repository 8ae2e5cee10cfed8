"""Two SQL helpers every module here needs: quoting a name and inserting many rows fast."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from itertools import chain, islice

#: Rows per INSERT statement in bulk writes.
ROWS_PER_STATEMENT = 100


def quote(name: str) -> str:
    """An SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def insert_rows(
    conn: sqlite3.Connection, table: str, names: Sequence[str], rows: Iterable[Sequence[object]], count: int
) -> None:
    """INSERT ``count`` rows, many per statement. Each statement execution has a fixed cost (with
    AUTOINCREMENT it also rewrites sqlite_sequence), so 100 rows a statement halve a bulk insert."""
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(ROWS_PER_STATEMENT, limit // len(names)))
    head = f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) VALUES "
    one = "(" + ", ".join("?" * len(names)) + ")"
    remaining = iter(rows)
    if count >= per:
        conn.executemany(
            head + ", ".join([one] * per),
            (tuple(chain.from_iterable(islice(remaining, per))) for _ in range(count // per)),
        )
    rest = list(remaining)
    if rest:
        conn.execute(head + ", ".join([one] * len(rest)), tuple(chain.from_iterable(rest)))
