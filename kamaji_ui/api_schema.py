"""The OpenAPI schema tells the truth about errors and constraints, derived from the code that has them.

- Error answers: every operation lists the 4xx codes it can give, each with its JSON shape, from
  what the view is (authenticated views: 401; a request body or filters: 400, and 415 for a body
  that is not JSON; unsafe methods: 403, from CSRF for session callers and from role checks; a
  path id, a paginated list or an operators-only view: 404). Codes a view adds itself (409, ...)
  are declared on it with `extend_schema(responses=...)`; this fills in their JSON body.
- Constraints: a validator decorated with kamaji_ui.openapi_constraints.documents adds its JSON
  schema (pattern, enum, lengths, item shape) to every serializer field it guards.
- Path ids: their range (kamaji_ui.api_ids), the same that the routes accept. Filters: also empty.
"""

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions

from kamaji_ui import api_ids
from kamaji_ui.openapi_constraints import schema_of

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "Why the request was refused.",
}
MESSAGES = {"type": "array", "items": {"type": "string"}}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Messages per field; errors not tied to one field under non_field_errors; a request "
                   "that could not be read at all has a detail.",
    "properties": {"detail": {"type": "string"}, "non_field_errors": MESSAGES},
    "additionalProperties": MESSAGES,
}
DESCRIPTIONS = {
    "400": "Invalid input: field errors",
    "401": "Not signed in, or the token is not valid",
    "403": "Not allowed: your role, or a missing CSRF token with a session",
    "404": "Not found, or not yours to know about",
    "409": "Conflicts with the object's current state",
    "415": "The body is not JSON",
}
NO_NUL = "^[^\\u0000]*$"  # DRF and django forms refuse NUL characters in text
NO_FILTER = {"type": "string", "maxLength": 0, "description": "empty: not filtered"}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def _empty_means_unset(parameters: list[dict]) -> list[dict]:
    """django-filter and DRF's paginator read an empty value as not given (what an empty form field sends)."""
    for parameter in parameters:
        schema = parameter["schema"]
        if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
            schema["pattern"] = NO_NUL  # text filters refuse NUL characters (django's form fields do)
        parameter["schema"] = {"anyOf": [schema, NO_FILTER]}
    return parameters


class TruthfulAutoSchema(AutoSchema):
    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_codes(self, operation_has_body: bool) -> set[str]:
        view = self.view
        codes = set()
        allows_anyone = all(isinstance(p, permissions.AllowAny) for p in view.get_permissions())
        if view.get_authenticators():
            codes.add("401")  # a bad token is refused even where anonymous callers are welcome
        if operation_has_body or self._get_filter_parameters():
            codes.add("400")
        if operation_has_body:
            codes.add("415")
        if self.method in UNSAFE and not allows_anyone:
            codes.add("403")
        hides = any(getattr(p, "hides_with_404", False) for p in view.get_permissions())
        if "{" in self.path or hides or (self._is_list_view() and self._get_paginator()):
            codes.add("404")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        has_body = self.method in WITH_BODY and self.get_request_serializer() is not None
        for code in self._error_codes(has_body) | {c for c in responses if c.startswith("4")}:
            schema = self._component("ValidationError" if code == "400" else "Error",
                                     VALIDATION_ERROR_SCHEMA if code == "400" else ERROR_SCHEMA)
            entry = responses.setdefault(code, {"description": DESCRIPTIONS.get(code, "")})
            entry.setdefault("content", {"application/json": {"schema": schema}})
        return dict(sorted(responses.items()))

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        for validator in getattr(field, "validators", ()):
            if isinstance(validator, ProhibitNullCharactersValidator) and "pattern" not in schema:
                schema["pattern"] = NO_NUL
            documented = schema_of(validator)
            if documented and "enum" in documented:
                schema.pop("maxLength", None)  # an enum says it all
            schema.update(documented)
        return schema

    def _get_filter_parameters(self):
        return _empty_means_unset(super()._get_filter_parameters())

    def _get_pagination_parameters(self):
        return _empty_means_unset(super()._get_pagination_parameters())

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"].update(minimum=1, maximum=api_ids.MAX_ID)
        return parameters
