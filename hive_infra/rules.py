"""The rules config values must follow, as plain functions of plain values.

Floor 2 of the package (no Pulumi). A per-key check takes the parsed value
and yields messages; ``config.setting`` attaches checks to their key, and
``config.parse_config`` prefixes each message with the key's name. Rules that
relate several keys live in ``check_together``. Messages say what is wrong
and how to fix it, and never hold a secret value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hive_infra.layout import is_this_machine
from hive_infra.modes import MODE_NAMES, MODES
from hive_infra.placement import ISOLATIONS, database_name
from hive_infra.ports import MAX_PORT, MIN_PORT, mode_ports, port_in_range

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


#: Stands for the full key name (``hive:dbPassword``) in a check's message.
KEY = "{key}"


class Problems:
    """Every problem found, each as ``<namespace>:<key>: <message>``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        full = f"{self.namespace}:{key}"
        self.items.append(f"{full}: {message.replace(KEY, full)}")


# --- parsing raw strings ------------------------------------------------------------


def parse_int(raw: str, key: str, problems: Problems) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:
        problems.add(key, f"must be a whole number, got {raw!r}")
        return None


def parse_bool(raw: str, key: str, problems: Problems) -> bool | None:
    text = raw.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problems.add(key, f"must be true or false, got {raw!r}")
    return None


def parse_string_list(raw: str, key: str, problems: Problems) -> list[str] | None:
    example = f"pulumi config set --path '{problems.namespace}:{key}[0]' VALUE"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f"must be a list of strings (set items with `{example}`), got {raw!r}")
        return None
    return value


# --- one value ------------------------------------------------------------------------


def check_modes(modes: tuple[str, ...]) -> Iterator[str]:
    if not modes:
        yield f"is empty; list at least one of {', '.join(MODE_NAMES)}"
    seen: set[str] = set()
    for name in modes:
        if name not in MODES:
            yield f"unknown mode {name!r}; choose from {', '.join(MODE_NAMES)}"
        elif name in seen:
            yield f"lists {name!r} twice; list each mode once"
        seen.add(name)


def check_port(port: int) -> Iterator[str]:
    if not port_in_range(port):
        yield f"port {port} is outside {MIN_PORT}..{MAX_PORT}; choose a port in that range"


def identifier_problem(value: str) -> str | None:
    if IDENTIFIER.fullmatch(value):
        return None
    return (
        f"{value!r} is not a plain lower-case PostgreSQL identifier "
        "(letters a-z, digits and _, not starting with a digit, at most 63 characters)"
    )


def check_database_name(name: str) -> Iterator[str]:
    if (problem := identifier_problem(name)) is not None:
        yield problem
    if name in RESERVED_DATABASES:
        yield f"{name!r} is a PostgreSQL system database; choose another name"


def check_not_reserved_role(name: str) -> Iterator[str]:
    if name.startswith("pg_"):
        yield f"{name!r} is reserved by PostgreSQL; choose another name such as 'hive'"


def check_role_name(name: str) -> Iterator[str]:
    """A role that may exist already: either case, quoted wherever it is used."""
    if not EXISTING_ROLE.fullmatch(name):
        yield f"{name!r} is not a role name of letters, digits and _ (at most 63 characters)"


def placeholder_in(value: str) -> str | None:
    """The placeholder word ``value`` contains, if any (case-insensitive)."""
    lowered = value.lower()
    return next((word for word in PLACEHOLDER_WORDS if word in lowered), None)


def check_secret(min_length: int) -> Callable[[str], Iterator[str]]:
    """The rules every supplied secret follows; messages name the rule, never the value."""

    def check(value: str) -> Iterator[str]:
        if len(value) < min_length:
            yield (
                f"is {len(value)} characters; use at least {min_length}, "
                f"or unset it (`pulumi config rm {KEY}`) to have one generated"
            )
        word = placeholder_in(value)
        if word is not None:
            yield f"contains the placeholder word {word!r}; set a real secret or unset it to generate one"
        if "${" in value:
            yield "contains '${', which python-dotenv would expand in the .env files; choose another value"
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            yield "contains a control character; choose another value"

    return check


def check_no_backslash(password: str) -> Iterator[str]:
    # The provider writes CREATE ROLE ... PASSWORD '...' without E'' escaping:
    # the server would store the backslash doubled and the login would fail.
    if "\\" in password:
        yield "contains a backslash, which the postgresql provider mangles; choose another value"


def check_api_key_chars(base: str) -> Iterator[str]:
    if not API_KEY_BASE_CHARS.fullmatch(base):
        yield "may hold only letters, digits, '-' and '_' (it is sent in HTTP headers)"


def check_not_empty(fix: str) -> Callable[[str], Iterator[str]]:
    def check(value: str) -> Iterator[str]:
        if not value:
            yield f"is empty; {fix}"

    return check


