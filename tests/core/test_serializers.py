"""Hot-path serializers bind their plain fields once per class (SharedFieldsSerializer):
they must validate and render exactly as DRF's own Serializer does, and no request's data
or errors may reach another's, in one thread or across threads."""

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from apps.core.serializers import (
    FlatOutputSerializer,
    IsoUtcField,
    SharedFieldsSerializer,
    StrictSerializer,
    query_validated,
)


class Pair(FlatOutputSerializer):
    name = serializers.CharField()
    when = IsoUtcField()


class Sms(StrictSerializer):
    sender = serializers.CharField(max_length=16)
    body = serializers.CharField(trim_whitespace=False)
    at = serializers.DateTimeField()
    tag = serializers.ChoiceField(choices=["a", "b"], required=False)


class PlainSms(serializers.Serializer):  # DRF's own, the reference
    sender = serializers.CharField(max_length=16)
    body = serializers.CharField(trim_whitespace=False)
    at = serializers.DateTimeField()
    tag = serializers.ChoiceField(choices=["a", "b"], required=False)


class WithList(SharedFieldsSerializer):
    items = serializers.ListField(child=serializers.CharField(max_length=3))
    extra = serializers.DictField(required=False)


class Inner(SharedFieldsSerializer):
    name = serializers.CharField()


class WithNested(SharedFieldsSerializer):
    inner = Inner()
    inners = serializers.ListField(child=Inner(), required=False)


def test_instances_of_a_plain_class_share_one_bound_set_and_the_declared_fields_stay_unbound():
    first, second = (
        Pair({"name": "a", "when": datetime.now(UTC)}),
        Pair({"name": "b", "when": datetime.now(UTC)}),
    )

    assert first.fields is second.fields
    assert first.fields["name"].parent not in (first, second, None)  # bound to a serializer without data
    assert Pair._declared_fields["name"].parent is None


def test_a_class_with_a_nested_serializer_binds_per_instance_as_drf_does():
    first = WithNested(data={"inner": {"name": "a"}, "inners": [{"name": "b"}]})
    second = WithNested(data={"inner": {"name": "c"}})

    assert first.fields is not second.fields
    assert first.fields["inner"].parent is first and second.fields["inner"].parent is second
    assert first.is_valid() and second.is_valid()
    assert first.validated_data == {"inner": {"name": "a"}, "inners": [{"name": "b"}]}
    assert second.validated_data == {"inner": {"name": "c"}}


def test_lists_and_dicts_of_plain_values_share_their_fields_and_validate_each_instance_apart():
    first, second = (
        WithList(data={"items": ["x"], "extra": {"k": 1}}),
        WithList(data={"items": ["y", "long"]}),
    )

    assert first.fields is second.fields
    assert first.is_valid() and not second.is_valid()
    assert first.validated_data == {"items": ["x"], "extra": {"k": 1}}
    assert second.errors == {"items": {1: ["Ensure this field has no more than 3 characters."]}}
    third = WithList(data={"items": ["z"]})
    assert third.is_valid() and third.validated_data == {"items": ["z"]}  # nothing of the second's


def test_it_renders_like_a_plain_serializer():
    moment = datetime(2026, 12, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    assert Pair({"name": "a", "when": moment}).data == {"name": "a", "when": "2026-12-01T07:00:05Z"}


@pytest.mark.parametrize(
    "data",
    [
        {"sender": "+919876543210", "body": " hi ", "at": "2026-12-01T10:00:00Z"},
        {"sender": "+919876543210", "body": "hi", "at": "2026-12-01T10:00:00+05:30", "tag": "b"},
        {"sender": "x" * 17, "body": "", "at": "yesterday", "tag": "c"},
        {"sender": None, "body": 5, "at": ""},
        {},
    ],
)
def test_it_validates_like_drfs_serializer(data):
    ours, drfs = Sms(data=data), PlainSms(data=data)

    assert ours.is_valid() == drfs.is_valid()
    assert ours.errors == drfs.errors
    if drfs.is_valid():
        assert ours.validated_data == drfs.validated_data


def test_one_instances_errors_and_data_never_reach_the_next():
    bad = Sms(data={"sender": "x" * 17, "body": "b", "at": "2026-12-01T10:00:00Z"})
    good = Sms(data={"sender": "+1", "body": "b", "at": "2026-12-01T10:00:00Z"})

    assert not bad.is_valid() and good.is_valid()
    assert set(bad.errors) == {"sender"} and good.errors == {}
    assert good.validated_data["sender"] == "+1"


def test_unknown_fields_are_still_refused():
    strict = Sms(data={"sender": "+1", "body": "b", "at": "2026-12-01T10:00:00Z", "extra": 1})

    assert not strict.is_valid()
    assert strict.errors == {"extra": ["Unknown field."]}


def test_threads_validating_at_once_each_get_their_own_result():
    wrong: list[str] = []

    def validate(worker: int) -> None:
        for i in range(300):
            sender = f"+{worker}{i:06d}"
            valid = (i % 3) != 0
            data = {"sender": sender if valid else "x" * 20, "body": str(i), "at": "2026-12-01T10:00:00Z"}
            serializer = Sms(data=data)
            if serializer.is_valid() != valid:
                wrong.append(f"{worker}/{i}: {serializer.errors}")
            elif valid and (serializer.validated_data["sender"], serializer.validated_data["body"]) != (
                sender,
                str(i),
            ):
                wrong.append(f"{worker}/{i}: {serializer.validated_data}")
            elif not valid and set(serializer.errors) != {"sender"}:
                wrong.append(f"{worker}/{i}: {serializer.errors}")

    threads = [threading.Thread(target=validate, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_nested_serializer_is_refused():
    with pytest.raises(TypeError, match="nested"):

        class Nested(FlatOutputSerializer):
            inner = Pair()


class Query(SharedFieldsSerializer):
    registration_id = serializers.UUIDField(required=False)


class QueryWithDefault(SharedFieldsSerializer):
    limit = serializers.IntegerField(required=False, default=100)


class StrictQuery(StrictSerializer):
    after = serializers.CharField(required=False)


def test_an_empty_query_of_optional_fields_is_what_drf_answers_without_a_serializer():
    drfs = Query(data={})
    assert drfs.is_valid()

    assert query_validated(Query, {}) == dict(drfs.validated_data) == {}


def test_a_query_is_still_validated_when_it_names_a_field_or_a_field_has_a_default():
    rid = "0d5c7f0e-0000-4000-8000-000000000000"

    assert query_validated(Query, {"registration_id": rid}) == {"registration_id": uuid.UUID(rid)}
    assert query_validated(QueryWithDefault, {}) == {"limit": 100}
    with pytest.raises(serializers.ValidationError) as bad:
        query_validated(Query, {"registration_id": "not-a-uuid"})
    assert "registration_id" in bad.value.detail
    with pytest.raises(serializers.ValidationError) as unknown:
        query_validated(StrictQuery, {"limt": "5"})  # a strict query's unknown parameter
    assert unknown.value.detail == {"limt": ["Unknown field."]}
