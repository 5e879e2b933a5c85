"""The stack's configuration: defaults, parsing and validation, in one place.

``parse_config`` is pure: it takes the raw strings Pulumi hands a program
(arrays as JSON, booleans as ``true``/``false``) and returns a validated
``HiveConfig`` or raises one ``ConfigError`` listing every problem, each
naming its key and the fix. ``load_config`` only reads ``pulumi.Config``
and calls it, before any resource exists.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from hive_infra.modes import MODE_NAMES, MODES, Mode
from hive_infra.ports import MAX_PORT, MIN_PORT, ModePorts, mode_ports, port_in_range

NAMESPACE = "hive"

#: Plain lower-case PostgreSQL identifiers (no quoting needed anywhere).
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: A role that exists already (the legacy installer made mixed-case names):
#: letters of either case, digits and _, quoted wherever the provider uses it.
EXISTING_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
#: Extension names may also hold hyphens (``uuid-ossp``).
EXTENSION_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
#: What Docker accepts at the start of a container, network or volume name.
DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}")
API_KEY_BASE_CHARS = re.compile(r"[A-Za-z0-9_-]+")

#: Words that mark a copied template value rather than a real secret.
PLACEHOLDER_WORDS: tuple[str, ...] = (
    "your-password",
    "change-me",
    "placeholder",
    "example",
    "template",
    "replace-this",
    "your-secure-password-here",
    "your-hive-api-key-here",
)
MIN_SECRET_LENGTH = 16
#: hive rejects an API key of 37 characters or fewer; the shortest key is
#: ``hive_<base>``, so the base needs at least 33.
MIN_API_KEY_BASE_LENGTH = 33
RESERVED_DATABASES = frozenset({"postgres", "template0", "template1"})
CONTAINER_MODE = "container"
EXTERNAL_MODE = "external"
POSTGRES_MODES = (CONTAINER_MODE, EXTERNAL_MODE)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: sslMode when unset: the local container speaks no TLS; a server elsewhere must.
DEFAULT_SSL_MODE = {CONTAINER_MODE: "disable", EXTERNAL_MODE: "require"}
LOOPBACK_HOSTS = ("localhost", "::1")


class ConfigError(pulumi.RunError):
    """Invalid configuration; the message lists every problem (never a secret)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid {NAMESPACE} configuration ({count} {noun}):\n{body}")


@dataclass(frozen=True)
class ConfigKey:
    """One key of the ``hive`` namespace, as Pulumi.yaml declares it."""

    name: str
    type: str  # Pulumi.yaml type: string, integer, boolean, array
    default: Any  # None: no default (the value is generated)
    secret: bool = False


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("modes", "array", list(MODE_NAMES)),
    ConfigKey("dbPort", "integer", 5532),
    ConfigKey("apiPort", "integer", 8886),
    ConfigKey("database", "string", "hive"),
    ConfigKey("dbUser", "string", "hive"),
    ConfigKey("dbPassword", "string", None, secret=True),
    ConfigKey("adminPassword", "string", None, secret=True),
    ConfigKey("apiKeyBase", "string", None, secret=True),
    ConfigKey("postgresImage", "string", "agnohq/pgvector:16"),
    ConfigKey("apiImage", "string", "ghcr.io/namastexlabs/automagik-hive:latest"),
    ConfigKey("apiContainers", "boolean", True),
    ConfigKey("bindAddress", "string", "127.0.0.1"),
    ConfigKey("namePrefix", "string", "hive"),
    ConfigKey("extensions", "array", ["vector"]),
    ConfigKey("protectData", "boolean", False),
    ConfigKey("envDir", "string", "."),
    ConfigKey("postgresMode", "string", "container"),
    ConfigKey("postgresHost", "string", None),
    ConfigKey("adminUser", "string", "postgres"),
    ConfigKey("sslMode", "string", None),
    ConfigKey("dataPath", "string", None),
    ConfigKey("dropSchemasOnDestroy", "boolean", False),
    ConfigKey("adoptDatabase", "boolean", False),
)
KEYS_BY_NAME: Mapping[str, ConfigKey] = {k.name: k for k in CONFIG_KEYS}


