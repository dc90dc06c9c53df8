import copy
from typing import Any

from rest_framework import serializers

from .timeutil import iso_utc


class StrictSerializer(serializers.Serializer):
    """A serializer that refuses fields it does not know, so typos fail loudly."""

    # Plain fields are shallow-copied per instance, as FlatOutputSerializer's are (DRF's
    # deep copies were 6 % of a /sms/receive request under py-spy); a nested serializer or
    # a field with a child keeps state of its own and is deep-copied as DRF does. (Not in
    # the docstring: drf-spectacular publishes it as the schema's description.)
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
    return (
        isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "children")
    )


# A response serializer of plain fields, cheap enough for the hot path. DRF deep-copies
# every declared field for each serializer instance: 35 µs of the 55 µs a registration's
# response took to render (eight fields, measured). A plain field keeps no state but what
# bind() sets on its copy, so a shallow copy each is enough (31 µs in all). A nested
# serializer keeps state of its own, so it is refused here. (A comment, not a docstring:
# drf-spectacular would publish a docstring as every subclass's schema description.)
class FlatOutputSerializer(serializers.Serializer):
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
