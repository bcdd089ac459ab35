"""Times as the controller stores them (ISO 8601 text in JSON fields) shown as dates in templates."""

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def isotime(value) -> datetime | str:
    """`"2026-11-27T10:26:40+00:00"` → a datetime for the `date`/`timesince` filters; other input unchanged."""
    if isinstance(value, str):
        try:
            return parse_datetime(value) or value
        except ValueError:
            return value
    return value
