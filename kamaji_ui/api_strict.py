"""JSON request bodies are taken as typed: what the schema says is an integer must be a JSON number.

DRF is lenient by default (it reads "3" as 3, 1 as True and 5 as "5", and trims spaces from text),
so a request the published schema calls invalid would be accepted. The API reads JSON only, and
`StrictJSONTypes` refuses a value of the wrong JSON type with a field error before DRF coerces it;
text is taken as sent (the validators decide whether a leading space is allowed, not a silent trim).
"""

from collections.abc import Mapping

from rest_framework import relations, serializers

# The JSON types each field kind takes, most specific first (BooleanField is no IntegerField, but
# bool is an int in Python: checked explicitly below).
_JSON_TYPES = (
    (serializers.BooleanField, (bool,), "true or false"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.CharField, (str,), "text"),
    (serializers.ChoiceField, (str,), "text"),
    (relations.SlugRelatedField, (str,), "text"),
    (relations.PrimaryKeyRelatedField, (int,), "an integer"),
)


def wrong_json_type(field, value) -> str | None:
    """A message when `value` is not of the JSON type `field` takes, else None (None is the field's business)."""
    if value is None:
        return None
    for kind, types, name in _JSON_TYPES:
        if isinstance(field, kind):
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                return f"Give {name}."
            return None
    return None


class StrictJSONTypes:
    """Serializer mixin: wrong JSON types are field errors; text is not trimmed."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField):
                field.trim_whitespace = False
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {
                name: [message]
                for name, field in self.fields.items()
                if not field.read_only and name in data and (message := wrong_json_type(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
