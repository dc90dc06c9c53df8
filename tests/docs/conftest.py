"""The docs tests read files and import modules; they touch no Redis and no database.

``clean_redis`` (tests/conftest.py) flushes the suite's Redis before every test; here it
is replaced by a no-op, so these tests run without Redis and never disturb a suite
running beside them.
"""

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def clean_redis() -> Iterator[None]:
    yield
