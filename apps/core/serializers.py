import copy
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, NamedTuple

from django.core.validators import MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import CharField, Field, empty
from rest_framework.utils.serializer_helpers import BindingDict
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from .timeutil import iso_utc


# Plain fields bound once per serializer class, not once per instance. DRF binds a fresh
# copy of every declared field to each serializer it makes (Serializer.fields), which was
# 8 to 11 % of a register or receive request's CPU under py-spy, though a plain field
# keeps no state of its own: validating or rendering a value reads only its options. So a
# class whose fields are all plain binds them once, to a serializer made without data or
# context, and every instance shares that set (read-only, so threads can share it too). A
# field that keeps state or reads its parent (a nested serializer, a list of them, a method
# field) makes the class bind per instance, as DRF does; a list or dict of plain values is
# as plain as its child. (Comments, not docstrings:
# drf-spectacular publishes a serializer's docstring as its schema description.)
class SharedFieldsSerializer(serializers.Serializer):
    @property
    def fields(self) -> BindingDict:  # DRF's is a cached_property: a property reads the same
        shared = type(self).__dict__.get("_shared_fields")
        if shared is None:
            shared = _bind_once(type(self))
        return self._instance_fields if shared is _PER_INSTANCE else shared

    # DRF's own binding, for a class whose fields cannot be shared.
    _instance_fields = cached_property(serializers.Serializer.fields.real_func)  # type: ignore[attr-defined]

    # Data that passes is validated without DRF's per-field machinery (_InputPlan, below);
    # anything else, and every refusal, goes through DRF's own is_valid, which makes the
    # errors.
    def is_valid(self, *, raise_exception: bool = False) -> bool:
        if not hasattr(self, "_validated_data") and hasattr(self, "initial_data") and not self.partial:
            plan = type(self).__dict__.get("_input_plan")
            if plan is None:
                plan = _InputPlan.build(self)
            attrs = plan.validated(self, self.initial_data) if plan else None
            if attrs is not None:
                self._validated_data = attrs
                self._errors: dict[str, Any] = {}
                return True
        return super().is_valid(raise_exception=raise_exception)

    _refuses_unknown = False  # StrictSerializer's


_PER_INSTANCE: Any = object()


def _bind_once(cls: type[serializers.Serializer]) -> Any:
    declared: dict[str, serializers.Field] = cls._declared_fields
    if any(_keeps_state(field) or _reads_parent(field) for field in declared.values()):
        cls._shared_fields = _PER_INSTANCE  # type: ignore[attr-defined]
        return _PER_INSTANCE
    prototype = cls()
    fields = BindingDict(prototype)
    for name, field in prototype.get_fields().items():
        fields[name] = field
    cls._shared_fields = fields  # type: ignore[attr-defined]  # a race makes two equal sets: either is right
    return fields


def _reads_parent(field: serializers.Field) -> bool:
    return isinstance(field, serializers.SerializerMethodField | serializers.HiddenField)


class StrictSerializer(SharedFieldsSerializer):
    """A serializer that refuses fields it does not know, so typos fail loudly."""

    # A class with a field that keeps state binds per instance (above): its plain fields
    # are shallow-copied then, and only the stateful ones deep-copied as DRF does (DRF's
    # deep copies were 6 % of a /sms/receive request under py-spy).
    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            name: copy.deepcopy(field) if _keeps_state(field) else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    _refuses_unknown = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def _keeps_state(field: serializers.Field) -> bool:
    """A nested serializer keeps state of its own; a list or dict field only through its child."""
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "children"):
        return True
    child = getattr(field, "child", None)
    return child is not None and _keeps_state(child)


# Validation of the common case, valid data, without DRF's per-field machinery: counted with
# callgrind, DRF's is_valid for /sms/receive's four fields was 294,000 instructions, a sixth
# of the request (each field's get_value, run_validation, validate_empty_values, validators
# property and error bookkeeping, the surrogate check a generator per character). The plan
# keeps what decides a valid value (each field's own to_internal_value, its validators,
# validate_<name> methods and validate()) and drops the rest; the moment a value is one it
# does not handle exactly as DRF would (missing, null, blank, another type) or something
# refuses it, it gives up and DRF validates the data from the start, so every refusal is
# DRF's own. A class that overrides DRF's validation steps gets no plan.
_SURROGATE = re.compile("[\ud800-\udfff]")
_DRF_FIELD_STEPS: dict[str, Any] = {
    "validate_empty_values": Field.validate_empty_values,
    "run_validators": Field.run_validators,
}
_DRF_SERIALIZER_STEPS = ("run_validation", "run_validators", "get_validators", "validate_empty_values")


