"""MySQL/MariaDB (through kine): each tenant gets a database and a user with every privilege on it only."""

import contextlib

import pymysql

from datastores.drivers.base import Driver, DriverError, TenantConnection, tenant_password
from datastores.drivers.endpoints import first_endpoint

DEFAULT_PORT = 3306
# Server gone or unreachable, too many connections, lock wait timeout, deadlock: worth another try.
TEMPORARY_ERRORS = {2002, 2003, 2006, 2013, 1040, 1205, 1213}
CONNECT_TIMEOUT = 5


def mysql_database_for(tenant) -> str:
    return f"kui_{tenant.uid.hex}"


def mysql_user_for(tenant) -> str:
    # MySQL 8 allows user names of 32 characters at most; 112 bits of the uid still name the tenant.
    return f"kui_{tenant.uid.hex[:28]}"


class MySQLDriver(Driver):
    @contextlib.contextmanager
    def admin_connection(self):
        """A connection as the datastore's admin user (autocommit); database errors come out as DriverError."""
        host, port = first_endpoint(self.datastore, default_port=DEFAULT_PORT)
        try:
            with pymysql.connect(host=host, port=port, user=self.datastore.username, password=self.datastore.password,
                                 connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
                yield conn
        except pymysql.MySQLError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            message = exc.args[-1] if exc.args else exc.__class__.__name__
            raise DriverError(f"MySQL at {host}:{port}: {message}", temporary=code in TEMPORARY_ERRORS) from exc

    def provision(self, tenant, *, current: TenantConnection | None = None) -> TenantConnection:
        """Create (or complete) the tenant's database and user; grants cover that database only."""
        database, user, password = mysql_database_for(tenant), mysql_user_for(tenant), tenant_password(tenant)
        # Names are ours ([a-z0-9_]); identifiers cannot be bound as parameters, values can.
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password))
            cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password))
            cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@'%%'", (user,))
        host, port = first_endpoint(self.datastore, default_port=DEFAULT_PORT)
        return TenantConnection(
            driver="mysql", endpoints=[f"mysql://{user}:{password}@tcp({host}:{port})/{database}"],
            prefix="", username=user, password=password,
        )

    def deprovision(self, tenant) -> None:
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{mysql_database_for(tenant)}`")
            cur.execute("DROP USER IF EXISTS %s@'%%'", (mysql_user_for(tenant),))

    def health(self) -> tuple[bool, str]:
        try:
            with self.admin_connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                version = cur.fetchone()[0]
                cur.execute(r"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'kui\_%'")
                count = cur.fetchone()[0]
        except DriverError as exc:
            return False, str(exc)
        return True, f"MySQL {version}, {count} tenant databases"

    def usage(self, tenant) -> int:
        """Bytes of data and indexes in the tenant's database."""
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
                        "WHERE table_schema = %s", (mysql_database_for(tenant),))
            return int(cur.fetchone()[0])
