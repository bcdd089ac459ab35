"""The node's daemons as plain processes, each known by a pid file.

There is no init system here: a daemon is started in a session of its own with its output in
a log file, and stopped by its pid (SIGTERM, then SIGKILL after a timeout). The pid file also
records the process's start time so that a pid reused after a crash is never signalled.
"""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import paths


def process_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has exited already
        return None
    return fields[19]


def kill_and_wait(pids: list[int], *, timeout: float = 10.0, sig: int = signal.SIGTERM) -> list[int]:
    """Send sig to each pid, SIGKILL whatever is left after timeout; return the pids signalled."""
    started = {pid: process_start_time(pid) for pid in pids}
    alive = [pid for pid, start in started.items() if start is not None]
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while True:
        # A pid counts as gone once it is missing or belongs to another process.
        left = [pid for pid in alive if process_start_time(pid) == started[pid]]
        if not left:
            return alive
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 5
    while any(process_start_time(pid) == started[pid] for pid in left) and time.monotonic() < end:
        time.sleep(0.05)
    return alive


@dataclass
class Daemon:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stop_timeout: float = 15.0
    user: str | None = None  # OS user to run as (PostgreSQL refuses to run as root)
    stop_signal: int = signal.SIGTERM  # e.g. SIGINT for PostgreSQL's fast shutdown
    home: Path | None = None  # where its pid and log files live, instead of paths.PIDS / paths.LOGS

    @property
    def pid_file(self) -> Path:
        return (self.home or paths.PIDS) / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return (self.home or paths.LOGS) / f"{self.name}.log"

    def pid(self) -> int | None:
        """The daemon's pid if the process recorded in the pid file still runs."""
        try:
            pid_text, start = self.pid_file.read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        pid = int(pid_text)
        return pid if process_start_time(pid) == start else None

    def start(self) -> int:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **self.env}, start_new_session=True, close_fds=True, user=self.user,
            )
        self.pid_file.write_text(f"{proc.pid} {process_start_time(proc.pid)}\n")
        return proc.pid

    def exited_early(self) -> str | None:
        """If the daemon is not running, the tail of its log to say why."""
        if self.pid() is not None:
            return None
        tail = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
        return f"{self.name} is not running; end of {self.log_file}:\n{tail}"

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            kill_and_wait([pid], timeout=self.stop_timeout, sig=self.stop_signal)
        self.pid_file.unlink(missing_ok=True)
