import copy
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils.serializer_helpers import BindingDict

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
