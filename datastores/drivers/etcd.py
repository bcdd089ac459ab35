"""etcd: each tenant gets a user and a role limited to its own key prefix, and a client certificate.

The tenant's kube-apiserver runs with `--etcd-prefix=<prefix>` and the client certificate (CN = its etcd
user). It must also run with `--etcd-compaction-interval=0`: compaction needs etcd's root role, so the
etcd server compacts its own history (the local one runs with --auto-compaction-*).
"""

from django.conf import settings

from datastores.drivers.base import Driver, DriverError, TenantConnection, tenant_password
from datastores.drivers.etcd_gateway import EtcdError, EtcdGateway, b64, prefix_range_end
from datastores.drivers.etcd_identity import identity_reusable, issue_etcd_client_identity

PREFIX_ROOT = "/kamaji-ui"


def etcd_user_for(tenant) -> str:
    """The tenant's etcd user, and its role: the same name."""
    return f"kui-{tenant.uid}"


def etcd_prefix_for(tenant) -> str:
    """The key prefix that is the tenant's alone (kube-apiserver's --etcd-prefix)."""
    return f"{PREFIX_ROOT}/{tenant.uid}"


def endpoint_urls(datastore) -> list[str]:
    """The datastore's endpoints as URLs: "host:port" means https, as etcd with client certificates needs."""
    return [e if "://" in e else f"https://{e}" for e in datastore.endpoints]


def prefix_permission(prefix: str) -> dict:
    """Read-write on every key starting with `prefix`: the range [prefix, prefix + 1)."""
    return {"permType": "READWRITE", "key": b64(prefix), "range_end": b64(prefix_range_end(prefix.encode()))}


class EtcdDriver(Driver):
    def gateway(self) -> EtcdGateway:
        """The datastore's admin connection (see etcd_gateway for why it logs in with a password)."""
        ds = self.datastore
        return EtcdGateway(endpoints=endpoint_urls(ds), ca_pem=ds.ca_certificate,
                           client_cert_pem=ds.client_certificate, client_key_pem=ds.client_key,
                           username=ds.username or "root", password=ds.password)

    def provision(self, tenant, *, current: TenantConnection | None = None) -> TenantConnection:
        """Create (or complete) the tenant's role, grant and user; issue or reuse its client certificate.

        Each step checks what exists first, so a run killed half-way converges on the next one.
        """
        ds = self.datastore
        if not (ds.ca_certificate and ds.ca_key):
            raise DriverError(f"datastore {ds.name}: its CA certificate and key are needed to issue tenant identities")
        user = role = etcd_user_for(tenant)
        prefix, password = etcd_prefix_for(tenant), tenant_password(tenant)
        permission = prefix_permission(prefix)
        with self.gateway() as etcd:
            existing_role = etcd.lookup("auth/role/get", {"role": role})
            if existing_role is None:
                etcd.ensure("auth/role/add", {"name": role})
            granted = (existing_role or {}).get("perm", [])
            if not any(_same_permission(p, permission) for p in granted):
                etcd.call("auth/role/grant", {"name": role, "perm": permission})
            for stray in (p for p in granted if not _same_permission(p, permission)):
                # The role is the tenant's whole authority: exactly one grant, on its own prefix.
                etcd.discard("auth/role/revoke", {"role": role, "key": stray.get("key", ""),
                                                  "range_end": stray.get("range_end", "")})
            existing_user = etcd.lookup("auth/user/get", {"name": user})
            if existing_user is None:
                etcd.ensure("auth/user/add", {"name": user, "password": password})
            elif current is None or current.password != password:
                # It existed, but no finished run handed out this password: a run that died half-way or an
                # older SECRET_KEY may have set another. (Only then: etcd hashes passwords with bcrypt.)
                etcd.call("auth/user/changepw", {"name": user, "password": password})
            if role not in (existing_user or {}).get("roles", []):
                etcd.call("auth/user/grant", {"user": user, "role": role})

        if current and identity_reusable(current.client_cert_pem, user=user, ca_cert_pem=ds.ca_certificate,
                                         renew_before=settings.CERTIFICATE_RENEW_BEFORE):
            cert_pem, key_pem = current.client_cert_pem, current.client_key_pem
        else:
            identity = issue_etcd_client_identity(ca_cert_pem=ds.ca_certificate, ca_key_pem=ds.ca_key, user=user,
                                                  validity=settings.CERTIFICATE_VALIDITY)
            cert_pem, key_pem = identity.cert_pem, identity.key_pem
        return TenantConnection(
            driver="etcd", endpoints=endpoint_urls(ds), prefix=prefix, ca_pem=ds.ca_certificate,
            client_cert_pem=cert_pem, client_key_pem=key_pem, username=user, password=password,
        )

    def deprovision(self, tenant) -> None:
        """Remove the user and role first, so a control plane still running cannot write again, then the keys."""
        with self.gateway() as etcd:
            etcd.discard("auth/user/delete", {"name": etcd_user_for(tenant)})
            etcd.discard("auth/role/delete", {"role": etcd_user_for(tenant)})
            etcd.delete_prefix(etcd_prefix_for(tenant))

    def health(self) -> tuple[bool, str]:
        try:
            with self.gateway() as etcd:
                status = etcd.call("maintenance/status", {})
                alarms = etcd.call("maintenance/alarm", {"action": "GET"}).get("alarms", [])
        except DriverError as exc:
            return False, str(exc)
        if alarms:
            return False, "etcd alarms: " + ", ".join(a.get("alarm", "?") for a in alarms)
        if status.get("errors"):
            return False, "etcd: " + "; ".join(status["errors"])
        size_mb = int(status.get("dbSize", 0)) / 1e6
        return True, f"etcd {status.get('version', '?')}, database {size_mb:.1f} MB"

    def usage(self, tenant) -> int:
        """The number of keys under the tenant's prefix."""
        with self.gateway() as etcd:
            return etcd.count_prefix(etcd_prefix_for(tenant))


def _same_permission(granted: dict, wanted: dict) -> bool:
    # etcd omits permType when it is READ (0) and may spell it as a number.
    kind = {"READ": 0, "WRITE": 1, "READWRITE": 2}
    granted_kind = granted.get("permType", "READ")
    granted_kind = kind.get(granted_kind, granted_kind)
    return (granted.get("key") == wanted["key"] and granted.get("range_end") == wanted["range_end"]
            and granted_kind == kind[wanted["permType"]])


__all__ = ["EtcdDriver", "EtcdError", "etcd_prefix_for", "etcd_user_for"]
