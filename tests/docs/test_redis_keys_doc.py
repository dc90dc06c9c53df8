"""The Redis key table in docs/architecture.md is the key list of apps/core/keys.py.

Each public function of keys.py is called with placeholders named after its parameters
(``onboard_hash(mobile="{mobile}")`` gives ``onboard_hash:{mobile}``) and an empty
REDIS_KEY_PREFIX. The table has one row per function, its first cell exactly that
pattern in a code span: every pattern must have its row, and every row must be a pattern
some function produces.
"""

import inspect
from collections import Counter
from collections.abc import Callable

from django.test import override_settings

from apps.core import keys

from .markdown import DOCS, section, single_code_span, table_rows

ARCHITECTURE = DOCS / "architecture.md"
REDIS_TYPES = {"STRING", "INT", "HASH", "SET", "ZSET", "LIST", "STREAM"}


def key_functions() -> dict[str, Callable[..., str]]:
    return {
        name: func
        for name, func in inspect.getmembers(keys, inspect.isfunction)
        if func.__module__ == keys.__name__ and not name.startswith("_")
    }


@override_settings(REDIS_KEY_PREFIX="")
def code_patterns() -> dict[str, str]:
    """Key pattern -> the function of keys.py that builds it."""
    patterns = {}
    for name, func in key_functions().items():
        placeholders = {param: f"{{{param}}}" for param in inspect.signature(func).parameters}
        patterns[func(**placeholders)] = name
    return patterns


def table() -> list[list[str]]:
    return table_rows(section(ARCHITECTURE.read_text(), "Redis keys"))


def doc_patterns() -> list[str]:
    return [single_code_span(row[0]) or row[0] for row in table()]


def test_every_key_function_has_a_row() -> None:
    missing = {pattern: func for pattern, func in code_patterns().items() if pattern not in doc_patterns()}
    assert not missing, f"add these keys to the table in docs/architecture.md: {missing}"


def test_every_row_is_a_key_the_code_builds() -> None:
    stale = [pattern for pattern in doc_patterns() if pattern not in code_patterns()]
    assert not stale, f"no function of apps/core/keys.py builds these rows of docs/architecture.md: {stale}"


def test_rows_are_one_key_each_with_a_type_a_meaning_and_a_ttl() -> None:
    rows = table()
    assert rows, "docs/architecture.md has no Redis key table"
    twice = [pattern for pattern, count in Counter(doc_patterns()).items() if count > 1]
    assert not twice, f"listed twice: {twice}"
    for row in rows:
        assert len(row) == 4 and single_code_span(row[0]), f"want | `pattern` | type | meaning | TTL |: {row}"
        assert row[1] in REDIS_TYPES, f"{row[0]}: type {row[1]!r} is not one of {sorted(REDIS_TYPES)}"
        assert row[2] and row[3], f"{row[0]}: meaning and TTL must not be empty"
