"""etcd's v3 API as JSON over HTTPS (its built-in grpc-gateway), with `requests`: no native gRPC dependency.

etcd refuses gateway requests from a client certificate that carries a CommonName once auth is on (the
gateway cannot pass the CN on to the auth layer), so over the gateway a user logs in with name and password
(`/v3/auth/authenticate`) and the client certificate, signed by the server's CA but without a CN, only opens
the TLS door. Tenants' kube-apiservers talk gRPC directly and are their CN.
"""

import base64
import json
import tempfile
from pathlib import Path

import requests
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from datastores.drivers.base import DriverError

TIMEOUT = 10.0
# gRPC status codes that mean "try again": DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE.
TEMPORARY_CODES = {4, 8, 10, 14}


class EtcdError(DriverError):
    """An answer from etcd that is not OK; `code` is the gRPC status code (0 when the server was not reached)."""

    def __init__(self, message: str, *, code: int = 0, temporary: bool = False):
        super().__init__(message, temporary=temporary)
        self.code = code

    @property
    def already_exists(self) -> bool:
        return "already exists" in str(self)

    @property
    def not_found(self) -> bool:
        return "not found" in str(self)

    @property
    def permission_denied(self) -> bool:
        return self.code == 7 or "permission denied" in str(self)


def b64(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def prefix_range_end(prefix: bytes) -> bytes:
    """The end of the key range holding every key that starts with `prefix` (etcd's "prefix + 1")."""
    raw = bytearray(prefix)
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return b"\0"  # etcd's "every key from here on"
    raw[-1] += 1
    return bytes(raw)


def _temporary(exc: BaseException) -> bool:
    return isinstance(exc, DriverError) and exc.temporary


class EtcdGateway:
    """A logged-in connection to one etcd cluster's JSON gateway. Use as a context manager.

    Temporary failures (unreachable, leader change, overload) are retried with backoff, then raised as
    EtcdError(temporary=True); etcd's own refusals are raised at once with its message.
    """

    def __init__(self, *, endpoints: list[str], ca_pem: str, client_cert_pem: str, client_key_pem: str,
                 username: str, password: str):
        if not endpoints:
            raise DriverError("etcd datastore has no endpoints")
        if not (username and password):
            raise DriverError("etcd datastore needs the root user's name and password for its JSON gateway")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self._pems = {"ca.crt": ca_pem, "client.crt": client_cert_pem, "client.key": client_key_pem}
        self.username, self._password = username, password
        self._token = ""
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._session: requests.Session | None = None

    def __enter__(self) -> "EtcdGateway":
        self._tmp = tempfile.TemporaryDirectory(prefix="kui-etcd-")  # 0700; removed on exit
        d = Path(self._tmp.name)
        for name, text in self._pems.items():
            (d / name).touch(mode=0o600)
            (d / name).write_text(text)
        self._session = requests.Session()
        self._session.trust_env = False  # never a proxy, and only this datastore's CA
        self._session.verify = str(d / "ca.crt") if self._pems["ca.crt"] else True
        if self._pems["client.crt"]:
            self._session.cert = (str(d / "client.crt"), str(d / "client.key"))
        return self

    def __exit__(self, *exc) -> None:
        if self._session:
            self._session.close()
        if self._tmp:
            self._tmp.cleanup()
        self._session = self._tmp = None

    # --- the API -------------------------------------------------------------------------------------

    @retry(retry=retry_if_exception(_temporary), stop=stop_after_attempt(5),
           wait=wait_exponential(multiplier=0.2, max=3), reraise=True)
    def call(self, path: str, body: dict) -> dict:
        """POST /v3/<path> as the logged-in user; logs in (again) when there is no valid token."""
        if not self._token:
            self._login()
        try:
            return self._post(path, body, token=self._token)
        except EtcdError as exc:
            if "invalid auth token" not in str(exc):
                raise
            self._login()  # expired: simple tokens live 5 minutes
            return self._post(path, body, token=self._token)

    def _login(self) -> None:
        self._token = ""
        self._token = self._post("auth/authenticate", {"name": self.username, "password": self._password})["token"]

    def ensure(self, path: str, body: dict) -> bool:
        """A create call that is fine if the thing already exists. True if it was created now."""
        try:
            self.call(path, body)
        except EtcdError as exc:
            if exc.already_exists:
                return False
            raise
        return True

    def lookup(self, path: str, body: dict) -> dict | None:
        """A get call; None if the thing does not exist."""
        try:
            return self.call(path, body)
        except EtcdError as exc:
            if exc.not_found:
                return None
            raise

    def discard(self, path: str, body: dict) -> bool:
        """A delete call that is fine if the thing is already gone. True if it was deleted now."""
        try:
            self.call(path, body)
        except EtcdError as exc:
            if exc.not_found:
                return False
            raise
        return True

    def put(self, key: str, value: str) -> None:
        self.call("kv/put", {"key": b64(key), "value": b64(value)})

    def get(self, key: str) -> bytes | None:
        kvs = self.call("kv/range", {"key": b64(key)}).get("kvs", [])
        return base64.b64decode(kvs[0].get("value", "")) if kvs else None

    def count_prefix(self, prefix: str) -> int:
        reply = self.call("kv/range", {"key": b64(prefix), "range_end": b64(prefix_range_end(prefix.encode())),
                                       "count_only": True})
        return int(reply.get("count", 0))

    def delete_prefix(self, prefix: str) -> int:
        reply = self.call("kv/deleterange", {"key": b64(prefix), "range_end": b64(prefix_range_end(prefix.encode()))})
        return int(reply.get("deleted", 0))

    # --- transport -----------------------------------------------------------------------------------

    def _post(self, path: str, body: dict, *, token: str = "") -> dict:
        if self._session is None:
            raise RuntimeError("use EtcdGateway as a context manager")
        headers = {"Authorization": token} if token else {}
        last: Exception | None = None
        for endpoint in self.endpoints:
            try:
                reply = self._session.post(f"{endpoint}/v3/{path}", data=json.dumps(body), headers=headers,
                                           timeout=TIMEOUT)
            except requests.exceptions.SSLError as exc:
                raise EtcdError(f"etcd at {endpoint}: TLS failed ({exc}); "
                                "check the datastore's CA and client certificate") from exc
            except requests.RequestException as exc:
                last = exc
                continue  # try the next member
            return self._answer(endpoint, path, reply)
        raise EtcdError(f"etcd unreachable at {', '.join(self.endpoints)}: {last}", temporary=True) from last

    @staticmethod
    def _answer(endpoint: str, path: str, reply: requests.Response) -> dict:
        try:
            payload = reply.json()
        except ValueError:
            payload = {"message": reply.text.strip()}
        if reply.status_code == 200 and "error" not in payload:
            return payload
        message = payload.get("message") or payload.get("error") or reply.text.strip()
        code = int(payload.get("code", 0) or 0)
        if "CommonName" in message:
            message = ("etcd refuses JSON-gateway requests from a client certificate with a CommonName: "
                       "register an admin client certificate without CN, plus the root user's password")
        unreached = reply.status_code >= 500 and code == 0  # a proxy or the gateway itself failed
        # "auth store is old": another client changed users or roles while this request was checked.
        raced = "leader changed" in message or "revision of auth store is old" in message
        temporary = code in TEMPORARY_CODES or unreached or raced
        raise EtcdError(f"etcd {path}: {message}", code=code, temporary=temporary)
