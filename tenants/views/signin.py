"""Sign-in guard for UI views that also serves htmx requests sensibly."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect


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
