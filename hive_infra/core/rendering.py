"""Database URLs (rendered and parsed), API keys and .env contents: pure functions of plain values.

Nothing here sees a Pulumi ``Output``: the stack calls these inside
``Output.apply`` once the secrets are known, and tests call them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from hive_infra.core.dotenv_text import format_line
from hive_infra.core.errors import CommandError
from hive_infra.core.modes import Mode
from hive_infra.core.placement import EXTERNAL_MODE, Placement
from hive_infra.core.ports import ModePorts

URL_SCHEME = "postgresql+psycopg"
#: URL schemes SQLAlchemy and libpq accept for PostgreSQL.
POSTGRES_SCHEMES = ("postgresql", "postgres")
LIBPQ_DEFAULT_PORT = 5432
API_KEY_PREFIX = "hive"


@dataclass(frozen=True)
class DbEndpoint:
    """Where and as whom a consumer connects to the server. ``password`` is a secret."""

    host: str
    port: int
    user: str
    password: str
    #: libpq sslmode to put in URLs; None leaves libpq's default.
    sslmode: str | None = None

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"DbEndpoint(host={self.host!r}, port={self.port}, user={self.user!r}, password=***)"


def url_sslmode(postgres_mode: str | None, sslmode: str | None) -> str | None:
    """The sslmode a mode's URL carries: a server elsewhere gets the one the stack
    connects with; the local container's URLs keep the legacy form (none)."""
    return sslmode if postgres_mode == EXTERNAL_MODE else None


