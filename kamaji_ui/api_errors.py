"""The one converter from the product's exceptions to REST API answers.

Services and models raise django's ValidationError (the same rules serve forms and API); here
it becomes a DRF 400 with `{field: [messages]}`, errors not tied to one field going under
`non_field_errors`. Deleting something still in use (ProtectedError) is a 409.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
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
