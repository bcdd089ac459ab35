"""Filters for the datastore list (/api/datastores/)."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from datastores.models import DataStore


class StrictBooleanField(forms.NullBooleanField):
    """true / false, or empty for no filter; anything else is an error (not silently "no filter")."""

    widget = forms.TextInput
    VALUES = {"true": True, "false": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in self.VALUES:
            raise ValidationError("Give true or false.", code="invalid")
        return self.VALUES[value]

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class DataStoreFilterSet(django_filters.FilterSet):
    driver = django_filters.ChoiceFilter(choices=DataStore.Driver.choices)
    enabled = StrictBooleanFilter()

    class Meta:
        model = DataStore
        fields = ["driver", "enabled"]
