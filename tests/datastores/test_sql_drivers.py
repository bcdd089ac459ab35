"""The PostgreSQL and MySQL drivers against the real local servers: a database and a user per tenant."""

import re

import psycopg
import pymysql
import pytest

from datastores.drivers import driver_for
from datastores.drivers.mysql import mysql_database_for
from datastores.drivers.postgresql import postgresql_name_for
from datastores.services.health import check_health

pytestmark = [pytest.mark.datastores, pytest.mark.django_db]


def dsn_parts(conn) -> dict:
    """user, password, host, port, database out of kine's DSN (postgres://u:p@h:p/db, mysql://u:p@tcp(h:p)/db)."""
    m = re.match(r"^(\w+)://([^:]+):([^@]+)@(?:tcp\()?([\d.]+):(\d+)\)?/(\w+)", conn.endpoints[0])
    assert m, conn.endpoints[0]
    return dict(zip(("scheme", "user", "password", "host", "port", "database"), m.groups(), strict=True))


def pg_connect(conn, database: str | None = None):
    p = dsn_parts(conn)
    return psycopg.connect(host=p["host"], port=int(p["port"]), user=p["user"], password=p["password"],
                           dbname=database or p["database"], connect_timeout=5, autocommit=True)


def my_connect(conn, database: str | None = None):
    p = dsn_parts(conn)
    return pymysql.connect(host=p["host"], port=int(p["port"]), user=p["user"], password=p["password"],
                           database=database or p["database"], connect_timeout=5, autocommit=True)


def test_postgresql_tenant_uses_its_own_database_and_cannot_open_the_other(postgresql_datastore, new_tenant):
    a, b = new_tenant(postgresql_datastore), new_tenant(postgresql_datastore)
    driver = driver_for(postgresql_datastore)
    conn_a, conn_b = driver.provision(a), driver.provision(b)
    assert dsn_parts(conn_a)["scheme"] == "postgres" and dsn_parts(conn_a)["host"] == "10.212.0.1"
    assert dsn_parts(conn_a)["database"] == postgresql_name_for(a)

    with pg_connect(conn_a) as db:
        db.execute("CREATE TABLE kine (id bigint PRIMARY KEY, name text)")
        db.execute("INSERT INTO kine VALUES (1, 'a')")
        assert db.execute("SELECT name FROM kine").fetchall() == [("a",)]
    assert driver.usage(a) > 0
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        pg_connect(conn_a, database=dsn_parts(conn_b)["database"])
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        pg_connect(conn_b, database=dsn_parts(conn_a)["database"])


def test_postgresql_provision_is_idempotent_and_deprovision_drops_everything(postgresql_datastore, new_tenant):
    tenant = new_tenant(postgresql_datastore)
    driver = driver_for(postgresql_datastore)
    first = driver.provision(tenant)
    with pg_connect(first) as db:
        db.execute("CREATE TABLE kept (x int)")
    assert driver.provision(tenant) == first  # same DSN; the table survives a re-provision
    with pg_connect(first) as db:
        assert db.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        driver.deprovision(tenant)  # while a client is still connected: it is disconnected
    driver.deprovision(tenant)
    assert driver.usage(tenant) == 0
    with pytest.raises(psycopg.OperationalError, match=r"password authentication failed|does not exist"):
        pg_connect(first, database="postgres")


def test_mysql_tenant_uses_its_own_database_and_cannot_open_the_other(mysql_datastore, new_tenant):
    a, b = new_tenant(mysql_datastore), new_tenant(mysql_datastore)
    driver = driver_for(mysql_datastore)
    conn_a, conn_b = driver.provision(a), driver.provision(b)
    assert dsn_parts(conn_a)["scheme"] == "mysql" and dsn_parts(conn_a)["database"] == mysql_database_for(a)

    with my_connect(conn_a) as db, db.cursor() as cur:
        cur.execute("CREATE TABLE kine (id BIGINT PRIMARY KEY, name VARCHAR(63))")
        cur.execute("INSERT INTO kine VALUES (1, 'a')")
        cur.execute("SELECT name FROM kine")
        assert cur.fetchall() == (("a",),)
    assert driver.usage(a) > 0
    with pytest.raises(pymysql.OperationalError) as denied:
        my_connect(conn_b, database=dsn_parts(conn_a)["database"])
    assert denied.value.args[0] == 1044  # access denied to database


def test_mysql_provision_is_idempotent_and_deprovision_drops_everything(mysql_datastore, new_tenant):
    tenant = new_tenant(mysql_datastore)
    driver = driver_for(mysql_datastore)
    first = driver.provision(tenant)
    assert driver.provision(tenant) == first
    driver.deprovision(tenant)
    driver.deprovision(tenant)
    with pytest.raises(pymysql.OperationalError) as refused:
        my_connect(first)
    assert refused.value.args[0] in (1045, 1698)  # access denied: the user is gone
    assert driver.usage(tenant) == 0


@pytest.mark.parametrize("driver", ["postgresql", "mysql"])
def test_sql_health_is_recorded(request, driver):
    datastore = request.getfixturevalue(f"{driver}_datastore")
    healthy, message = check_health(datastore)
    datastore.refresh_from_db()
    assert healthy and datastore.healthy is True, message
    assert message.startswith({"postgresql": "PostgreSQL 15", "mysql": "MySQL 10.11"}[driver])


def test_postgresql_provision_converges_after_being_killed_half_way(postgresql_datastore, new_tenant):
    """A role left by a dead run (with another password), no database: the next run completes the slice."""
    from psycopg import sql

    tenant = new_tenant(postgresql_datastore)
    driver = driver_for(postgresql_datastore)
    with driver.admin_connection() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'from-a-dead-run'").format(
            sql.Identifier(postgresql_name_for(tenant))))
    conn = driver.provision(tenant)
    with pg_connect(conn) as db:
        assert db.execute("SELECT current_database(), current_user").fetchone() == (
            postgresql_name_for(tenant), postgresql_name_for(tenant))


def test_mysql_provision_converges_after_being_killed_half_way(mysql_datastore, new_tenant):
    from datastores.drivers.mysql import mysql_user_for

    tenant = new_tenant(mysql_datastore)
    driver = driver_for(mysql_datastore)
    with driver.admin_connection() as admin, admin.cursor() as cur:
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY 'from-a-dead-run'", (mysql_user_for(tenant),))
    conn = driver.provision(tenant)
    with my_connect(conn) as db, db.cursor() as cur:
        cur.execute("SELECT DATABASE()")
        assert cur.fetchone() == (mysql_database_for(tenant),)


@pytest.mark.parametrize("driver", ["postgresql", "mysql"])
def test_sql_errors_come_out_as_driver_errors_that_say_whether_to_retry(request, driver, new_tenant):
    from datastores.drivers import DriverError

    datastore = request.getfixturevalue(f"{driver}_datastore")
    tenant = new_tenant()
    datastore.password = "wrong"
    with pytest.raises(DriverError) as refused:
        driver_for(datastore).provision(tenant)
    assert not refused.value.temporary
    assert re.search(r"denied|authentication failed", str(refused.value)), str(refused.value)
    datastore.endpoints = ["127.0.0.1:1"]
    with pytest.raises(DriverError) as unreachable:
        driver_for(datastore).provision(tenant)
    assert unreachable.value.temporary
    assert driver_for(datastore).health()[0] is False
