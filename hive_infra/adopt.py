"""``python -m hive_infra adopt``: carry a legacy installation's credentials over.

A legacy automagik-hive install keeps its PostgreSQL user, password and API
key in ``.env`` files (``.env``, ``.env.agent``, ``.env.genie``). Without
adoption, ``pulumi up`` would start a second, empty database with new
passwords. This module reads those files, checks them with the same rules the
program applies (``config.parse_config``), and prints the ``pulumi config set``
commands that make the stack reuse them.

Output contract:

* stderr: a short summary of what was found, warnings, errors, and (with
  ``--detect``) the Docker findings. Never a secret unless ``--show-secrets``.
* stdout: only the ``pulumi config set`` commands, one a line, every value
  quoted for a POSIX shell, so ``adopt > adopt.sh`` is a runnable script.
  Secrets are not written inline (unless ``--show-secrets``): each secret line
  pipes ``adopt --print-secret KEY`` into ``pulumi config set --secret``, which
  reads the value from standard input, so the secret never reaches the screen,
  the shell history or a process's argument list.

Exit codes: 0 success, 2 bad input, 3 nothing to adopt.
"""

from __future__ import annotations

import io
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from hive_infra.config import (
    IDENTIFIER,
    KEYS_BY_NAME,
    NAMESPACE,
    ConfigError,
    HiveConfig,
    parse_config,
    placeholder_in,
)
from hive_infra.modes import MODES, Mode
from hive_infra.rendering import API_KEY_PREFIX, api_key

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NOTHING = 3

DEFAULT_ENV_FILE = ".env"
#: Secrets ``--print-secret`` can emit, by their config key.
SECRET_KEYS: tuple[str, ...] = ("dbPassword", "adminPassword", "apiKeyBase")
#: Config keys this command sets that ``config.py`` on this branch may not know
#: yet (main adds them); they are validated by parse_config once it does.
DATA_PATH_KEY = "dataPath"
ADMIN_USER_KEY = "adminUser"

#: Inside the container: where the legacy compose mounted ``./data/postgres``,
#: and the PGDATA it used below that mount.
LEGACY_DATA_MOUNT = "/var/lib/postgresql/data"
LEGACY_PGDATA_SUBDIR = "pgdata"
PG_VERSION_FILE = "PG_VERSION"

#: URL schemes SQLAlchemy and libpq accept for PostgreSQL.
POSTGRES_SCHEMES = ("postgresql", "postgres")
LIBPQ_DEFAULT_PORT = 5432
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})

URL_KEY = "HIVE_DATABASE_URL"
USER_KEY = "POSTGRES_USER"
PASSWORD_KEY = "POSTGRES_PASSWORD"
DB_KEY = "POSTGRES_DB"
PORT_KEY = "POSTGRES_PORT"
API_KEY_KEY = "HIVE_API_KEY"

#: Legacy name prefix (also the default ``namePrefix``).
LEGACY_PREFIX = KEYS_BY_NAME["namePrefix"].default
#: The per-mode PostgreSQL containers of the legacy layout.
LEGACY_POSTGRES_NAMES: tuple[str, ...] = (
    f"{LEGACY_PREFIX}-postgres",
    *(f"{LEGACY_PREFIX}-postgres-{m.name}" for m in MODES.values() if not m.uses_public_schema),
)


class AdoptError(Exception):
    """Input that cannot be adopted; ``problems`` never hold a secret."""

    def __init__(self, problems: Sequence[str] | str, code: int = EXIT_BAD_INPUT) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        self.code = code
        super().__init__("\n".join(self.problems))


# --- reading one .env file ----------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A value read from a file, with where it came from (for messages)."""

    value: str
    file: str
    key: str

    @property
    def where(self) -> str:
        return f"{self.key} in {self.file}"

    def __repr__(self) -> str:  # values may be secrets
        return f"Found({self.where})"


@dataclass
class LegacyFile:
    """What one legacy .env file says. Secrets never appear in ``repr``."""

    path: Path
    label: str
    user: Found | None = None
    password: Found | None = None
    database: Found | None = None
    port: Found | None = None
    host: str | None = None
    key_base: Found | None = None
    key_mode: Mode | None = None
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"LegacyFile({self.label})"

    @property
    def has_credentials(self) -> bool:
        return self.user is not None and self.password is not None

    @property
    def has_anything(self) -> bool:
        return self.has_credentials or self.key_base is not None

    @property
    def mode(self) -> Mode | None:
        """The mode the file belongs to: its key's prefix, else its file name."""
        return self.key_mode or _mode_of_file_name(self.path)


