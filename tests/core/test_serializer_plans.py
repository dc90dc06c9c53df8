"""The hot path's serializers validate valid data and render answers without DRF's
per-field machinery (``apps.core.serializers``: the input plan behind ``is_valid`` and
``FlatOutputSerializer.represent``). Every serializer of the API is checked here against
DRF's own run on valid data and on each way a field can be wrong: the same verdict, the
same validated data, the same errors; and the same answer rendered from mappings and
objects, with values missing, null or callable."""

import importlib
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.http import QueryDict
from rest_framework import serializers

from apps.core.serializers import FlatOutputSerializer, IsoUtcField, SharedFieldsSerializer

API_MODULES = [
    "apps.core.apis",
    "apps.inbound.apis",
    "apps.onboarding.apis",
    "apps.otp.apis",
    "apps.messaging.apis",
    "apps.messaging.receipt_apis",
    "apps.clients.apis",
]
# The request serializers of the hot path: each must take the plan for valid data, or the
# comparison below would only ever test DRF against itself.
HOT_INPUTS = [
    "SmsReceiveApi.InputSerializer",
    "AndroidSmsReceiveApi.InputSerializer",
    "AndroidSmsReceiveApi.PayloadSerializer",
    "TwilioSmsReceiveApi.InputSerializer",
    "JasminSmsReceiveApi.InputSerializer",
    "OtpRequestApi.InputSerializer",
    "OtpVerifyApi.InputSerializer",
    "NotificationCreateApi.InputSerializer",
]


def _subclasses(base: type[Any]) -> list[Any]:
    for module in API_MODULES:
        importlib.import_module(module)
    found, todo = [], [base]
    while todo:
        for cls in todo.pop().__subclasses__():
            found.append(cls)
            todo.append(cls)
    return [cls for cls in found if cls.__module__.startswith("apps.")]


def _sample(field: serializers.Field) -> Any:
    """A value ``field`` accepts, as a client would send it."""
    if isinstance(field, serializers.ChoiceField):
        return next(iter(field.choices))
    if isinstance(field, serializers.DateTimeField):
        return "2026-12-01T10:00:00Z"
    if isinstance(field, serializers.UUIDField):
        return str(uuid.UUID(int=7))
    if isinstance(field, serializers.EmailField):
        return "person@example.com"
    if isinstance(field, serializers.BooleanField):
        return True
    if isinstance(field, serializers.IntegerField):
        return max(field.min_value or 0, 3)
    if isinstance(field, serializers.DictField):
        return {"a": "1"}
    if isinstance(field, serializers.ListField):
        return ["a"]
    if isinstance(field, serializers.CharField):
        return "+4477" if (field.max_length or 99) >= 5 else "1"
    raise LookupError(type(field).__name__)


def _wrong(field: serializers.Field) -> list[Any]:
    long = "x" * ((getattr(field, "max_length", None) or 10) + 1)
    return [None, "", "   ", " padded ", long, 5, 2.5, True, [], {}, "a\x00b", "a\ud800b", "é📱"]


# Values a serializer reads besides its declared fields (Jasmin's "from", a Python keyword).
UNDECLARED = {"JasminSmsReceiveApi.InputSerializer": {"from": "+4477"}}


def _bodies(cls: type[serializers.Serializer]) -> list[Any]:
    fields = cls().fields
    valid = {name: _sample(field) for name, field in fields.items() if not field.read_only}
    valid.update(UNDECLARED.get(cls.__qualname__, {}))
    bodies: list[Any] = [valid, {**valid, "unknown": "1"}, [], "text", None, {}]
    for name, field in fields.items():
        bodies.append({key: value for key, value in valid.items() if key != name})
        bodies.extend({**valid, name: value} for value in _wrong(field))
    forms = []
    for body in bodies:
        if isinstance(body, dict) and all(isinstance(v, str) for v in body.values()):
            form = QueryDict(mutable=True)
            for key, value in body.items():
                form.setlist(key, ["first", value])  # DRF reads a repeated field's last value
            forms.append(form)
    return bodies + forms


def _drf(cls: type[serializers.Serializer], body: Any) -> tuple[bool, Any, Any]:
    serializer = cls(data=body)
    valid = serializers.Serializer.is_valid(serializer)  # DRF's own, without the plan
    return valid, dict(serializer.validated_data), serializer.errors


def _planned(cls: type[serializers.Serializer], body: Any) -> tuple[bool, Any, Any]:
    serializer = cls(data=body)
    valid = serializer.is_valid()
    return valid, dict(serializer.validated_data), serializer.errors


def _inputs() -> list[type]:
    """The serializers that validate requests (answers with nested parts are plain ones)."""
    return [
        cls
        for cls in _subclasses(SharedFieldsSerializer)
        if not issubclass(cls, FlatOutputSerializer) and not cls.__qualname__.endswith("OutputSerializer")
    ]