def _secret_field() -> Any:
    return field(default=None, repr=False)


@dataclass(frozen=True)
class HiveConfig:
    """The validated configuration. Secrets are ``None`` when to be generated."""

    modes: tuple[str, ...] = tuple(MODE_NAMES)
    db_port: int = 5532
    api_port: int = 8886
    database: str = "hive"
    db_user: str = "hive"
    db_password: str | None = _secret_field()
    admin_password: str | None = _secret_field()
    api_key_base: str | None = _secret_field()
    postgres_image: str = "agnohq/pgvector:16"
    api_image: str = "ghcr.io/namastexlabs/automagik-hive:latest"
    api_containers: bool = True
    bind_address: str = "127.0.0.1"
    name_prefix: str = "hive"
    extensions: tuple[str, ...] = ("vector",)
    protect_data: bool = False
    env_dir: str = "."
    postgres_mode: str = CONTAINER_MODE
    postgres_host: str | None = None
    admin_user: str = "postgres"
    ssl_mode: str = "disable"
    data_path: str | None = None
    drop_schemas_on_destroy: bool = False
    adopt_database: bool = False

    @property
    def legacy_superuser_login(self) -> bool:
        """A legacy data folder whose superuser is the app's login."""
        return _superuser_login(self.data_path, self.db_user, self.admin_user)

    @property
    def manages_role_and_database(self) -> bool:
        """False where dbUser and the database exist already (``adoptDatabase``,
        or a legacy data folder's superuser login): they are not the stack's to
        create, alter or drop."""
        return not (self.adopt_database or self.legacy_superuser_login)

    @property
    def external(self) -> bool:
        return self.postgres_mode == EXTERNAL_MODE

    @property
    def mode_table(self) -> tuple[Mode, ...]:
        return tuple(MODES[name] for name in self.modes)

    def ports(self, mode: Mode) -> ModePorts:
        return mode_ports(mode, self.db_port, self.api_port)

    def own_schemas(self) -> tuple[str, ...]:
        """Schemas the stack creates: one per selected mode that is not public."""
        return tuple(m.schema for m in self.mode_table if not m.uses_public_schema)

    @property
    def postgres_container_name(self) -> str:
        return f"{self.name_prefix}-postgres-shared"

    def api_container_name(self, mode: Mode) -> str:
        return f"{self.name_prefix}-{mode.api_container_suffix}"


def _superuser_login(data_path: str | None, db_user: str, admin_user: str) -> bool:
    """The one case where dbUser may be the admin: a legacy data folder
    initialised with the application's user as its superuser."""
    return data_path is not None and db_user == admin_user


# --- parsing ---------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{NAMESPACE}:{key}: {message}")


def _parse_int(raw: str, key: str, problems: _Problems) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        problems.add(key, f"must be a whole number, got {raw!r}")
        return None


def _parse_bool(raw: str, key: str, problems: _Problems) -> bool | None:
    text = raw.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problems.add(key, f"must be true or false, got {raw!r}")
    return None


def _parse_string_list(raw: str, key: str, problems: _Problems) -> list[str] | None:
    example = f"pulumi config set --path '{NAMESPACE}:{key}[0]' VALUE"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        problems.add(key, f"must be a list of strings (set items with `{example}`), got {raw!r}")
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f"must be a list of strings (set items with `{example}`), got {raw!r}")
        return None
    return value


def _check_port(port: int, key: str, what: str, problems: _Problems) -> None:
    if not port_in_range(port):
        problems.add(key, f"{what} {port} is outside {MIN_PORT}..{MAX_PORT}; choose a port in that range")


def _check_identifier(value: str, key: str, problems: _Problems) -> None:
    if not IDENTIFIER.fullmatch(value):
        problems.add(
            key,
            f"{value!r} is not a plain lower-case PostgreSQL identifier "
            "(letters a-z, digits and _, not starting with a digit, at most 63 characters)",
        )


