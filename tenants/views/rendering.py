"""Full page on a normal request, just the fragment on an htmx one (NetBox's convention)."""

from django.core.exceptions import ValidationError
from django.forms import Form
from django.shortcuts import render
from django.template.response import TemplateResponse


def wants_fragment(request) -> bool:
    # A history-restore request rebuilds the whole page, so it gets the full page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(request, *, page: str, partial: str, context: dict, status: int = 200) -> TemplateResponse:
    """Render `page` (which includes `partial`) or, for htmx, `partial` alone."""
    return render(request, partial if wants_fragment(request) else page, context, status=status)


def add_service_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form: field errors by field, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
