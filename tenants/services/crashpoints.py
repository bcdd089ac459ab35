"""Named points where a test can make the controller die, to prove a restart converges.

`KAMAJI_UI_CRASH_AT=after-certificates` makes the process exit at once (no cleanup, no
finally blocks), as a kill -9 would, when it reaches that point.
"""

import os

ENV = "KAMAJI_UI_CRASH_AT"
POINTS = ("after-datastore", "after-certificates", "after-deployment", "mid-delete", "after-deprovision")


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os._exit(137)
