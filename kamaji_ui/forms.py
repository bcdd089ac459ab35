"""What every form shares: text-list input and one error message per problem and field."""

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class TextListField(forms.CharField):
    """A list of strings typed one per line or comma-separated; the model validates the items."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value) -> list[str]:
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")


class FirstErrorPerFieldMixin:
    """Model.clean() re-checks fields that may already have failed on their own (e.g. a bad CIDR);
    keep one message per problem and field instead of repeating it."""

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            fresh = {}
            for name, errors in error.error_dict.items():
                if name in self._errors and name != NON_FIELD_ERRORS:
                    continue
                seen, unique = set(), []
                for e in errors:
                    text = " ".join(e.messages)
                    if text not in seen:
                        seen.add(text)
                        unique.append(e)
                fresh[name] = unique
            if not fresh:
                return
            error = ValidationError(fresh)
        elif field is not None and field in self._errors:
            return
        super().add_error(field, error)