class _Step(NamedTuple):
    name: str
    field: Field
    plain_get: bool  # Field.get_value: a form's (QueryDict's) last value, as a JSON object's
    char: bool  # CharField.run_validation: a blank string is DRF's to judge
    trim: bool  # the CharField strips whitespace: a blank one once stripped is DRF's to judge too
    checks: tuple[Callable[[Any], bool], ...]
    validate_method: str | None


class _InputPlan(NamedTuple):
    steps: tuple[_Step, ...]
    names: frozenset[str]
    refuses_unknown: bool
    validate: bool

    @staticmethod
    def build(serializer: "SharedFieldsSerializer") -> "_InputPlan | None":
        cls = type(serializer)
        fields = serializer.fields  # binds the class's shared set on first use
        shared = cls.__dict__.get("_shared_fields") not in (None, _PER_INSTANCE)
        plan = _input_plan(cls, fields) if shared else None
        cls._input_plan = plan or False  # type: ignore[attr-defined]  # False: none, and known
        return plan

    def validated(self, serializer: "SharedFieldsSerializer", data: Any) -> dict[str, Any] | None:
        """The data DRF would validate ``data`` to, or None where DRF must judge it."""
        html = type(data) is not dict
        if html and not isinstance(data, QueryDict):
            return None
        if self.refuses_unknown and not self.names.issuperset(data):
            return None
        attrs: dict[str, Any] = {}
        try:
            for step in self.steps:
                if not step.plain_get and html:
                    return None
                value = data.get(step.name, empty)
                if value is empty:
                    field = step.field
                    if (
                        field.required
                        or field.default is not empty
                        or (html and field.default_empty_html is not empty)
                    ):
                        return None
                    continue  # DRF skips an optional field that was not sent
                if value is None:
                    if not step.field.allow_null:
                        return None
                    attrs[step.name] = None
                    continue
                if step.char and (type(value) is not str or not value or (step.trim and not value.strip())):
                    return None
                if value == "":
                    return None  # a form's empty value means null or missing to DRF
                value = step.field.to_internal_value(value)
                for check in step.checks:
                    if not check(value):
                        return None
                if step.validate_method:
                    value = getattr(serializer, step.validate_method)(value)
                attrs[step.name] = value
            if self.validate:
                return serializer.validate(attrs)
        except Exception:  # whatever it is, DRF's own run raises or answers it
            return None
        return attrs


def _input_plan(cls: type[serializers.Serializer], fields: BindingDict) -> _InputPlan | None:
    if any(getattr(cls, name) is not getattr(serializers.Serializer, name) for name in _DRF_SERIALIZER_STEPS):
        return None
    if cls.to_internal_value not in (
        serializers.Serializer.to_internal_value,
        StrictSerializer.to_internal_value,
    ):
        return None
    if getattr(getattr(cls, "Meta", None), "validators", None):
        return None
    steps = []
    for name, field in fields.items():
        kind = type(field)
        if field.read_only or field.source != name:
            return None
        if any(getattr(kind, step) is not drf for step, drf in _DRF_FIELD_STEPS.items()):
            return None
        if kind.run_validation not in (Field.run_validation, CharField.run_validation):
            return None
        checks = tuple(_check(validator, field) for validator in field.validators)
        method = f"validate_{name}"
        steps.append(
            _Step(
                name,
                field,
                kind.get_value is Field.get_value,
                kind.run_validation is CharField.run_validation,
                bool(getattr(field, "trim_whitespace", False)),
                checks,
                method if hasattr(cls, method) else None,
            )
        )
    validate = cls.validate is not serializers.Serializer.validate
    return _InputPlan(tuple(steps), frozenset(fields), cls._refuses_unknown, validate)  # type: ignore[attr-defined]


