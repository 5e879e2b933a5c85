"""Where a database is and as whom to log in: one ``Endpoint``, handed to
psycopg as keywords and to pg_dump/pg_restore as libpq environment variables,
never as a command-line argument (another user's ``ps`` would show it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from hive_infra.core.errors import CommandError
from hive_infra.core.names import LOCAL_HOST, POSTGRES_CONTAINER_PORT, is_this_machine
from hive_infra.core.rendering import LIBPQ_DEFAULT_PORT, parse_database_url

#: Every libpq variable a child might inherit and that would change where it connects.
LIBPQ_VARIABLES = (
    "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGDATABASE", "PGSERVICE",
    "PGSERVICEFILE", "PGOPTIONS", "PGSSLMODE", "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGREQUIRESSL",
)  # fmt: skip
#: Set on every session that reads a legacy server: any write in it fails.
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"
APPLICATION_NAME = "hive-infra"
CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Endpoint:
    """One database on one server, and the login to use there. ``password`` is a secret."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    sslmode: str | None = None
    #: Sessions are read-only (``default_transaction_read_only``): a legacy source.
    read_only: bool = False

    @classmethod
    def from_url(cls, url: str, where: str, *, read_only: bool = False) -> Endpoint:
        """From a SQLAlchemy or libpq URL (``postgresql+psycopg://...``); its
        ``options`` (a search_path) are dropped: dumps and restores name schemas."""
        try:
            parsed = parse_database_url(url, where)
        except CommandError as exc:
            raise CommandError(exc.problems) from None
        if parsed.database is None:
            raise CommandError(f"{where}: names no database")
        sslmodes = parse_qs(urlsplit(url.strip()).query).get("sslmode")
        sslmode = sslmodes[0] if sslmodes else None
        port = LIBPQ_DEFAULT_PORT if parsed.port is None else parsed.port
        return cls(parsed.host, port, parsed.user, parsed.password, parsed.database, sslmode, read_only)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def describe(self) -> str:
        """``user@host:port/database``: for messages (no password)."""
        return f"{self.user}@{self.address}/{self.database}"

    def same_server(self, host: str, port: int) -> bool:
        """True when ``host:port`` is this endpoint's server, as seen from this machine."""
        if port != self.port:
            return False
        return host == self.host or (is_this_machine(host) and is_this_machine(self.host))

    def with_database(self, database: str) -> Endpoint:
        return dataclasses.replace(self, database=database)

    def inside_container(self) -> Endpoint:
        """The same login as a program run inside the server's container sees it."""
        return dataclasses.replace(self, host=LOCAL_HOST, port=POSTGRES_CONTAINER_PORT, sslmode=None)

    def libpq_env(self) -> dict[str, str]:
        """The libpq variables a child connects with (password included: the
        child's environment is readable only by the same OS user)."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.database,
            "PGAPPNAME": APPLICATION_NAME,
            "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
        }
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        if self.read_only:
            env["PGOPTIONS"] = READ_ONLY_OPTIONS
        return env

    def connect_kwargs(self) -> dict[str, str | int]:
        """Keywords for ``psycopg.connect`` (no conninfo string to quote)."""
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
            "application_name": APPLICATION_NAME,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }
        if self.sslmode:
            kwargs["sslmode"] = self.sslmode
        if self.read_only:
            kwargs["options"] = READ_ONLY_OPTIONS
        return kwargs
