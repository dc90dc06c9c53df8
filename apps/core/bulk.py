"""Idempotent bulk inserts with COPY, PostgreSQL's fastest way in.

The usual batch is new: it is COPYed straight into the table. A batch replayed after a
crash may hold rows already stored; COPY then fails as a whole on the unique key, and
the rows go through a staging table and ``INSERT ... ON CONFLICT DO NOTHING`` instead,
so nothing is stored twice. On SQLite (``make run`` without DATABASE_URL)
the same rows go through ``bulk_create(ignore_conflicts=True)``.

Rows hold Python values: a dict or list is a JSON column's value, encoded here for COPY
only (the ORM encodes it itself), so the two paths store the same JSON, never a JSON
string inside JSON.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any

import orjson
from django.db import IntegrityError, connection, models, transaction


def insert_ignoring_conflicts(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, ignore_conflicts=True, batch_size=500)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    stage = connection.ops.quote_name(f"stage_{model._meta.db_table}")
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    buffer = csv_buffer(rows)
    # Identifiers come from model metadata and are quoted; the values travel through COPY.
    with transaction.atomic(), connection.cursor() as cursor:
        if _copy_all_or_nothing(cursor, f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", buffer):
            return
        # Some rows are there already (a batch replayed after a crash): stage and skip them.
        buffer.seek(0)
        cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")  # noqa: S608
        cursor.copy_expert(f"COPY {stage} ({cols}) FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT DO NOTHING")  # noqa: S608
        # Dropped now, not only at commit: a caller's outer transaction may stage again.
        cursor.execute(f"DROP TABLE {stage}")


def _copy_all_or_nothing(cursor: Any, sql: str, buffer: io.StringIO) -> bool:
    """COPY straight into the table (the fast, usual case); False if a row already exists.

    COPY is atomic: on a unique violation nothing of it stays, so the caller can take
    the staging path with the same rows.
    """
    try:
        # copy_expert goes straight to psycopg2: map its errors to Django's ourselves.
        with transaction.atomic(), connection.wrap_database_errors:
            cursor.copy_expert(sql, buffer)
    except IntegrityError:
        return False
    return True


def csv_buffer(rows: Sequence[Sequence[Any]]) -> io.StringIO:
    """Rows as CSV for COPY; every value quoted, so an empty string stays '' (never NULL)."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(_copy_values(row) for row in rows)
    buffer.seek(0)
    return buffer


def _copy_values(row: Sequence[Any]) -> list[Any]:
    return [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in row]
