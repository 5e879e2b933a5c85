"""Where and as whom to connect (``hive_infra.pg.endpoint``): never a password in a message."""

from __future__ import annotations

import pytest

from hive_infra.core.errors import CommandError
from hive_infra.pg.endpoint import READ_ONLY_OPTIONS, Endpoint

PASSWORD = "s3cret/Pass:word@1"
URL = (
    "postgresql+psycopg://Hq3xUser:s3cret%2FPass%3Aword%401@db.example.org:6543/hive_agent"
    "?options=-csearch_path%3Dagent&sslmode=require"
)


def test_an_endpoint_from_a_url_never_shows_its_password() -> None:
    endpoint = Endpoint.from_url(URL, "HIVE_DATABASE_URL in .env.agent", read_only=True)
    assert (endpoint.user, endpoint.password, endpoint.host, endpoint.port, endpoint.database) == (
        "Hq3xUser",
        PASSWORD,
        "db.example.org",
        6543,
        "hive_agent",
    ), "user and password percent-decoded; the search_path option dropped"
    assert endpoint.sslmode == "require", "the URL's sslmode is kept"
    assert PASSWORD not in repr(endpoint) and PASSWORD not in endpoint.describe(), "no password in messages"
    env = endpoint.libpq_env()
    assert env["PGPASSWORD"] == PASSWORD and env["PGOPTIONS"] == READ_ONLY_OPTIONS, "read-only sessions"
    assert endpoint.inside_container().libpq_env()["PGHOST"] == "localhost", "inside a container: its own server"
    assert endpoint.inside_container().port == 5432 and endpoint.inside_container().sslmode is None


def test_a_url_without_a_database_is_refused() -> None:
    with pytest.raises(CommandError, match="names no database"):
        Endpoint.from_url("postgresql://u:p@localhost:5532", "X")
    with pytest.raises(CommandError, match="X: is not a PostgreSQL URL"):
        Endpoint.from_url("mysql://u:p@localhost/hive", "X")


def test_same_server_follows_the_loopback_rule() -> None:
    endpoint = Endpoint("localhost", 5532, "u", "p", "hive")
    assert endpoint.same_server("127.0.0.1", 5532) and endpoint.same_server("::1", 5532), "loopback is here"
    assert not endpoint.same_server("localhost", 35532) and not endpoint.same_server("db.example.org", 5532)
