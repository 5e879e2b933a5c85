"""The rules config values must follow, as plain functions of plain values.

No Pulumi here. A per-key check takes the parsed value
and yields messages; ``config.setting`` attaches checks to their key, and
``config.parse_config`` prefixes each message with the key's name. Rules that
relate several keys live in ``cross_rules.check_together``; ``superuser_login``, the
one relation ``HiveConfig`` needs too, lives here, below both. Messages say what is
wrong and how to fix it, and never hold a secret value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator

from hive_infra.core.modes import MODE_NAMES, MODES
from hive_infra.core.placement import ISOLATIONS, POSTGRES_MODES
from hive_infra.core.platform import DNS_LABEL, PLATFORMS, QUANTITY, REGISTRY
from hive_infra.core.ports import MAX_PORT, MIN_PORT, port_in_range

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
#: Role names PostgreSQL refuses even quoted (CREATE ROLE "public" fails).
RESERVED_ROLES = frozenset({"public", "none", "current_user", "session_user", "current_role"})
#: sslmodes that insist on TLS, which the local container does not speak.
TLS_SSL_MODES = ("require", "verify-ca", "verify-full")
#: A host name: dot-separated labels of letters, digits, '-' and '_' (Docker
#: service names hold underscores), at most 253 characters, a trailing dot allowed.
_HOST_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}\.?\Z){_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
#: A Docker image reference, as docker/distribution's reference grammar has it:
#: [registry[:port]/]path[:tag][@digest], path components lower-case.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
#: A registry: a name with a dot, localhost, an IPv6 literal, or any of these or a bare name with a port.
_DOMAIN = rf"(?:(?:{_LABEL}(?:\.{_LABEL})+|localhost|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?|{_LABEL}:[0-9]+)"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?"
)
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


#: Bounds of apiHealthTimeout, in seconds.
MIN_HEALTH_TIMEOUT, MAX_HEALTH_TIMEOUT = 10, 3600


def check_health_timeout(seconds: int) -> Iterator[str]:
    if not MIN_HEALTH_TIMEOUT <= seconds <= MAX_HEALTH_TIMEOUT:
        yield f"{seconds} s is outside {MIN_HEALTH_TIMEOUT}..{MAX_HEALTH_TIMEOUT}; choose seconds in that range"


#: A PEP 440 public version (what PyPI serves, and what a Docker tag can carry: no local ``+...``).
APP_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?")


def check_app_version(version: str) -> Iterator[str]:
    if not APP_VERSION.fullmatch(version):
        yield (
            f"{version!r} is not a release version of automagik-hive on PyPI (such as 1.0.0rc7 or 1.0.0; "
            "no '==', no local '+...' part)"
        )


def check_project_dir(path: str) -> Iterator[str]:
    """A folder path, where ``{mode}`` is the one placeholder."""
    yield from check_env_dir(path)
    rest = path.replace("{mode}", "")
    if "{" in rest or "}" in rest:
        yield f"{path!r}: {{mode}} is the only placeholder (the mode's name); remove the other braces"


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
    if name.startswith("pg_") or name.lower() in RESERVED_ROLES:
        yield f"{name!r} is reserved by PostgreSQL; choose another name such as 'hive'"


def superuser_login(data_path: str | None, db_user: str | None, admin_user: str | None) -> bool:
    """The one case where dbUser may be the admin: a legacy data folder
    initialised with the application's user as its superuser."""
    return data_path is not None and db_user is not None and db_user == admin_user


def check_role_name(name: str) -> Iterator[str]:
    """A role that may exist already: either case, quoted wherever it is used."""
    if not EXISTING_ROLE.fullmatch(name):
        yield f"{name!r} is not a role name of letters, digits and _ (at most 63 characters)"


def check_admin_role(name: str) -> Iterator[str]:
    yield from check_role_name(name)
    yield from check_not_reserved_role(name)


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


def check_image(reference: str) -> Iterator[str]:
    if not reference:
        yield "is empty; name a Docker image such as the default"
    elif not IMAGE_REFERENCE.fullmatch(reference):
        yield (
            f"{reference!r} is not a Docker image reference "
            "([registry[:port]/]name[:tag][@sha256:digest], the name in lower case)"
        )


def check_url_path(value: str) -> Iterator[str]:
    """An absolute URL path (``/health``), put after ``http://host:port`` as it is."""
    if not value.startswith("/"):
        yield f"{value!r} must start with '/', such as /api/v1/health or /health"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        yield "contains a blank or a control character; percent-encode it"


def check_ip_address(value: str) -> Iterator[str]:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        yield f"{value!r} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"
        return
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        yield f"{value!r} names an IPv6 zone, on which Docker cannot publish ports; use an address without '%'"


def check_host(host: str) -> Iterator[str]:
    """A host name or IP address and nothing more (no port, user or path)."""
    if host.startswith("[") or host.endswith("]"):
        yield f"{host!r}: write an IPv6 address without brackets (e.g. ::1)"
    elif ":" in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            yield f"{host!r} is not a host name or IP address; put the port in hive:dbPort, not in the host"
    elif HOST_NAME.fullmatch(host) is None:
        yield (
            f"{host!r} is not a host name or IP address (letters, digits, '.', '-' and '_'; "
            "no spaces, '@', '/', '?' or '#')"
        )


def check_env_dir(path: str) -> Iterator[str]:
    if not path:
        yield "is empty; use '.' for the project folder or a path"
    elif path.startswith("~"):
        yield f"{path!r} starts with '~', which nothing expands here; write the absolute path (e.g. /home/me/hive)"


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


def check_platform(platform: str) -> Iterator[str]:
    if platform not in PLATFORMS:
        yield f"{platform!r} is not a platform; use {' or '.join(PLATFORMS)}"


def check_kube_namespace(name: str) -> Iterator[str]:
    if not DNS_LABEL.fullmatch(name):
        yield f"{name!r} is not a Kubernetes namespace (lower-case letters, digits and '-', at most 63)"


def check_replicas(count: int) -> Iterator[str]:
    if not 1 <= count <= 20:
        yield f"{count} is not a number of replicas from 1 to 20"


def check_quantity(value: str) -> Iterator[str]:
    if not QUANTITY.fullmatch(value):
        yield f"{value!r} is not a Kubernetes quantity (such as 250m, 1, 512Mi, 2Gi)"


def check_registry(value: str) -> Iterator[str]:
    if not REGISTRY.fullmatch(value):
        yield f"{value!r} is not a registry (host[:port][/path], such as registry.example.com/team)"


#: A domain name the modes' hosts are made under (lower-case, no trailing dot, no wildcard).
DOMAIN = re.compile(r"(?=.{1,200}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+")
#: A Kubernetes object's name (a DNS subdomain): an IngressClass's, a Secret's.
OBJECT_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


def check_ingress_domain(value: str) -> Iterator[str]:
    if not DOMAIN.fullmatch(value):
        yield (
            f"{value!r} is not a domain the modes' hosts are made under (lower-case, with a dot, such as "
            "hive.example.com: the modes are served at <service>.hive.example.com)"
        )


def check_object_name(value: str) -> Iterator[str]:
    if not OBJECT_NAME.fullmatch(value):
        yield f"{value!r} is not a Kubernetes object name (lower-case letters, digits, '-' and '.')"


def check_cidr(value: str) -> Iterator[str]:
    """An address or a network (a NetworkPolicy's ipBlock takes no DNS name)."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        yield (
            f"{value!r} is not an IP address or CIDR (such as 10.20.0.5 or 10.20.0.0/24; a policy cannot name a DNS "
            "host: use the address the PostgreSQL host resolves to from the cluster)"
        )