check_image = check_not_empty("name a Docker image such as the default")


def check_url_path(value: str) -> Iterator[str]:
    """An absolute URL path (``/health``), put after ``http://host:port`` as it is."""
    if not value.startswith("/"):
        yield f"{value!r} must start with '/', such as /api/v1/health or /health"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        yield "contains a blank or a control character; percent-encode it"


def check_ip_address(value: str) -> Iterator[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        yield f"{value!r} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"


def check_docker_prefix(value: str) -> Iterator[str]:
    if not DOCKER_NAME.fullmatch(value):
        yield (
            f"{value!r} is not a valid Docker name prefix "
            "(a letter or digit, then letters, digits, '_', '.' or '-', at most 41 characters)"
        )


def check_extensions(names: tuple[str, ...]) -> Iterator[str]:
    for name in names:
        if not EXTENSION_NAME.fullmatch(name):
            yield f"{name!r} is not a PostgreSQL extension name (lower-case, digits, '_' or '-')"
    if len(set(names)) != len(names):
        yield "lists an extension twice; list each once"


def check_isolation(isolation: str) -> Iterator[str]:
    if isolation not in ISOLATIONS:
        yield f"{isolation!r} is not an isolation; use {' or '.join(ISOLATIONS)}"


def check_postgres_mode(mode: str) -> Iterator[str]:
    if mode not in POSTGRES_MODES:
        yield f"{mode!r} is not a mode; use {' or '.join(POSTGRES_MODES)}"


def check_ssl_mode(mode: str) -> Iterator[str]:
    if mode not in SSL_MODES:
        yield f"{mode!r} is not a libpq sslmode; use one of {', '.join(SSL_MODES)}"


# --- several values ---------------------------------------------------------------------


def superuser_login(data_path: str | None, db_user: str, admin_user: str) -> bool:
    """The one case where dbUser may be the admin: a legacy data folder
    initialised with the application's user as its superuser."""
    return data_path is not None and db_user == admin_user


def check_together(values: Mapping[str, Any], problems: Problems) -> None:
    """The rules that relate keys; ``values`` maps key names to parsed values
    (None where a key is unset or failed to parse)."""
    _check_derived_ports(values, problems)
    _check_derived_databases(values, problems)
    _check_roles(values, problems)
    mode = values["postgresMode"]
    if mode == CONTAINER_MODE:
        _check_container_mode(values, problems)
    elif mode == EXTERNAL_MODE:
        _check_external_mode(values, problems)


def _check_derived_ports(values: Mapping[str, Any], problems: Problems) -> None:
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


def _check_derived_databases(values: Mapping[str, Any], problems: Problems) -> None:
    """Every mode's own database name (``<database>_<mode>``) is a plain identifier too."""
    modes, base, isolation = values["modes"], values["database"], values["isolation"]
    if modes is None or isolation not in ISOLATIONS or identifier_problem(base) is not None:
        return
    for name in dict.fromkeys(modes):
        mode = MODES.get(name)
        if mode is None:
            continue
        derived = database_name(base, mode, isolation)
        if derived != base and identifier_problem(derived) is not None:
            problems.add(
                "database",
                f"gives mode {name} the database {derived!r}, longer than PostgreSQL's 63 characters; "
                f"use a base name of at most {63 - len(mode.database_suffix)} characters",
            )


def _check_roles(values: Mapping[str, Any], problems: Problems) -> None:
    user = values["dbUser"]
    existing_login = values["adoptDatabase"] or superuser_login(values["dataPath"], user, values["adminUser"])
    if existing_login:
        for message in check_role_name(user):
            problems.add("dbUser", message)
    elif (problem := identifier_problem(user)) is not None:
        problems.add("dbUser", problem)
    if values["adoptDatabase"] and values["dbPassword"] is None:
        problems.add("dbPassword", "is required with hive:adoptDatabase (the existing role's current password)")
    if user == values["adminUser"] and not superuser_login(values["dataPath"], user, values["adminUser"]):
        # Allowed only for a legacy data folder, whose superuser is the app's login.
        problems.add(
            "dbUser",
            f"{user!r} is also the admin (hive:adminUser); the application's role must not be the superuser "
            "(only a legacy hive:dataPath may keep its superuser as the login)",
        )


def _check_container_mode(values: Mapping[str, Any], problems: Problems) -> None:
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
        superuser_login(data_path, values["dbUser"], values["adminUser"])
        and values["dbPassword"] != values["adminPassword"]
    ):
        problems.add(
            "dbPassword",
            "must equal hive:adminPassword when hive:dbUser is the data folder's superuser (one login, one password)",
        )


def _check_external_mode(values: Mapping[str, Any], problems: Problems) -> None:
    host = values["postgresHost"]
    if not host:
        problems.add("postgresHost", "is required with postgresMode=external; set it to the server's host name")
    elif values["apiContainers"] and is_this_machine(host):
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
