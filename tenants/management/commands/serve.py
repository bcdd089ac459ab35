"""Serve kamaji-ui: daphne (HTTP + WebSockets) plus, in the embedded default, everything else.

    manage.py serve [--host 127.0.0.1] [--port 8000] [--no-embedded]

The dashboard answers at once; in the background the local cluster is built/started on first
use (progress on the console), its etcd registered as the default datastore, and the controller
started in this process (settings.CONTROLLER_IN_PROCESS). Static files are served by the app.
"""

import socket

from daphne.server import Server
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management.base import BaseCommand

from tenants.services.embedded import join_local_network, start_embedded


def listening_socket(host: str, port: int) -> socket.socket:
    """The dashboard's socket, opened before joining the local cluster's network namespace so that it
    stays in the machine's. IPv4 only: daphne's `fd:` endpoint adopts AF_INET sockets."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Command(BaseCommand):
    help = "Run the web server, and in the embedded default the local cluster and the controller."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-embedded", action="store_true",
                            help="only the web server (no local cluster, no in-process controller)")

    def handle(self, *args, host="127.0.0.1", port=8000, no_embedded=False, **options):
        sock = listening_socket(host, port)
        join_local_network()
        from kamaji_ui.asgi import application  # after joining: nothing it starts may stay behind
        embedded = None if no_embedded else start_embedded(out=lambda line: self.stdout.write(line))
        self.stdout.write(f"kamaji-ui on http://{host}:{port}/")
        try:
            Server(
                application=ASGIStaticFilesHandler(application),
                endpoints=[f"fd:fileno={sock.fileno()}"],
                signal_handlers=True,
                verbosity=1,
            ).run()
        finally:
            if embedded is not None:
                embedded.stop()  # a standby controller elsewhere takes over at once