def _check_role_name(value: str, key: str, problems: _Problems) -> None:
    """A role that may exist already: either case, quoted wherever it is used."""
    if not EXISTING_ROLE.fullmatch(value):
        problems.add(key, f"{value!r} is not a role name of letters, digits and _ (at most 63 characters)")


def placeholder_in(value: str) -> str | None:
    """The placeholder word ``value`` contains, if any (case-insensitive)."""
    lowered = value.lower()
    return next((word for word in PLACEHOLDER_WORDS if word in lowered), None)


def _check_secret(value: str, key: str, min_length: int, problems: _Problems) -> None:
    # Messages name the key and the rule, never the value.
    if len(value) < min_length:
        problems.add(
            key,
            f"is {len(value)} characters; use at least {min_length}, "
            f"or unset it (`pulumi config rm {NAMESPACE}:{key}`) to have one generated",
        )
    word = placeholder_in(value)
    if word is not None:
        problems.add(key, f"contains the placeholder word {word!r}; set a real secret or unset it to generate one")
    if "${" in value:
        problems.add(key, "contains '${', which python-dotenv would expand in the .env files; choose another value")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        problems.add(key, "contains a control character; choose another value")


def parse_config(raw: Mapping[str, str], known_keys: Sequence[str] = ()) -> HiveConfig:
    """Build a validated ``HiveConfig`` from raw Pulumi config strings.

    ``raw`` maps key names without the namespace (``dbPort``) to the strings
    Pulumi stores; a missing key takes its default. ``known_keys`` lists every
    key set in the namespace, so that a misspelt key is reported instead of
    silently ignored.
    """
    problems = _Problems()
    for key in known_keys:
        if key not in KEYS_BY_NAME:
            close = difflib.get_close_matches(key, list(KEYS_BY_NAME), n=1)
            hint = f"did you mean {NAMESPACE}:{close[0]}?" if close else "see the README for the keys"
            problems.add(key, f"is not a setting of this program; {hint}")

    values: dict[str, Any] = {}
    for spec in CONFIG_KEYS:
        text = raw.get(spec.name)
        if text is None:
            values[spec.name] = spec.default
            continue
        parsed: Any
        if spec.type == "integer":
            parsed = _parse_int(text, spec.name, problems)
        elif spec.type == "boolean":
            parsed = _parse_bool(text, spec.name, problems)
        elif spec.type == "array":
            parsed = _parse_string_list(text, spec.name, problems)
        else:
            parsed = text
        values[spec.name] = parsed

    _validate(values, problems)
    if problems.items:
        raise ConfigError(problems.items)
    return HiveConfig(
        modes=tuple(values["modes"]),
        db_port=values["dbPort"],
        api_port=values["apiPort"],
        database=values["database"],
        db_user=values["dbUser"],
        db_password=values["dbPassword"],
        admin_password=values["adminPassword"],
        api_key_base=values["apiKeyBase"],
        postgres_image=values["postgresImage"].strip(),
        api_image=values["apiImage"].strip(),
        api_containers=values["apiContainers"],
        bind_address=values["bindAddress"].strip(),
        name_prefix=values["namePrefix"],
        extensions=tuple(values["extensions"]),
        protect_data=values["protectData"],
        env_dir=values["envDir"],
        postgres_mode=values["postgresMode"],
        postgres_host=values["postgresHost"],
        admin_user=values["adminUser"],
        ssl_mode=values["sslMode"] or DEFAULT_SSL_MODE[values["postgresMode"]],
        data_path=values["dataPath"],
        drop_schemas_on_destroy=values["dropSchemasOnDestroy"],
        adopt_database=values["adoptDatabase"],
    )


