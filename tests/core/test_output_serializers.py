"""Hot-path responses render through FlatOutputSerializer: plain fields, shallow copies."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from apps.core.serializers import FlatOutputSerializer, IsoUtcField


class Pair(FlatOutputSerializer):
    name = serializers.CharField()
    when = IsoUtcField()


def test_each_instance_binds_fields_of_its_own():
    first, second = (
        Pair({"name": "a", "when": datetime.now(UTC)}),
        Pair({"name": "b", "when": datetime.now(UTC)}),
    )

    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
    assert Pair._declared_fields["name"].parent is None  # the declared field stays unbound


def test_it_renders_like_a_plain_serializer():
    moment = datetime(2026, 12, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    assert Pair({"name": "a", "when": moment}).data == {"name": "a", "when": "2026-12-01T07:00:05Z"}


def test_a_nested_serializer_is_refused():
    with pytest.raises(TypeError, match="nested"):

        class Nested(FlatOutputSerializer):
            inner = Pair()
