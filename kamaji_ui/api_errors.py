"""The one converter from the product's exceptions to REST API answers.

Services and models raise django's ValidationError (the same rules serve forms and API); here
it becomes a DRF 400 with `{field: [messages]}`, errors not tied to one field going under
`non_field_errors`. Deleting something still in use (ProtectedError) is a 409.
kamaji_ui.urls installs the handler40x/500 below, so Django's own error answers are JSON under /api/.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


def as_api_validation_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    """django ValidationError → DRF ValidationError, always keyed by field."""
    detail = get_error_detail(exc)
    if isinstance(detail, dict):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in detail.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = as_api_validation_error(exc)
    elif isinstance(exc, ProtectedError):
        names = ", ".join(sorted(str(o) for o in exc.protected_objects)[:10])
        exc = Conflict(f"Still in use by: {names}.")
    return drf_exception_handler(exc, context)


# --- Django's own error pages (no DRF view answered): JSON under /api/, HTML elsewhere -------------
# Unknown routes, ids that do not match a route's pattern, rejected Host headers and crashes never
# reach a DRF view; a script that asked /api/ for JSON gets `{"detail": ...}` all the same.

API_PREFIX = "/api/"


def _json_or_page(status_code: int, message: str, page):
    def handler(request, exception=None):
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": message}, status=status_code)
        return page(request) if status_code == 500 else page(request, exception)

    return handler


handler400 = _json_or_page(400, "Bad request.", defaults.bad_request)
handler403 = _json_or_page(403, "You do not have permission to perform this action.", defaults.permission_denied)
handler404 = _json_or_page(404, "Not found.", defaults.page_not_found)
handler500 = _json_or_page(500, "Server error.", defaults.server_error)
