"""Daemons by pid file: start, find, stop; a pid file naming a recycled pid is never trusted."""

import os
import time

import pytest

from localcluster import daemons, paths


@pytest.fixture
def run_dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PIDS", tmp_path / "pids")
    monkeypatch.setattr(paths, "LOGS", tmp_path / "logs")
    return tmp_path


def test_start_writes_pid_file_and_stop_ends_the_process(run_dirs):
    daemon = daemons.Daemon("sleeper", ["sleep", "60"], stop_timeout=5)
    pid = daemon.start()
    try:
        assert daemon.pid() == pid
        assert daemon.exited_early() is None
    finally:
        daemon.stop()
    assert daemons.process_start_time(pid) is None
    assert not daemon.pid_file.exists()


def test_a_daemon_that_ignores_sigterm_is_killed_after_the_timeout(run_dirs):
    daemon = daemons.Daemon("stubborn", ["sh", "-c", "trap '' TERM; sleep 60"], stop_timeout=0.5)
    pid = daemon.start()
    daemon.stop()
    assert daemons.process_start_time(pid) is None


def test_pid_file_with_another_start_time_is_not_our_process(run_dirs):
    daemon = daemons.Daemon("ghost", ["true"])
    paths.PIDS.mkdir(parents=True)
    daemon.pid_file.write_text(f"{os.getpid()} 1\n")  # our own pid, but not the recorded process
    assert daemon.pid() is None
    daemon.stop()  # must not signal this test process
    assert daemons.process_start_time(os.getpid()) is not None


def test_exited_early_shows_the_log(run_dirs):
    daemon = daemons.Daemon("failing", ["sh", "-c", "echo cannot bind address; exit 1"])
    daemon.start()
    for _ in range(50):  # an exited child stays a zombie of this process; that counts as not running
        if daemon.exited_early():
            break
        time.sleep(0.1)
    assert "cannot bind address" in daemon.exited_early()
