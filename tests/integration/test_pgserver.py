"""The throwaway server itself: real passwords, loopback only, stopped at the end."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pgserver import PgServer


def test_superuser_logs_in_over_tcp_with_its_password(pg_server: PgServer) -> None:
    with pg_server.connect() as conn:
        row = conn.execute("select current_user, inet_server_addr()::text, current_setting('port')::int").fetchone()
    assert row == (pg_server.superuser, "127.0.0.1/32", pg_server.port)


def test_wrong_password_is_refused(pg_server: PgServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        pg_server.connect(password="not-the-password")


def test_server_listens_on_loopback_only_with_scram(pg_server: PgServer) -> None:
    with pg_server.connect() as conn:
        listen = conn.execute("show listen_addresses").fetchone()[0]
        rules = conn.execute("select distinct auth_method from pg_hba_file_rules").fetchall()
        version = conn.execute("select current_setting('server_version_num')::int / 10000").fetchone()[0]
    assert listen == "127.0.0.1"
    assert rules == [("scram-sha-256",)]
    assert version == pg_server.version
