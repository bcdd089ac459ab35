"""What every UI view shares: the sign-in and operator guards, and full page or htmx fragment (NetBox's convention)."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404
from django.shortcuts import render, resolve_url
from django.template.response import TemplateResponse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from kamaji_ui.operators import is_operator


def login_required(view):
    """Like Django's, but an htmx request (e.g. inline validation after the session expired) makes the
    whole page go to the sign-in form, instead of htmx swapping that form into a fragment."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}")
        return redirect_to_login(request.get_full_path())

    return wrapped


def operator_required(view):
    """Staff only; everyone else is told the page does not exist."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_operator(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


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
