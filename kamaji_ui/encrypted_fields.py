"""Model fields whose values are encrypted at rest in the app database (Fernet).

Keys come from settings.ENCRYPTION_KEYS (newest first), so keys rotate without downtime:
MultiFernet decrypts with any of them and encrypts with the first.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("KAMAJI_UI_ENCRYPTION_KEY is not set")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: str) -> str:
    return PREFIX + _fernet(tuple(settings.ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.ENCRYPTION_KEYS)).decrypt(token[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("cannot decrypt a stored secret: wrong KAMAJI_UI_ENCRYPTION_KEY?") from exc


class EncryptedTextField(models.TextField):
    """A TextField stored as a Fernet token; Python code only ever sees the plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def masked(value: str) -> str:
    """How a secret is shown back to people: never in full."""
    if not value:
        return ""
    return "•••• (set)"
