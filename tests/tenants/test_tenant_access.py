"""The controller's readiness probe: a refused connection is retried briefly, never for long."""

import time

import pytest
import requests

from tenants.services.tenant_access import probe_readyz
from tests.waiting import free_port


def test_a_refused_endpoint_is_retried_then_reported_within_seconds():
    calls = []
    original = requests.get

    def counting_get(*args, **kwargs):
        calls.append(time.monotonic())
        return original(*args, **kwargs)

    requests.get, started = counting_get, time.monotonic()
    try:
        with pytest.raises(requests.ConnectionError):
            probe_readyz(f"https://127.0.0.1:{free_port()}", ca_pem="")
    finally:
        requests.get = original
    assert len(calls) == 4  # nothing listens there: every attempt refused
    assert 1.4 <= time.monotonic() - started < 5