def _validate(values: dict[str, Any], problems: _Problems) -> None:
    modes = values["modes"]
    if modes is not None:
        if not modes:
            problems.add("modes", f"is empty; list at least one of {', '.join(MODE_NAMES)}")
        for name in modes:
            if name not in MODES:
                problems.add("modes", f"unknown mode {name!r}; choose from {', '.join(MODE_NAMES)}")
        seen: set[str] = set()
        for name in modes:
            if name in seen:
                problems.add("modes", f"lists {name!r} twice; list each mode once")
            seen.add(name)

    for key in ("dbPort", "apiPort"):
        if values[key] is not None:
            _check_port(values[key], key, "port", problems)
    _validate_derived_ports(values, problems)

    user = values["dbUser"]
    superuser_login = _superuser_login(values["dataPath"], user, values["adminUser"])
    _check_identifier(values["database"], "database", problems)
    if values["adoptDatabase"] or superuser_login:
        _check_role_name(user, "dbUser", problems)
    else:
        _check_identifier(user, "dbUser", problems)
    if values["adoptDatabase"] and values["dbPassword"] is None:
        problems.add("dbPassword", "is required with hive:adoptDatabase (the existing role's current password)")
    if values["database"] in RESERVED_DATABASES:
        problems.add("database", f"{values['database']!r} is a PostgreSQL system database; choose another name")
    if user.startswith("pg_"):
        problems.add("dbUser", f"{user!r} is reserved by PostgreSQL; choose another name such as 'hive'")
    if user == values["adminUser"] and not superuser_login:
        # Allowed only for a legacy data folder, whose superuser is the app's login.
        problems.add(
            "dbUser",
            f"{user!r} is also the admin (hive:adminUser); the application's role must not be the superuser "
            "(only a legacy hive:dataPath may keep its superuser as the login)",
        )
    _check_role_name(values["adminUser"], "adminUser", problems)
    for mode in MODES.values():
        if not mode.uses_public_schema:
            _check_identifier(mode.schema, "modes", problems)

    for key, min_length in (
        ("dbPassword", MIN_SECRET_LENGTH),
        ("adminPassword", MIN_SECRET_LENGTH),
        ("apiKeyBase", MIN_API_KEY_BASE_LENGTH),
    ):
        if values[key] is not None:
            _check_secret(values[key], key, min_length, problems)
    password = values["dbPassword"]
    if password is not None and "\\" in password:
        # The provider writes CREATE ROLE ... PASSWORD '...' without E'' escaping:
        # the server would store the backslash doubled and the login would fail.
        problems.add("dbPassword", "contains a backslash, which the postgresql provider mangles; choose another value")
    base = values["apiKeyBase"]
    if base is not None and not API_KEY_BASE_CHARS.fullmatch(base):
        problems.add("apiKeyBase", "may hold only letters, digits, '-' and '_' (it is sent in HTTP headers)")

    for key in ("postgresImage", "apiImage"):
        if not values[key].strip():
            problems.add(key, "is empty; name a Docker image such as the default")
    try:
        ipaddress.ip_address(values["bindAddress"].strip())
    except ValueError:
        problems.add("bindAddress", f"{values['bindAddress']!r} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0")
    if not DOCKER_NAME.fullmatch(values["namePrefix"]):
        problems.add(
            "namePrefix",
            f"{values['namePrefix']!r} is not a valid Docker name prefix "
            "(a letter or digit, then letters, digits, '_', '.' or '-', at most 41 characters)",
        )
    extensions = values["extensions"]
    if extensions is not None:
        for name in extensions:
            if not EXTENSION_NAME.fullmatch(name):
                problems.add(
                    "extensions", f"{name!r} is not a PostgreSQL extension name (lower-case, digits, '_' or '-')"
                )
        if len(set(extensions)) != len(extensions):
            problems.add("extensions", "lists an extension twice; list each once")
    if not values["envDir"].strip():
        problems.add("envDir", "is empty; use '.' for the project folder or a path")
    _validate_server(values, problems)