@pytest.mark.parametrize("cls", _inputs(), ids=lambda cls: cls.__qualname__)
def test_every_request_serializer_judges_as_drf_does(cls):
    try:
        bodies = _bodies(cls)
    except LookupError as exc:
        pytest.fail(f"no sample value for a {exc} field: add one so this serializer is compared")
    for body in bodies:
        assert _planned(cls, body) == _drf(cls, body), body


@pytest.mark.parametrize("name", HOT_INPUTS)
def test_the_hot_request_serializers_take_the_plan_for_valid_data(name):
    by_name = {cls.__qualname__: cls for cls in _inputs()}
    cls = by_name[name]
    valid = _bodies(cls)[0]
    serializer = cls(data=valid)
    assert serializer.is_valid(), serializer.errors
    plan = cls.__dict__["_input_plan"]
    assert plan, f"{name} has no plan: DRF validates all its data"
    assert plan.validated(cls(data=valid), valid) == serializer.validated_data


class Custom(SharedFieldsSerializer):
    code = serializers.CharField(max_length=6)
    extra = serializers.CharField(required=False, default="none")
    maybe = serializers.CharField(required=False, allow_null=True)

    def validate_code(self, value: str) -> str:
        if not value.isdigit():
            raise serializers.ValidationError("Digits only.")
        return value.upper()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("maybe") == "refuse":
            raise serializers.ValidationError({"maybe": ["Refused."]})
        return {**attrs, "checked": True}


class Overridden(SharedFieldsSerializer):
    code = serializers.CharField()

    def to_internal_value(self, data: Any) -> Any:
        return {"code": "mine"}


@pytest.mark.parametrize(
    "body",
    [
        {"code": "123"},
        {"code": "12a"},
        {"code": "123", "extra": "x"},
        {"code": "123", "maybe": None},
        {"code": "123", "maybe": "refuse"},
        {"code": "1234567"},
        {"code": "123", "maybe": ""},
    ],
)
def test_field_methods_validate_defaults_and_nulls_are_judged_as_drf_does(body):
    assert _planned(Custom, body) == _drf(Custom, body)


def test_a_class_that_validates_in_its_own_way_gets_no_plan():
    serializer = Overridden(data={"code": "x"})

    assert serializer.is_valid()
    assert serializer.validated_data == {"code": "mine"}
    assert Overridden.__dict__["_input_plan"] is False


def test_a_refusal_still_raises_drfs_validation_error():
    by_name = {cls.__qualname__: cls for cls in _inputs()}
    serializer = by_name["SmsReceiveApi.InputSerializer"](data={"sender_number": "+4477"})

    with pytest.raises(serializers.ValidationError) as raised:
        serializer.is_valid(raise_exception=True)
    assert set(raised.value.detail) == {"sms_message", "received_timestamp"}


# --- answers -------------------------------------------------------------------------------


def _out_sample(field: serializers.Field) -> Any:
    if isinstance(field, IsoUtcField):
        return datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    if isinstance(field, serializers.ChoiceField):
        return next(iter(field.choices))
    if isinstance(field, serializers.UUIDField):
        return uuid.UUID(int=9)
    if isinstance(field, serializers.BooleanField):
        return False
    if isinstance(field, serializers.IntegerField):
        return 42
    if isinstance(field, serializers.ListField):
        return ["a", "b"]
    if isinstance(field, serializers.DictField):
        return {"a": 1}
    return "text"


def _instance(cls: type[FlatOutputSerializer], **overrides: Any) -> dict[str, Any]:
    """A mapping with each field's value at its source (``mobile.key`` nested)."""
    data: dict[str, Any] = {}
    for name, field in cls().fields.items():
        source = str(field.source)
        *path, last = source.split(".") if source != "*" else [name]
        target = data
        for part in path:
            target = target.setdefault(part, {})
        target[last] = overrides.get(name, _out_sample(field))
    return data


def _as_object(value: Any) -> Any:
    if isinstance(value, dict):
        return SimpleNamespace(**{key: _as_object(item) for key, item in value.items()})
    return value


def _rendered(render: Any, instance: Any) -> Any:
    try:
        return render(instance)
    except Exception as exc:  # the two must fail alike
        return type(exc)


@pytest.mark.parametrize("cls", _subclasses(FlatOutputSerializer), ids=lambda cls: cls.__qualname__)
def test_every_answer_serializer_renders_as_drf_does(cls):
    names = list(cls().fields)
    instances = [_instance(cls), _as_object(_instance(cls))]
    for name in names:
        instances.append(_instance(cls, **{name: None}))
        without = _instance(cls)
        without.pop(name, None)
        instances.append(without)
        instances.append(_as_object(_instance(cls, **{name: lambda: "called"})))
    for instance in instances:
        assert _rendered(cls.represent, instance) == _rendered(lambda i: dict(cls(i).data), instance), (
            instance
        )


def test_the_hot_answer_serializers_render_from_the_plan():
    for cls in _subclasses(FlatOutputSerializer):
        cls.represent(_instance(cls))
        assert cls.__dict__["_output_plan"], f"{cls.__qualname__} renders through DRF"
