"""What every Redis queue payload shares: orjson, a version field ``v``, room to grow.

Each payload is one frozen dataclass in its producing app's ``payloads.py``, with its
own ``to_json`` and ``from_json``; these helpers are the mechanics they share. During a
rolling deploy a new web process and an old worker (or the reverse) meet on the same
queue, so a reader takes an item without ``v`` as version 1 (written before payloads
carried one) and ignores fields it does not know (written by a newer version).
"""

from dataclasses import fields
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def payload_dumps(payload: object, *, version: int) -> str:
    # vars(), not asdict(): asdict deep-copies every nested dict and list, and the
    # drains' producers write tens of thousands of these a second.
    return orjson.dumps({"v": version, **vars(payload)}).decode()


def payload_loads(raw: str | bytes) -> tuple[int, dict[str, Any]]:
    """(version, fields) of one queue item; ValueError when it is not a JSON object."""
    data = orjson.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"a queue payload is a JSON object, not {type(data).__name__}")
    return int(data.pop("v", 1)), data


def payload_build(cls: type[T], data: dict[str, Any]) -> T:
    """``cls(**data)`` without the fields ``cls`` does not know (a newer writer's)."""
    known = _field_names(cls)
    return cls(**{name: value for name, value in data.items() if name in known})


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names
