"""The one converter from django's ValidationError (and ProtectedError) to REST API answers."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import ProtectedError

from kamaji_ui.api_errors import as_api_validation_error, exception_handler


def test_field_errors_keep_their_field_and_all_their_messages():
    exc = as_api_validation_error(ValidationError({"name": ["Too long.", "Bad characters."], "port": "Too big."}))
    assert exc.detail == {"name": ["Too long.", "Bad characters."], "port": ["Too big."]}


def test_errors_of_the_whole_object_go_under_non_field_errors():
    assert as_api_validation_error(ValidationError({NON_FIELD_ERRORS: ["Clash."]})).detail == {
        "non_field_errors": ["Clash."]
    }
    assert as_api_validation_error(ValidationError("Being deleted.")).detail == {"non_field_errors": ["Being deleted."]}


def test_message_codes_survive_for_clients_that_branch_on_them():
    exc = as_api_validation_error(ValidationError({"name": ValidationError("Taken.", code="unique")}))
    assert exc.detail["name"][0].code == "unique"


def test_handler_answers_400_and_409():
    assert exception_handler(ValidationError({"name": "Bad."}), {}).status_code == 400
    response = exception_handler(ProtectedError("in use", {"tenant-a", "tenant-b"}), {})
    assert response.status_code == 409
    assert response.data["detail"] == "Still in use by: tenant-a, tenant-b."
