"""How REST API callers prove who they are, and the operators-only permission.

Token first: DRF answers an anonymous caller from the first class's challenge, so a script
without credentials gets 401 with `WWW-Authenticate: Token` (session-first would give 403).
Browsers keep using their session (with CSRF) for the browsable API and the docs page.
"""

from django.http import Http404
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from kamaji_ui.operators import is_operator

API_AUTHENTICATION_CLASSES = [TokenAuthentication, SessionAuthentication]


class OperatorsOnly(permissions.BasePermission):
    """Anonymous: 401 (log in). Signed in but not staff: 404, as if nothing were here."""

    hides_with_404 = True  # kamaji_ui.api_schema documents the 404 on every operation behind it

    def has_permission(self, request, view):
        if not request.user.is_authenticated:
            return False
        if request.method not in view.allowed_methods and not view.kwargs:
            # DRF answers 405 next: which methods a list route takes is in the public schema anyway
            # (on one object's route, everyone but operators keeps getting the same 404).
            return True
        if not is_operator(request.user):
            raise Http404
        return True