def url_host(host: str) -> str:
    """``host`` as a URL writes it: an IPv6 literal in brackets, its zone's ``%`` as ``%25``."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return f"[{bare.replace('%', '%25')}]" if ":" in bare else bare


def database_url(endpoint: DbEndpoint, placement: Placement) -> str:
    """The SQLAlchemy URL a mode connects with.

    User and password are percent-encoded whatever they hold. A mode whose
    search_path differs from the role's default passes
    ``options=-csearch_path=<schemas>``, percent-encoded so that SQLAlchemy and
    libpq both decode it; workspace relies on the role's default. An endpoint
    with an ``sslmode`` (a server elsewhere) adds it, so the app verifies as asked.
    """
    user = quote(endpoint.user, safe="")
    password = quote(endpoint.password, safe="")
    database = quote(placement.database, safe="")
    url = f"{URL_SCHEME}://{user}:{password}@{url_host(endpoint.host)}:{endpoint.port}/{database}"
    query = []
    if placement.url_search_path is not None:
        query.append("options=" + quote(f"-csearch_path={','.join(placement.url_search_path)}", safe="-"))
    if endpoint.sslmode is not None:
        query.append(f"sslmode={endpoint.sslmode}")
    return f"{url}?{'&'.join(query)}" if query else url


@dataclass(frozen=True)
class DbUrl:
    user: str
    password: str
    host: str
    port: int | None
    database: str | None

    def __repr__(self) -> str:
        return (
            f"DbUrl(user={self.user!r}, password=***, host={self.host!r}, port={self.port}, database={self.database!r})"
        )


def parse_database_url(url: str, where: str) -> DbUrl:
    """Split a SQLAlchemy/libpq PostgreSQL URL; user and password are unquoted.

    Messages name ``where`` (key and file) and what is wrong, never the URL:
    it holds the password.
    """

    def bad(what: str) -> CommandError:
        return CommandError(
            f"{where}: {what}; expected postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE "
            "with '@', ':' and '/' in the user or password percent-encoded"
        )

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise bad("is not a URL") from None
    base_scheme = parts.scheme.split("+", 1)[0].lower()
    if not parts.scheme or base_scheme not in POSTGRES_SCHEMES:
        raise bad("is not a PostgreSQL URL (its scheme is not postgresql or postgresql+DRIVER)")
    if parts.netloc.count("@") > 1:
        # urlsplit would split at the last '@', SQLAlchemy at the first: ambiguous.
        raise bad("has more than one '@' before the host (write '@' in a password as %40)")
    if "@" not in parts.netloc:
        after_scheme = url.strip().partition("://")[2]
        if "@" in after_scheme:
            # `user:pa#ss@host` splits at '#' (or '/', '?') before reaching '@'.
            raise bad(
                "has a user or password holding '#', '/' or '?' that is not percent-encoded "
                "(write %23, %2F, %3F), so the URL ends before its '@'"
            )
        raise bad("has no USER:PASSWORD@ part")
    userinfo = parts.netloc.rpartition("@")[0]
    raw_user, colon, raw_password = userinfo.partition(":")
    if not raw_user:
        raise bad("has no user")
    if not colon or not raw_password:
        raise bad("has no password")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise bad("has a port that is not a number between 0 and 65535") from None
    if not host:
        raise bad("has no host")
    database = unquote(parts.path.lstrip("/")) or None
    if database is not None and "/" in database:
        raise bad("has a path that is not a single database name")
    return DbUrl(unquote(raw_user), unquote(raw_password), host, port, database)


def api_key(mode: Mode, base: str) -> str:
    """``hive_<base>`` for the public-schema mode, ``hive_<mode>_<base>`` otherwise."""
    if mode.uses_public_schema:
        return f"{API_KEY_PREFIX}_{base}"
    return f"{API_KEY_PREFIX}_{mode.name}_{base}"


@dataclass(frozen=True)
class EnvEntries:
    """A mode's .env keys, in the renderer's order.

    ``owned`` are the keys the stack decides (ports, database, credentials):
    it sets them in a user's file and keeps them in step. ``defaults`` are the
    application settings the legacy generator wrote: the stack seeds them
    where a file lacks them and never overrides a user's choice.
    """

    owned: tuple[tuple[str, str], ...]
    defaults: tuple[tuple[str, str], ...]

    def all(self) -> tuple[tuple[str, str], ...]:
        return self.owned + self.defaults

    def as_dict(self) -> dict[str, str]:
        return dict(self.all())


def env_entries(placement: Placement, ports: ModePorts, endpoint: DbEndpoint, api_key_base: str) -> EnvEntries:
    """The keys of a mode's .env file.

    ``endpoint`` says how this consumer reaches PostgreSQL: ``localhost`` and
    the published port for the host's .env files, the container's name and
    5432 for an API container on the shared network. The API port is always
    the mode's own.
    """
    owned = (
        ("HIVE_API_PORT", str(ports.api)),
        ("HIVE_DATABASE_URL", database_url(endpoint, placement)),
        ("HIVE_DB_SCHEMA", placement.schema),
        ("POSTGRES_HOST", endpoint.host),
        ("POSTGRES_PORT", str(endpoint.port)),
        ("POSTGRES_USER", endpoint.user),
        ("POSTGRES_PASSWORD", endpoint.password),
        ("POSTGRES_DB", placement.database),
        ("HIVE_API_KEY", api_key(placement.mode, api_key_base)),
        # The current application (AgentOS) checks this bearer token and ignores
        # HIVE_API_KEY: without it every route is open.
        ("OS_SECURITY_KEY", api_key(placement.mode, api_key_base)),
    )
    defaults = (
        ("HIVE_ENVIRONMENT", "development"),
        ("HIVE_LOG_LEVEL", "INFO"),
        ("AGNO_LOG_LEVEL", "INFO"),
        ("HIVE_API_HOST", "0.0.0.0"),
        ("HIVE_API_WORKERS", "1"),
        ("HIVE_CORS_ORIGINS", f"http://localhost:3000,http://localhost:{ports.api}"),
        ("HIVE_AUTH_DISABLED", "false"),
        ("HIVE_DEV_MODE", "true"),
        ("HIVE_ENABLE_METRICS", "true"),
        ("HIVE_AGNO_MONITOR", "false"),
        ("HIVE_DEFAULT_MODEL", "gpt-4.1-mini"),
    )
    return EnvEntries(owned=owned, defaults=defaults)


#: The keys ``env_entries`` puts in ``owned``, in its order: the ones every
#: mode's .env file holds exactly as the stack wrote them (``status -o env``
#: prints these).
OWNED_KEYS = (
    "HIVE_API_PORT",
    "HIVE_DATABASE_URL",
    "HIVE_DB_SCHEMA",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "HIVE_API_KEY",
    "OS_SECURITY_KEY",
)


def env_header(project: str, stack: str) -> str:
    """The comment line that says who manages a .env file."""
    return f"# Managed by Pulumi stack {project}/{stack}: keys it owns are rewritten on `pulumi up`."


def env_text(entries: EnvEntries, header: str) -> str:
    """The whole .env text of a mode, as the stack would write a new file."""
    lines = [header]
    lines.extend(format_line(key, value) for key, value in entries.all())
    return "\n".join(lines) + "\n"


def container_env(entries: EnvEntries, user_layers: Sequence[Mapping[str, str]] = ()) -> list[str]:
    """``KEY=value`` strings for a container's environment (docker does no quoting).

    The seeded defaults, overridden by each of the user's layers in turn (the
    workspace .env, then the mode's own file), under the owned keys, which
    always win: what the application would see with the mode's file exported
    over the workspace one. A user's file holding exactly what the stack wrote
    gives the same list as no file at all, so a second ``up`` changes nothing.

    The last layer is the mode's own file, read before this ``up`` seeds into it
    every default it lacks (a new mode's file does not exist yet): it counts as
    seeded, so the env does not change when the next ``up`` reads it back.
    """
    owned = dict(entries.owned)
    merged = dict(entries.defaults)
    layers = list(user_layers)
    if layers:
        layers[-1] = {**dict(entries.defaults), **layers[-1]}
    for layer in layers:
        merged.update((key, value) for key, value in layer.items() if key not in owned)
    return [f"{key}={value}" for key, value in (*owned.items(), *merged.items())]


def env_file_path(env_dir: str, mode: Mode) -> str:
    """Where a mode's .env file goes: ``envDir`` joined with the legacy file name."""
    if env_dir in ("", "."):
        return mode.env_file
    return f"{env_dir.rstrip('/')}/{mode.env_file}"