def _mode_of_file_name(path: Path) -> Mode | None:
    return next((m for m in MODES.values() if m.env_file == path.name), None)


def read_env(path: Path, label: str) -> dict[str, str]:
    """The non-empty values of a .env file, read as python-dotenv reads it."""
    if not path.exists():
        raise AdoptError(f"{label}: no such file; pass the legacy .env with --env-file PATH")
    if not path.is_file():
        raise AdoptError(f"{label}: is not a file; pass the legacy .env with --env-file PATH")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AdoptError(f"{label}: is not UTF-8 text, so it cannot be a .env file") from None
    except OSError as exc:
        raise AdoptError(f"{label}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    # python-dotenv skips lines it cannot parse; a skipped HIVE_DATABASE_URL would
    # silently turn into "nothing to adopt", so name such lines (never their text).
    bad = [b.original.line for b in parse_stream(io.StringIO(text)) if b.error]
    if bad:
        lines = ", ".join(str(n) for n in bad)
        raise AdoptError(
            f"{label}: line {lines} cannot be parsed as KEY=value "
            "(python-dotenv skips it); fix or remove it and run adopt again"
        )
    values = dotenv_values(stream=io.StringIO(text))
    return {key: value for key, value in values.items() if value is not None and value.strip() != ""}


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

    def bad(what: str) -> AdoptError:
        return AdoptError(
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


def _split_api_key(key: str) -> tuple[Mode, str] | None:
    """``(mode, base)`` of a ``hive_<base>`` / ``hive_<mode>_<base>`` key, else None.

    Detected by prefix, longest first (``hive_agent_`` before ``hive_``): a
    workspace base that happens to start with ``agent_`` (odds about 1e-11)
    would be misread, a key copied between files would not.
    """
    for mode in sorted(MODES.values(), key=lambda m: -len(api_key(m, ""))):
        prefix = api_key(mode, "")
        if key.startswith(prefix) and len(key) > len(prefix):
            return mode, key[len(prefix) :]
    return None


def inspect_file(path: Path, label: str) -> LegacyFile:
    """Read one legacy .env file into a ``LegacyFile`` (raises ``AdoptError``)."""
    values = read_env(path, label)
    found = LegacyFile(path=path, label=label)
    problems: list[str] = []

    def get(key: str) -> Found | None:
        return Found(values[key], label, key) if key in values else None

    def refuse_placeholder(item: Found | None, what: str) -> bool:
        if item is None:
            return False
        word = placeholder_in(item.value)
        if word is None:
            return False
        problems.append(
            f"{item.where}: the {what} contains the placeholder word {word!r}, so it is a "
            "template value, not a real one; put the real value in the file or remove the key"
        )
        return True

    url = get(URL_KEY)
    parsed: DbUrl | None = None
    if url is not None:
        try:
            parsed = parse_database_url(url.value, url.where)
        except AdoptError as exc:
            problems.extend(exc.problems)
    url_user = Found(parsed.user, label, URL_KEY) if parsed else None
    url_password = Found(parsed.password, label, URL_KEY) if parsed else None
    env_user, env_password = get(USER_KEY), get(PASSWORD_KEY)
    for item, what in ((url_user, "user"), (url_password, "password"), (env_user, "user"), (env_password, "password")):
        refuse_placeholder(item, what)

    if parsed is not None:
        for url_item, env_item, what in ((url_user, env_user, "user"), (url_password, env_password, "password")):
            if env_item is not None and url_item is not None and env_item.value != url_item.value:
                found.warnings.append(
                    f"{label}: the {what} in {URL_KEY} differs from {env_item.key}; "
                    f"using {URL_KEY}'s, which is what the application connects with"
                )
        found.user, found.password = url_user, url_password
        found.host = parsed.host
        if parsed.database:
            found.database = Found(parsed.database, label, URL_KEY)
        if parsed.port is not None:
            found.port = Found(str(parsed.port), label, URL_KEY)
    elif url is None:
        found.user, found.password = env_user, env_password
        if (env_user is None) != (env_password is None):
            missing, present = (PASSWORD_KEY, USER_KEY) if env_password is None else (USER_KEY, PASSWORD_KEY)
            problems.append(
                f"{label}: {present} is set but {missing} is not (and there is no {URL_KEY}); "
                "the stack needs both, or neither to have them generated"
            )
        found.host = values.get("POSTGRES_HOST")
    if found.database is None:
        found.database = get(DB_KEY)
    if parsed is not None and found.port is None:
        # libpq's default: a URL without a port connects to 5432.
        found.port = Found(str(LIBPQ_DEFAULT_PORT), label, URL_KEY)
    if found.port is None:
        found.port = get(PORT_KEY)

    key = get(API_KEY_KEY)
    if key is not None and not refuse_placeholder(key, "API key"):
        split = _split_api_key(key.value)
        if split is None:
            found.warnings.append(
                f"{key.where}: not in the hive key scheme ({API_KEY_PREFIX}_<base> or "
                f"{API_KEY_PREFIX}_<mode>_<base>), so it cannot be carried over; the stack will "
                "generate a new key and clients must switch to it"
            )
        else:
            mode, base = split
            found.key_mode = mode
            found.key_base = Found(base, label, API_KEY_KEY)
            file_mode = _mode_of_file_name(path)
            if file_mode is not None and file_mode is not mode:
                found.warnings.append(
                    f"{key.where}: has the {mode.name} form but the file is the {file_mode.name} "
                    f"file; the stack gives mode {file_mode.name} the key {api_key(file_mode, '<base>')}"
                )
    if problems:
        raise AdoptError(problems)
    return found


# --- several files, one answer -------------------------------------------------


@dataclass
class Adoption:
    """The merged findings of every file given."""

    files: list[LegacyFile]
    user: Found | None
    password: Found | None
    database: Found | None
    port: Found | None
    key_base: Found | None
    warnings: list[str]

    @property
    def primary(self) -> LegacyFile:
        return self.files[0]


def merge(files: Sequence[LegacyFile]) -> Adoption:
    """Check that the files agree on the shared secrets; pick one value of each.

    User, password and API key base are shared by every mode: a disagreement
    is an error. Database and port may differ in the legacy layout (agent ran
    its own container on 35532); the workspace file's (else the first file's)
    are taken, with a warning.
    """
    if not files:
        raise AdoptError("no .env file given")
    warnings = [w for f in files for w in f.warnings]
    problems: list[str] = []
    # The workspace file leads; otherwise the order given.
    ordered = sorted(files, key=lambda f: 0 if f.mode is not None and f.mode.uses_public_schema else 1)

    def pick(attr: str, what: str, strict: bool) -> Found | None:
        items: list[Found] = [getattr(f, attr) for f in ordered if getattr(f, attr) is not None]
        if not items:
            return None
        first = items[0]
        for other in items[1:]:
            if other.value != first.value:
                message = f"the {what} differs between {first.where} and {other.where}"
                if strict:  # secrets (or tied to one): name the places, never the values
                    problems.append(f"{message}; every mode shares one, make the files agree")
                else:
                    warnings.append(
                        f"{message} ({first.value} vs {other.value}); the stack shares one for every mode, "
                        f"using {first.value} from {first.where}"
                    )
        return first

    user = pick("user", "database user", strict=True)
    password = pick("password", "database password", strict=True)
    key_base = pick("key_base", "API key base", strict=True)
    database = pick("database", "database name", strict=False)
    port = pick("port", "database port", strict=False)
    if problems:
        raise AdoptError(problems)
    return Adoption(list(ordered), user, password, database, port, key_base, warnings)


# --- the data directory --------------------------------------------------------


@dataclass(frozen=True)
class DataDir:
    """A legacy PostgreSQL data directory: ``mount`` is what ``dataPath`` names."""

    mount: Path
    pgdata: Path
    version: str

    @property
    def legacy_layout(self) -> bool:
        return self.pgdata == self.mount / LEGACY_PGDATA_SUBDIR


def check_data_dir(raw: str) -> DataDir:
    """Resolve ``raw`` and check it holds a PostgreSQL cluster.

    Accepts the legacy bind mount (``./data/postgres``, cluster in ``pgdata/``),
    or the cluster folder itself; a cluster folder named ``pgdata`` is taken as
    the legacy layout and its parent becomes ``dataPath``.
    """
    path = Path(raw).expanduser().resolve()
    label = f"--data-dir {path}"
    if not path.exists():
        raise AdoptError(f"{label}: no such directory")
    if not path.is_dir():
        raise AdoptError(f"{label}: is not a directory")
    try:
        for pgdata in (path / LEGACY_PGDATA_SUBDIR, path):
            marker = pgdata / PG_VERSION_FILE
            if marker.is_file():
                version = marker.read_text(encoding="ascii", errors="replace").strip()
                if pgdata == path and path.name == LEGACY_PGDATA_SUBDIR:
                    return DataDir(mount=path.parent, pgdata=path, version=version)
                return DataDir(mount=path, pgdata=pgdata, version=version)
    except PermissionError:
        raise AdoptError(
            f"{label}: cannot be read by this user (the container's postgres user owns it); "
            "run adopt with the rights to read it, e.g. sudo"
        ) from None
    raise AdoptError(
        f"{label}: does not look like a PostgreSQL data directory: there is no {PG_VERSION_FILE} "
        f"in it nor in {LEGACY_PGDATA_SUBDIR}/ (the legacy install kept it in ./data/postgres/{LEGACY_PGDATA_SUBDIR})"
    )


def _image_major(image: str) -> str | None:
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    digits = ""
    for ch in tag:
        if not ch.isdigit():
            break
        digits += ch
    return digits or None


# --- building and validating the config ---------------------------------------


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    secret: bool
    origin: str

    def __repr__(self) -> str:
        shown = "***" if self.secret else repr(self.value)
        return f"Setting({self.key}={shown})"


def settings_for(adoption: Adoption, data_dir: DataDir | None) -> list[Setting]:
    """The config keys to set, in print order."""
    out: list[Setting] = []
    default_port = str(KEYS_BY_NAME["dbPort"].default)
    if adoption.user is not None and adoption.password is not None:
        if data_dir is None and not IDENTIFIER.fullmatch(adoption.user.value):
            # A new, empty database: the user name carries nothing over, and the
            # stack creates plain lower-case roles only. The .env files follow it.
            adoption.warnings.append(
                f"{adoption.user.where}: the legacy user {adoption.user.value!r} is not a plain lower-case name; "
                f"without --data-dir the new database uses hive:dbUser's default "
                f"{KEYS_BY_NAME['dbUser'].default!r} (your .env files are rewritten with it)"
            )
        else:
            out.append(Setting("dbUser", adoption.user.value, False, adoption.user.where))
        out.append(Setting("dbPassword", adoption.password.value, True, adoption.password.where))
    if adoption.database is not None:
        out.append(Setting("database", adoption.database.value, False, adoption.database.where))
    port = adoption.port
    host = adoption.primary.host
    if port is not None and port.value.strip() != default_port:
        if host is None or host in LOCAL_HOSTS:
            out.append(Setting("dbPort", port.value.strip(), False, port.where))
        else:
            adoption.warnings.append(
                f"{port.where}: the port is that of host {host!r}, not a port on this machine; "
                f"hive:dbPort is left at its default {default_port}"
            )
    if adoption.key_base is not None:
        out.append(Setting("apiKeyBase", adoption.key_base.value, True, adoption.key_base.where))
    if data_dir is not None and adoption.user is not None and adoption.password is not None:
        out.append(Setting(DATA_PATH_KEY, str(data_dir.mount), False, "--data-dir"))
        out.append(Setting(ADMIN_USER_KEY, adoption.user.value, False, adoption.user.where))
        out.append(Setting("adminPassword", adoption.password.value, True, adoption.password.where))
    return out


def validate(settings: Sequence[Setting]) -> HiveConfig:
    """Run the program's own ``parse_config`` on the values adopt would set.

    Keys ``config.py`` does not know yet (``dataPath``, ``adminUser`` before
    main adds them) are left out rather than reported as unknown.
    """
    raw = {s.key: s.value for s in settings if s.key in KEYS_BY_NAME}
    try:
        return parse_config(raw)
    except ConfigError as exc:
        origins = {f"{NAMESPACE}:{s.key}": s.origin for s in settings}
        problems = []
        for problem in exc.problems:
            key = problem.split(": ", 1)[0]
            origin = origins.get(key)
            problems.append(f"{origin}: {problem}" if origin else problem)
        problems.append(
            "the legacy value does not meet this program's rules: change it in the legacy "
            "installation (for a password: ALTER ROLE ... PASSWORD, then its .env files) and run adopt again"
        )
        raise AdoptError(problems) from None


# --- printing ------------------------------------------------------------------


def config_set_line(
    setting: Setting,
    stack: str | None,
    show_secrets: bool,
    secret_source: Sequence[str],
) -> str:
    """One shell line that sets ``setting``; a secret comes through a pipe unless shown."""
    cmd = ["pulumi", "config", "set"]
    if stack:
        cmd += ["--stack", stack]
    if setting.secret:
        cmd.append("--secret")
    cmd.append(f"{NAMESPACE}:{setting.key}")
    if setting.secret and not show_secrets:
        producer = [*secret_source, "--print-secret", setting.key]
        return f"{shlex.join(producer)} | {shlex.join(cmd)}"
    if setting.value.startswith("-"):
        cmd.append("--")  # keep a value such as '-abc' from reading as a flag
    cmd.append(setting.value)
    return shlex.join(cmd)


def summary_lines(
    adoption: Adoption, settings: Sequence[Setting], data_dir: DataDir | None, postgres_image: str
) -> list[str]:
    lines = ["adopt: found in " + ", ".join(f.label for f in adoption.files) + ":"]
    by_key = {s.key: s for s in settings}
    if "dbUser" in by_key:
        lines.append(f"  database user     {by_key['dbUser'].value}  ({by_key['dbUser'].origin})")
        password = by_key["dbPassword"]
        lines.append(f"  database password {len(password.value)} characters  ({password.origin})")
    else:
        lines.append("  database user/password: none (the stack will generate them)")
    if "database" in by_key:
        lines.append(f"  database          {by_key['database'].value}  ({by_key['database'].origin})")
    if adoption.port is not None:
        lines.append(f"  database port     {adoption.port.value}  ({adoption.port.where})")
    if "apiKeyBase" in by_key:
        base = by_key["apiKeyBase"]
        lines.append(f"  API key base      {len(base.value)} characters  ({base.origin})")
    else:
        lines.append("  API key base: none (the stack will generate one; clients need the new keys)")
    if data_dir is None:
        lines.append(
            "  data: not adopted (no --data-dir): `pulumi up` starts an EMPTY database with these "
            "credentials; pass --data-dir ./data/postgres to keep the legacy data"
        )
    else:
        layout = (
            f"legacy layout, cluster in {LEGACY_PGDATA_SUBDIR}/"
            if data_dir.legacy_layout
            else "cluster directly in the folder"
        )
        lines.append(f"  data directory    {data_dir.mount}  (PostgreSQL {data_dir.version}, {layout})")
    lines += [f"warning: {w}" for w in adoption.warnings]
    if data_dir is not None:
        user = by_key["dbUser"].value if "dbUser" in by_key else "<user>"
        lines += [
            (
                f"warning: the legacy container was initialised with POSTGRES_USER={user}, so {user!r} is the "
                f"superuser of this data directory and it has no 'postgres' role: the stack must connect as "
                f"{NAMESPACE}:{ADMIN_USER_KEY}={user} with the same password (set below), and {user!r} stays "
                "both the admin and the application role (it owns the legacy tables)"
            ),
            (
                f"warning: stop the legacy PostgreSQL container ({', '.join(LEGACY_POSTGRES_NAMES)}) before "
                "`pulumi up`; two servers must never run on one data directory. Back the folder up first."
            ),
        ]
        if not data_dir.legacy_layout:
            lines.append(
                f"warning: {PG_VERSION_FILE} sits directly in {data_dir.mount}; the legacy layout mounts the "
                f"folder at {LEGACY_DATA_MOUNT} with PGDATA={LEGACY_DATA_MOUNT}/{LEGACY_PGDATA_SUBDIR}: check "
                "that the stack uses this folder as PGDATA itself, or it will initialise a new, empty cluster"
            )
        if (data_dir.pgdata / "postmaster.pid").exists():
            lines.append(
                "warning: postmaster.pid exists in the data directory: a server is running on it or was not "
                "shut down cleanly; stop the legacy container (docker stop) before `pulumi up`"
            )
        major = _image_major(postgres_image)
        if major is not None and data_dir.version.split(".")[0] != major:
            lines.append(
                f"warning: the data directory is PostgreSQL {data_dir.version} but {NAMESPACE}:postgresImage "
                f"is {postgres_image} (PostgreSQL {major}); PostgreSQL only starts a data directory of its "
                "own major version: set a matching image or pg_upgrade first"
            )
    return lines


# --- detection ---------------------------------------------------------------------


DockerFactory = Callable[[], Any]


def _default_docker_factory() -> Any:
    import docker  # imported late: only --detect needs the Docker SDK

    return docker.from_env()


def _docker_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, ImportError]  # ImportError: no Docker SDK installed
    try:
        from docker.errors import DockerException

        errors.append(DockerException)
    except ImportError:  # pragma: no cover - docker is a runtime dependency
        pass
    try:
        from requests.exceptions import RequestException

        errors.append(RequestException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _host_ports(ports: Mapping[str, Any] | None) -> list[tuple[int, str]]:
    """``(host_port, "host:port->container")`` pairs of a Docker port map."""
    out: list[tuple[int, str]] = []
    for container_port, bindings in (ports or {}).items():
        for binding in bindings or ():
            host_port = str(binding.get("HostPort") or "")
            if not host_port.isdigit():
                continue
            host_ip = binding.get("HostIp") or "0.0.0.0"
            text = f"{host_ip}:{host_port}->{container_port}"
            if (int(host_port), text) not in out:
                out.append((int(host_port), text))
    return out


def _mounts(attrs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(source, "kind source->destination")`` of each mount."""
    out = []
    for mount in attrs.get("Mounts") or ():
        kind = mount.get("Type", "mount")
        source = mount.get("Name") if kind == "volume" else mount.get("Source")
        out.append((str(source or ""), f"{kind} {source}->{mount.get('Destination')}"))
    return out


def detect_lines(
    cfg: HiveConfig,
    factory: DockerFactory = _default_docker_factory,
    data_dir: DataDir | None = None,
) -> list[str]:
    """Describe legacy and clashing containers; one line if Docker is unreachable."""
    errors = _docker_errors()
    try:
        client = factory()
        client.ping()
        containers = list(client.containers.list(all=True))
    except errors as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        return [f"detect: no reachable Docker engine ({first}); skipped container detection"]

    stack_names = {cfg.postgres_container_name} | {cfg.api_container_name(m) for m in cfg.mode_table}
    stack_ports: dict[int, str] = {}
    for mode in cfg.mode_table:
        ports = cfg.ports(mode)
        stack_ports.setdefault(ports.db, "the shared PostgreSQL (dbPort)")
        stack_ports.setdefault(ports.api, f"mode {mode.name}'s API")
    watched = (
        set(LEGACY_POSTGRES_NAMES) | {f"{LEGACY_PREFIX}-{m.api_container_suffix}" for m in MODES.values()} | stack_names
    )
    data_sources = {str(data_dir.mount), str(data_dir.pgdata)} if data_dir else set()

    lines: list[str] = []
    for container in containers:
        name = str(container.name).lstrip("/")
        attrs = getattr(container, "attrs", {}) or {}
        status = str(getattr(container, "status", "unknown"))
        published = _host_ports(getattr(container, "ports", None))
        configured = False
        if not published:  # a stopped container shows no ports; its bindings still clash on start
            published = _host_ports((attrs.get("HostConfig") or {}).get("PortBindings"))
            configured = bool(published)
        clashing_ports = [p for p, _ in published if p in stack_ports]
        if name not in watched and not clashing_ports:
            continue
        mounts = _mounts(attrs)
        port_text = ", ".join(t for _, t in published) or "none"
        if configured:
            port_text += " (when started)"
        lines.append(f"detect: {name} [{status}] ports: {port_text}")
        for _, text in mounts:
            lines.append(f"detect:   mount {text}")
        if name in stack_names:
            lines.append(
                f"detect:   CLASH: the stack creates a container named {name}; remove or rename this one "
                "(unless this stack created it)"
            )
        for port in clashing_ports:
            lines.append(
                f"detect:   CLASH: host port {port} is also {stack_ports[port]}; stop this container "
                "or change the stack's ports"
            )
        if data_sources and any(src in data_sources for src, _ in mounts):
            state = "is running on" if status == "running" else "uses"
            lines.append(f"detect:   {name} {state} the data directory being adopted: stop it before `pulumi up`")
    if not lines:
        lines.append("detect: no legacy hive container and no container on the stack's ports")
    return lines


# --- the command ---------------------------------------------------------------------


@dataclass
class Options:
    env_files: list[str]
    data_dir: str | None = None
    show_secrets: bool = False
    detect: bool = False
    stack: str | None = None
    print_secret: str | None = None


def _load(options: Options) -> tuple[Adoption, list[Setting], DataDir | None, HiveConfig]:
    labels = options.env_files or [DEFAULT_ENV_FILE]
    problems: list[str] = []
    files: list[LegacyFile] = []
    for label in labels:
        try:
            files.append(inspect_file(Path(label), label))
        except AdoptError as exc:
            problems.extend(exc.problems)
    if problems:
        raise AdoptError(problems)
    adoption = merge(files)
    if not any(f.has_anything for f in files):
        raise AdoptError(
            [
                *(f"warning: {w}" for w in adoption.warnings),
                (
                    f"nothing to adopt: {', '.join(labels)} hold neither {URL_KEY} (nor "
                    f"{USER_KEY}/{PASSWORD_KEY}) nor a usable {API_KEY_KEY}; plain `pulumi up` will do"
                ),
            ],
            code=EXIT_NOTHING,
        )
    data_dir = None
    if options.data_dir is not None:
        data_dir = check_data_dir(options.data_dir)
        if adoption.user is None or adoption.password is None:
            raise AdoptError(
                "--data-dir needs the legacy database user and password (the data directory's "
                f"superuser), but {', '.join(labels)} hold neither {URL_KEY} nor {USER_KEY}/{PASSWORD_KEY}"
            )
    settings = settings_for(adoption, data_dir)
    cfg = validate(settings)
    return adoption, settings, data_dir, cfg


def _secret_source(options: Options, program: Sequence[str]) -> list[str]:
    cmd = [*program, "adopt"]
    for label in options.env_files or [DEFAULT_ENV_FILE]:
        cmd += ["--env-file", str(Path(label).resolve())]
    return cmd


def default_program() -> list[str]:
    """How the printed lines call this command back: this very interpreter."""
    return [sys.executable or "python", "-m", "hive_infra"]


def run(
    options: Options,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    docker_factory: DockerFactory = _default_docker_factory,
    program: Sequence[str] | None = None,
) -> int:
    """Carry out ``adopt``; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    program = list(program) if program is not None else default_program()

    def say(lines: Iterable[str]) -> None:
        for line in lines:
            print(line, file=err)

    try:
        adoption, settings, data_dir, cfg = _load(options)
    except AdoptError as exc:
        prefix = "adopt: " if exc.code == EXIT_NOTHING else "adopt: error: "
        say(p if p.startswith("warning: ") else prefix + p for p in exc.problems)
        return exc.code

    if options.print_secret is not None:
        return _print_secret(options.print_secret, settings, adoption, out, err)

    say(summary_lines(adoption, settings, data_dir, cfg.postgres_image))
    if options.detect:
        say(detect_lines(cfg, docker_factory, data_dir))
    if options.show_secrets:
        note = (
            "note: --show-secrets prints secrets inline: they land in your shell history and, while "
            "pulumi runs, in its argument list; without it the lines pipe them instead"
        )
        say([note])
    say(["adopt: run these in the project folder, then `pulumi up`:"])
    source = _secret_source(options, program)
    for setting in settings:
        print(config_set_line(setting, options.stack, options.show_secrets, source), file=out)
    return EXIT_OK


def _print_secret(key: str, settings: Sequence[Setting], adoption: Adoption, out: TextIO, err: TextIO) -> int:
    # adminPassword is the legacy password whether or not --data-dir was given here.
    wanted = "dbPassword" if key == "adminPassword" else key
    setting = next((s for s in settings if s.key == wanted), None)
    if setting is None:
        print(f"adopt: no value for {NAMESPACE}:{key} in {', '.join(f.label for f in adoption.files)}", file=err)
        return EXIT_NOTHING
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        print(
            f"adopt: error: --print-secret writes a secret; pipe it into "
            f"`pulumi config set --secret {NAMESPACE}:{key}` instead of printing it on a terminal",
            file=err,
        )
        return EXIT_BAD_INPUT
    out.write(setting.value)  # no newline: the pipe carries the exact value
    out.flush()
    return EXIT_OK
