"""Fixtures for the live-status tests: a real Redis server, and a clean live state per test."""

import shutil
import socket
import subprocess
import tempfile
import time

import pytest
from channels.layers import channel_layers
from django.db.backends.signals import connection_created

from tenants.live.publish import publisher
from tenants.live.store import store
from tests.waiting import free_port

REDIS_SERVER = "/usr/bin/redis-server"


def _read_uncommitted_for_shared_memory_db(sender, connection, **kwargs):
    # The SQLite test database is in memory with a shared cache, where a reader in one thread (the
    # publisher, a consumer) makes a writer in another fail at once with "table is locked" instead of
    # waiting. Readers that take no read locks avoid that; a file or PostgreSQL database needs nothing.
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.cursor().execute("PRAGMA read_uncommitted = 1")


connection_created.connect(_read_uncommitted_for_shared_memory_db, dispatch_uid="live-tests-read-uncommitted")


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server of our own on 127.0.0.1 and a free port, no persistence; stopped by pid. Yields its URL."""
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="kui-redis-")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", workdir, "--protected-mode", "yes"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {proc.stdout.read().decode(errors='replace')}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def layer_settings(kind: str, redis_url: str | None = None) -> dict:
    if kind == "redis":
        return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}}
    return {"default": {"BACKEND": "kamaji_ui.channel_layers.InMemoryChannelLayer"}}


@pytest.fixture(params=["memory", "redis"])
def channel_layer_kind(request, settings):
    """Runs a test once with the in-memory layer and once with channels-redis on a real Redis server."""
    redis_url = request.getfixturevalue("redis_server") if request.param == "redis" else None
    settings.CHANNEL_LAYERS = layer_settings(request.param, redis_url)
    channel_layers.backends.clear()
    yield request.param
    channel_layers.backends.clear()


@pytest.fixture
def clean_live_state(settings):
    """No watchers started by consumers, an empty store, no dedup memory left from other tests."""
    settings.LIVE_WATCHERS_IN_SERVER = False
    store.clear()
    publisher.reset()
    yield
    store.clear()
    publisher.reset()
