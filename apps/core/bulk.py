"""Idempotent bulk inserts with COPY, PostgreSQL's fastest way in.

The usual batch is new: it is COPYed straight into the table. A batch replayed after a
crash may hold rows already stored; COPY then fails as a whole on the unique key, and
the rows go through a staging table and ``INSERT ... ON CONFLICT DO NOTHING`` instead,
so nothing is stored twice. On SQLite (``make run`` without DATABASE_URL)
the same rows go through ``bulk_create(ignore_conflicts=True)``.

Rows hold Python values: a dict or list is a JSON column's value, encoded here for COPY
only (the ORM encodes it itself), so the two paths store the same JSON, never a JSON
string inside JSON. A caller that encodes its JSON columns along with the row says so
(``json_encoded``), and the ORM path decodes them.

Rows may come lazily (a generator): COPY reads their CSV a chunk at a time
(``CsvStream``), so PostgreSQL inserts one chunk while Python makes the next. The
bench's 50,000 monitor events took 0.63 s to COPY with their CSV made first and 0.46 s
streamed; the drain's rows, decoding each event included, now cost it no waiting.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
from django.db import IntegrityError, connection, models, transaction

# Rows per chunk COPY reads. PostgreSQL waits for the first, so it is small; after it,
# Python (about 3 us a monitor event) keeps ahead of PostgreSQL (about 9 us).
FIRST_CHUNK_ROWS, CHUNK_ROWS = 16, 256


def insert_ignoring_conflicts(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    json_encoded: bool = False,
) -> None:
    """Insert ``rows`` (values in the order of ``columns``), skipping those already stored.

    ``json_encoded``: the rows' JSON values are JSON text already (encoded along with the
    row, one pass less per row for COPY); the ORM path decodes them.
    """
    json_at = json_columns(model, columns)
    if connection.vendor != "postgresql":
        if json_encoded:
            rows = (_json_decoded(row, json_at) for row in rows)
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, ignore_conflicts=True, batch_size=500)
        return
    if isinstance(rows, Sequence) and not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    stage = connection.ops.quote_name(f"stage_{model._meta.db_table}")
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    stream = CsvStream(rows, json_at=() if json_encoded else json_at)
    # Identifiers come from model metadata and are quoted; the values travel through COPY.
    copy = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)"
    staged = (
        f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA",  # noqa: S608
        f"COPY {stage} ({cols}) FROM STDIN WITH (FORMAT csv)",
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING",  # noqa: S608
        # Dropped now, not only at commit: a caller's outer transaction may stage again.
        f"DROP TABLE {stage}",
    )
    if connection.in_atomic_block or not connection.get_autocommit():
        # The caller's transaction: a savepoint keeps its other work when COPY fails.
        with transaction.atomic(), connection.cursor() as cursor:
            if not _copy_all_or_nothing(cursor, copy, stream):
                _stage(cursor, staged, stream)
        return
    # No transaction around: the COPY alone is one, committed (durably) when it returns,
    # as atomic as ever, with no BEGIN, SAVEPOINT, RELEASE or COMMIT round trip (about a
    # millisecond a batch). When a row is there already nothing of it stays: stage anew.
    try:
        with connection.wrap_database_errors, connection.cursor() as cursor:
            copy_from(cursor, copy, stream)
        return
    except IntegrityError:
        pass
    with transaction.atomic(), connection.cursor() as cursor:
        _stage(cursor, staged, stream)


def _stage(cursor: Any, sql: tuple[str, str, str, str], stream: "CsvStream") -> None:
    """Some rows are there already (a batch replayed after a crash): stage and skip them."""
    create, copy, insert, drop = sql
    stream.rewind()
    cursor.execute(create)
    copy_from(cursor, copy, stream)
    cursor.execute(insert)
    cursor.execute(drop)


def _copy_all_or_nothing(cursor: Any, sql: str, stream: "CsvStream") -> bool:
    """COPY straight into the table (the fast, usual case); False if a row already exists.

    COPY is atomic: on a unique violation nothing of it stays, so the caller can take
    the staging path with the same rows.
    """
    try:
        # copy_expert goes straight to psycopg2: map its errors to Django's ourselves.
        with transaction.atomic(), connection.wrap_database_errors:
            copy_from(cursor, sql, stream)
    except IntegrityError:
        return False
    return True


def copy_from(cursor: Any, sql: str, stream: "CsvStream") -> None:
    """``COPY ... FROM STDIN`` reading ``stream``; a row that could not be made raises its
    own error, not the query cancellation psycopg2 reports for it (an OperationalError,
    which the drains take for a database that is away, and would retry forever)."""
    try:
        cursor.copy_expert(sql, stream)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise


class CsvStream:
    """The CSV of ``rows`` for COPY (``read``), made a chunk at a time as COPY asks.

    Every value is quoted, so an empty string stays '' (never NULL); the values at
    ``json_at`` (``json_columns``) are encoded as JSON. What was read is kept, so
    ``rewind`` lets a second COPY read the same rows.
    """

    def __init__(self, rows: Iterable[Sequence[Any]], *, json_at: Sequence[int] = ()) -> None:
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._json_at = tuple(json_at)
        self._chunks: list[str] = []
        self._next = 0  # the chunk the next read returns
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_ALL)
        self.error: Exception | None = None  # raised by a row while COPY was reading

    def read(self, size: int = -1) -> str:
        if self._next < len(self._chunks):
            self._next += 1
            return self._chunks[self._next - 1]
        try:
            chunk = self._chunk()
        except Exception as exc:
            self.error = exc
            raise
        if chunk:
            self._chunks.append(chunk)
            self._next += 1
        return chunk

    def rewind(self) -> None:
        self._next = 0

    def _chunk(self) -> str:
        rows: Iterable[Sequence[Any]] = islice(self._rows, CHUNK_ROWS if self._chunks else FIRST_CHUNK_ROWS)
        if self._json_at:
            rows = (_json_encoded(row, self._json_at) for row in rows)
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(rows)
        return self._buffer.getvalue()


def json_columns(model: type[models.Model], columns: Sequence[str]) -> tuple[int, ...]:
    """The positions in ``columns`` of ``model``'s JSON fields: the values COPY gets as JSON."""
    return tuple(
        i for i, name in enumerate(columns) if isinstance(model._meta.get_field(name), models.JSONField)
    )


def _json_encoded(row: Sequence[Any], json_at: Sequence[int]) -> list[Any]:
    values = list(row)
    for i in json_at:
        values[i] = orjson.dumps(values[i]).decode()
    return values


def _json_decoded(row: Sequence[Any], json_at: Sequence[int]) -> list[Any]:
    values = list(row)
    for i in json_at:
        values[i] = orjson.loads(values[i])
    return values


def csv_buffer(rows: Sequence[Sequence[Any]]) -> io.StringIO:
    """Rows as CSV for COPY, all at once; every dict or list is taken for JSON."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(_copy_values(row) for row in rows)
    buffer.seek(0)
    return buffer


def _copy_values(row: Sequence[Any]) -> list[Any]:
    return [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in row]
