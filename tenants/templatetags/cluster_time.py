"""Times as the controller stores them (ISO 8601 text in JSON fields) shown as dates in templates."""

from datetime import UTC, datetime

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from tenants.live.rows import age

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


@register.filter
def ticking_age(value) -> str:
    """A datetime (or ISO text) as `<time data-age>` with its kubectl-style age ("3m"), which
    static/js/ages.js keeps ticking; "" for no time."""
    at = isotime(value)
    if not isinstance(at, datetime):
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return format_html('<time data-age datetime="{}" title="{}">{}</time>', at.isoformat(),
                       at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(), age(at, datetime.now(UTC)))
