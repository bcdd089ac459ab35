"""PostgreSQL (through kine): each tenant gets a database and a login role of the same name that owns it."""

import contextlib

import psycopg
from psycopg import errors, sql

from datastores.drivers.base import Driver, DriverError, TenantConnection, tenant_password
from datastores.drivers.endpoints import first_endpoint

DEFAULT_PORT = 5432
CONNECT_TIMEOUT = 5
# What libpq says when the server answered and said no: retrying will not help.
REFUSALS = ("password authentication failed", "no pg_hba.conf entry", "does not exist", "permission denied")


def _temporary(exc: psycopg.Error) -> bool:
    """Not reached, overloaded, starting up or a lost race: worth another try. Refusals are not."""
    state = exc.sqlstate
    if state is None:  # failed to connect: libpq gives no code, only its message
        return not any(refusal in str(exc) for refusal in REFUSALS)
    return state[:2] in ("08", "40", "53") or state in ("57P03", "55006")


def postgresql_name_for(tenant) -> str:
    """The tenant's database and role name."""
    return f"kui_{tenant.uid.hex}"


class PostgreSQLDriver(Driver):
    @contextlib.contextmanager
    def admin_connection(self):
        """A connection as the datastore's admin user (autocommit); database errors come out as DriverError."""
        host, port = first_endpoint(self.datastore, default_port=DEFAULT_PORT)
        try:
            with psycopg.connect(host=host, port=port, user=self.datastore.username, dbname="postgres",
                                 password=self.datastore.password, connect_timeout=CONNECT_TIMEOUT,
                                 autocommit=True) as conn:
                yield conn
        except psycopg.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise DriverError(f"PostgreSQL at {host}:{port}: {message}", temporary=_temporary(exc)) from exc

    def provision(self, tenant, *, current: TenantConnection | None = None) -> TenantConnection:
        """Create (or complete) the tenant's role and database; only the role may connect to it."""
        name, password = postgresql_name_for(tenant), tenant_password(tenant)
        role, database = sql.Identifier(name), sql.Identifier(name)
        with self.admin_connection() as conn:
            try:
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone():
                    conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(role, sql.Literal(password)))
                else:
                    conn.execute(sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(role, sql.Literal(password)))
            except errors.DuplicateObject:
                pass  # created concurrently: same name, same derived password
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                with contextlib.suppress(errors.DuplicateDatabase):  # created concurrently
                    conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
            # PUBLIC may connect to any new database by default: only the owner may open this one.
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        host, port = first_endpoint(self.datastore, default_port=DEFAULT_PORT)
        return TenantConnection(
            driver="postgresql", endpoints=[f"postgres://{name}:{password}@{host}:{port}/{name}?sslmode=disable"],
            prefix="", username=name, password=password,
        )

    def deprovision(self, tenant) -> None:
        """Drop the database (disconnecting whoever is still on it), then the role."""
        name = sql.Identifier(postgresql_name_for(tenant))
        with self.admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(name))

    def health(self) -> tuple[bool, str]:
        try:
            with self.admin_connection() as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
                count = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'kui\\_%'").fetchone()[0]
        except DriverError as exc:
            return False, str(exc)
        return True, f"PostgreSQL {version}, {count} tenant databases"

    def usage(self, tenant) -> int:
        """Bytes used by the tenant's database (0 if it does not exist)."""
        with self.admin_connection() as conn:
            row = conn.execute("SELECT pg_database_size(datname) FROM pg_database WHERE datname = %s",
                               [postgresql_name_for(tenant)]).fetchone()
        return int(row[0]) if row else 0
