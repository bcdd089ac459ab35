"""The JSON-schema form of a validation rule, declared next to the rule itself.

`@documents(pattern=..., maxLength=...)` on a validator function records what it accepts in JSON
Schema terms; kamaji_ui.api_schema copies it into the OpenAPI schema of every field the validator
guards. One rule, one place: forms, models and API run the function, the schema shows its shape.
Values may be callables (read when the schema is built, e.g. the configured versions).
"""

from collections.abc import Callable
from typing import Any

ATTRIBUTE = "openapi_schema"


def documents(**json_schema: Any) -> Callable:
    def mark(validator: Callable) -> Callable:
        setattr(validator, ATTRIBUTE, json_schema)
        return validator

    return mark


def schema_of(validator: Callable) -> dict:
    """The JSON schema a validator declared (callables resolved), or {}."""
    declared = getattr(validator, ATTRIBUTE, {})
    return {key: value() if callable(value) else value for key, value in declared.items()}
