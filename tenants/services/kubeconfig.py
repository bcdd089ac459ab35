"""Kubeconfig files: pure builders from PEM text and a server URL."""

import base64

import yaml

from tenants.services import pki


def _b64(pem: str) -> str:
    return base64.b64encode(pem.encode()).decode()


def build_kubeconfig(
    *, cluster_name: str, server: str, ca_pem: str, user_name: str, cert_pem: str, key_pem: str,
    namespace: str | None = None,
) -> dict:
    """A kubeconfig with one cluster, one user and one current context, certificates inline."""
    context = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    context_name = f"{user_name}@{cluster_name}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{
            "name": user_name,
            "user": {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)},
        }],
        "contexts": [{"name": context_name, "context": context}],
        "current-context": context_name,
        "preferences": {},
    }


def build_discovery_kubeconfig(*, server: str, ca_pem: str) -> dict:
    """Cluster only, no user: what kubeadm publishes as cluster-info for nodes to discover."""
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "", "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "contexts": [], "users": [], "current-context": "", "preferences": {},
    }


def kubeconfig_yaml(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False)


def client_certificate_of(config_text: str) -> tuple[str, str] | None:
    """(cert PEM, key PEM) of the first user of a kubeconfig, or None if it has none inline."""
    try:
        user = yaml.safe_load(config_text)["users"][0]["user"]
        return (base64.b64decode(user["client-certificate-data"]).decode(),
                base64.b64decode(user["client-key-data"]).decode())
    except (yaml.YAMLError, KeyError, IndexError, TypeError, ValueError):
        return None


def server_of(config_text: str) -> str | None:
    try:
        return yaml.safe_load(config_text)["clusters"][0]["cluster"]["server"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


# The controller-manager and scheduler talk to the apiserver in their own pod.
LOCAL_APISERVER = "https://127.0.0.1:6443"
COMPONENT_IDENTITIES = {
    "controller-manager.conf": "system:kube-controller-manager",
    "scheduler.conf": "system:kube-scheduler",
}


def plan_component_kubeconfigs(
    stored: dict[str, str], *, ca: pki.CertKey, cluster_name: str, validity: pki.Validity
) -> dict[str, str]:
    """The kubeconfigs Secret's contents: kept while valid, re-issued when missing, expiring or
    signed by another CA. Returns `stored`'s values unchanged when nothing needs issuing."""
    out = dict(stored)
    for file, identity in COMPONENT_IDENTITIES.items():
        current = client_certificate_of(stored.get(file, ""))
        if (
            current
            and server_of(stored[file]) == LOCAL_APISERVER
            and pki.key_matches(*current)
            and pki.signed_by(current[0], ca.cert_pem)
            and not pki.needs_renewal(current[0], now=validity.now, renew_before=validity.renew_before)
        ):
            continue
        leaf = pki.issue_certificate(ca=ca, common_name=identity, client=True, now=validity.now,
                                     validity=validity.leaf)
        out[file] = kubeconfig_yaml(build_kubeconfig(
            cluster_name=cluster_name, server=LOCAL_APISERVER, ca_pem=ca.cert_pem, user_name=identity,
            cert_pem=leaf.cert_pem, key_pem=leaf.key_pem,
        ))
    return out
