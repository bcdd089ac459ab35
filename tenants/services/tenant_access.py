"""Reaching a tenant's own API: the controller's short-lived admin identity and a client for it.

The controller never stores a tenant admin credential: it signs itself a certificate for a few
minutes whenever it needs to talk to the tenant (the CA key is in the tenant's pki Secret).
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from kubernetes import client
from tenacity import retry, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_fixed

from tenants.services import pki
from tenants.services.kube import Kube

CONTROLLER_IDENTITY = "kamaji-ui:controller"
CONTROLLER_CERT_VALIDITY = timedelta(minutes=15)


def controller_certificate(pki_data: dict[str, str], *, now: datetime | None = None) -> pki.CertKey:
    ca = pki.CertKey(pki_data[pki.CA_CERT], pki_data[pki.CA_KEY])
    return pki.issue_certificate(
        ca=ca, common_name=CONTROLLER_IDENTITY, organizations=["system:masters"], client=True,
        now=now or datetime.now(UTC), validity=CONTROLLER_CERT_VALIDITY,
    )


@contextmanager
def _credential_files(ca_pem: str, cert: pki.CertKey) -> Iterator[tuple[str, str, str]]:
    # The kubernetes client and requests read certificates from files; they live only for this call.
    with tempfile.TemporaryDirectory(prefix="kui-tenant-") as tmp:
        files = []
        for name, text in (("ca.crt", ca_pem), ("tls.crt", cert.cert_pem), ("tls.key", cert.key_pem)):
            path = Path(tmp) / name
            path.write_text(text)
            path.chmod(0o600)
            files.append(str(path))
        yield files[0], files[1], files[2]


@contextmanager
def tenant_kube(*, server: str, pki_data: dict[str, str]) -> Iterator[Kube]:
    """A Kube for the tenant's API at `server`, as the controller (system:masters), TLS verified."""
    cert = controller_certificate(pki_data)
    with _credential_files(pki_data[pki.CA_CERT], cert) as (ca_file, cert_file, key_file):
        cfg = client.Configuration()
        cfg.host = server
        cfg.ssl_ca_cert, cfg.cert_file, cfg.key_file = ca_file, cert_file, key_file
        cfg.verify_ssl = True
        api = client.ApiClient(cfg)
        try:
            yield Kube(api)
        finally:
            api.close()


def probe(server: str, path: str, *, ca_pem: str, timeout: float = 5.0) -> requests.Response:
    """An anonymous GET (e.g. /readyz, /version) against the tenant, verifying its certificate."""
    with tempfile.NamedTemporaryFile("w", suffix=".crt", prefix="kui-ca-") as ca_file:
        ca_file.write(ca_pem)
        ca_file.flush()
        return requests.get(f"{server}{path}", verify=ca_file.name, timeout=timeout)


# One refused connection is not an outage: while a pod goes, kube-proxy on a loaded node can take a
# moment to move its rules, and clients retry the same way. A tenant that is really down is
# reported as Unreachable a few seconds later.
@retry(retry=retry_if_exception_type(requests.ConnectionError), wait=wait_fixed(0.5),
       stop=stop_after_attempt(4) | stop_after_delay(3), reraise=True)
def probe_readyz(server: str, *, ca_pem: str) -> requests.Response:
    """/readyz of the tenant through its endpoint, retried briefly on connection errors."""
    return probe(server, "/readyz", ca_pem=ca_pem)