def _check(validator: Any, field: Field) -> Callable[[Any], bool]:
    """``validator`` as a test that is true where it lets the value pass; the field's
    standard validators as the few instructions they come to."""
    kind = type(validator)
    limit = getattr(validator, "limit_value", None)
    if kind is MaxLengthValidator and isinstance(limit, int):
        return lambda value: len(value) <= limit
    if kind is MinLengthValidator and isinstance(limit, int):
        return lambda value: len(value) >= limit
    if kind is ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in value
    if kind is ProhibitSurrogateCharactersValidator:
        return lambda value: _SURROGATE.search(value) is None
    if getattr(validator, "requires_context", False):
        return lambda value: validator(value, field) or True
    return lambda value: validator(value) or True


# A response serializer of plain fields, cheap enough for the hot path: its fields are bound
# once for the class (above). A nested serializer keeps state of its own, so it is refused
# here; a list of nested serializers makes the class bind per instance, shallow copies.
class FlatOutputSerializer(SharedFieldsSerializer):
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, serializers.Field] = getattr(cls, "_declared_fields", {})
        nested = [name for name, field in declared.items() if isinstance(field, serializers.BaseSerializer)]
        if nested:
            raise TypeError(f"{cls.__qualname__}: nested serializers {nested} need a plain Serializer")

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    @classmethod
    def represent(cls, instance: Any) -> dict[str, Any]:
        """What ``cls(instance).data`` is, without making a serializer or walking DRF's
        attribute lookup for each field: callgrind counted 132,000 instructions for
        /sms/receive's three-field answer, most of it making the serializer and its
        per-field get_attribute. Each field's own to_representation still renders its
        value; a value the plan cannot fetch exactly as DRF would (missing, or a callable
        DRF would call) goes to DRF."""
        plan = cls.__dict__.get("_output_plan")
        if plan is None:
            plan = cls._output_plan = _output_plan(cls)  # type: ignore[attr-defined]
        if plan:
            try:
                return _represented(plan, instance)
            except _NotPlain:
                pass
        return dict(cls(instance).data)


class _NotPlain(Exception):
    pass


def _represented(
    plan: tuple[tuple[str, tuple[str, ...], Callable[[Any], Any]], ...], instance: Any
) -> dict[str, Any]:
    data = {}
    for name, attrs, render in plan:
        value = instance
        try:
            for attr in attrs:
                value = value[attr] if isinstance(value, Mapping) else getattr(value, attr)
        except (KeyError, AttributeError):
            raise _NotPlain from None  # DRF skips it, uses a default, or says which field
        if callable(value):
            raise _NotPlain  # DRF calls a method or function it finds
        data[name] = None if value is None else render(value)
    return data


def _output_plan(cls: type[FlatOutputSerializer]) -> Any:
    """(name, source attributes, render) of each readable field, or False where the class
    renders in a way of its own."""
    if cls.to_representation is not serializers.Serializer.to_representation:
        return False
    shared = cls.__dict__.get("_shared_fields")
    if shared is None:
        shared = _bind_once(cls)
    if shared is _PER_INSTANCE:
        return False
    plan = []
    for name, field in shared.items():
        if field.write_only:
            continue
        if type(field).get_attribute is not Field.get_attribute or field.source == "*":
            return False
        plan.append((name, tuple(field.source_attrs), field.to_representation))
    return tuple(plan)


class IsoUtcField(serializers.CharField):
    """A datetime rendered as the API's one time format (``iso_utc``); a string in the schema."""

    def to_representation(self, value: Any) -> str:  # a datetime; CharField's stubs say str
        return iso_utc(value)


def query_validated(
    serializer_class: type[serializers.Serializer], query: Mapping[str, Any]
) -> dict[str, Any]:
    """``query`` (a request's query parameters) validated by ``serializer_class``.

    Most calls carry no query parameters at all; when the serializer's fields are all
    optional without a default, DRF's answer to an empty query is always ``{}``, so it is
    given without making and running a serializer (7 % of a status request's instructions).
    """
    if not query and all(
        not field.required and field.default is empty for field in serializer_class._declared_fields.values()
    ):
        return {}
    serializer = serializer_class(data=query)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
