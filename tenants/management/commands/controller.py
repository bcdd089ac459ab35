"""Run the tenant controller (leader-elected; run as many replicas as you like).

    manage.py controller                    # the long-running worker
    manage.py controller --once 7           # reconcile tenant 7 until it settles, then exit
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from tenants.informers import run_live_while_leading
from tenants.services.controller import Controller
from tenants.services.embedded import join_local_network


class Command(BaseCommand):
    help = "Reconcile tenant control planes: watches, periodic resync, retries, leader election on a Lease."

    def add_arguments(self, parser):
        parser.add_argument("--once", type=int, metavar="PK",
                            help="reconcile one tenant until it is Ready, gone or Failed, then exit (no lease)")
        parser.add_argument("--timeout", type=float, default=300.0, help="with --once: give up after this long")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, once=None, timeout=300.0, workers=2, **options):
        logging.getLogger("tenants").setLevel(logging.INFO)
        join_local_network()
        if once is not None:
            outcome = Controller(workers=1).run_until_settled(once, timeout=timeout)
            self.stdout.write(f"tenant {once}: {outcome.phase or 'deleted'}")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        controller = Controller(workers=workers)
        # Live status (with Redis the web replicas do not watch): the leader's informers (the ones its
        # schedule follows) also feed the fan-out for every server replica; followers hold no watches.
        threading.Thread(target=run_live_while_leading, kwargs={"leading": controller.leading, "stop": stop},
                         name="live-watchers", daemon=True).start()
        controller.run(stop)