def _validate_server(values: dict[str, Any], problems: _Problems) -> None:
    """postgresMode and the keys that belong to one mode or the other."""
    mode = values["postgresMode"]
    if mode not in POSTGRES_MODES:
        problems.add("postgresMode", f"{mode!r} is not a mode; use {' or '.join(POSTGRES_MODES)}")
        return
    ssl_mode = values["sslMode"]
    if ssl_mode is not None and ssl_mode not in SSL_MODES:
        problems.add("sslMode", f"{ssl_mode!r} is not a libpq sslmode; use one of {', '.join(SSL_MODES)}")
    host = values["postgresHost"]
    if mode == CONTAINER_MODE:
        for key in ("postgresHost", "dropSchemasOnDestroy"):
            if values[key] not in (None, False):
                problems.add(key, "applies only with postgresMode=external; unset it or set hive:postgresMode external")
        data_path = values["dataPath"]
        if data_path is None:
            return
        if not data_path.startswith("/"):
            problems.add("dataPath", f"{data_path!r} must be an absolute path (Docker bind-mounts absolute paths only)")
        # Existing data keeps the logins it was initialised with: nothing generated can match them.
        if values["adminPassword"] is None:
            problems.add("adminPassword", "is required with hive:dataPath (the data folder's superuser password)")
        if (
            _superuser_login(data_path, values["dbUser"], values["adminUser"])
            and values["dbPassword"] != values["adminPassword"]
        ):
            problems.add(
                "dbPassword",
                "must equal hive:adminPassword when hive:dbUser is the data folder's superuser "
                "(one login, one password)",
            )
        return
    if not host or not host.strip():
        problems.add("postgresHost", "is required with postgresMode=external; set it to the server's host name")
    elif values["apiContainers"] and (host in LOOPBACK_HOSTS or host.startswith("127.")):
        problems.add(
            "postgresHost",
            f"{host!r} is this machine's loopback, which API containers cannot reach; use an address they can "
            "reach (e.g. host.docker.internal) or set hive:apiContainers false",
        )
    if values["adminPassword"] is None:
        problems.add("adminPassword", "is required with postgresMode=external (the admin login of that server)")
    if values["dataPath"] is not None:
        problems.add("dataPath", "applies only with postgresMode=container; unset it")
    if values["protectData"]:
        problems.add("protectData", "applies only with postgresMode=container (it protects the data volume)")


def _validate_derived_ports(values: dict[str, Any], problems: _Problems) -> None:
    modes, db_port, api_port = values["modes"], values["dbPort"], values["apiPort"]
    if modes is None or db_port is None or api_port is None:
        return
    if not (port_in_range(db_port) and port_in_range(api_port)):
        return
    owners: dict[int, str] = {db_port: "the database (dbPort)"}
    for name in dict.fromkeys(modes):
        mode = MODES.get(name)
        if mode is None:
            continue
        port = mode_ports(mode, db_port, api_port).api
        if not port_in_range(port):
            problems.add(
                "apiPort",
                f"gives mode {name} the API port {port} ({mode.port_prefix!r} + {api_port}), outside "
                f"{MIN_PORT}..{MAX_PORT}; choose a base API port of at most 4 digits, such as 8886",
            )
            continue
        if port in owners:
            problems.add(
                "apiPort" if owners[port] != "the database (dbPort)" else "dbPort",
                f"mode {name}'s API port {port} collides with {owners[port]}; change dbPort or apiPort",
            )
        owners.setdefault(port, f"mode {name}'s API port")


def load_config(
    config: pulumi.Config | None = None,
    all_keys: Callable[[], Sequence[str]] | None = None,
) -> HiveConfig:
    """Read the ``hive`` namespace from Pulumi and validate it (no resource is touched)."""
    config = config or pulumi.Config(NAMESPACE)
    raw = {spec.name: value for spec in CONFIG_KEYS if (value := config.get(spec.name)) is not None}
    known = (all_keys or _namespace_keys)()
    return parse_config(raw, known)


def _namespace_keys() -> list[str]:
    """Every key set in the namespace, as the language host handed them over."""
    from pulumi.runtime.config import CONFIG, get_config_env

    prefix = f"{NAMESPACE}:"
    full_keys = {*get_config_env(), *CONFIG.get()}
    # `pulumi config set --path hive:modes[0]` stores `hive:modes`; keep the base name only.
    return sorted({key[len(prefix) :].split("[")[0].split(".")[0] for key in full_keys if key.startswith(prefix)})
