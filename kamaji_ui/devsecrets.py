"""Secrets for the embedded default: generated once, kept in an ignored local file.

Production sets SECRET_KEY and KAMAJI_UI_ENCRYPTION_KEY in the environment instead.
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def load_or_create(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    values = {"secret_key": secrets.token_urlsafe(50), "encryption_key": Fernet.generate_key().decode()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    return values
