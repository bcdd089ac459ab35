from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The operator console (fleet overview, datastore registration, audit log) and /api/audit/.

    It reads across the other apps, so it sits above them; it has no models of its own."""

    name = "console"
