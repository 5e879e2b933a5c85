"""Reading a legacy install's .env files: credentials, database, port and API key.

The legacy install kept one PostgreSQL user and password and one API key base
for every mode in ``.env``, ``.env.agent`` and ``.env.genie``. ``inspect_file``
reads one file as python-dotenv reads it; ``merge`` checks that several files
agree on what every mode shares and picks one value of each. Messages name the
key and the file, never a secret value.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from hive_infra.config.rules import placeholder_in
from hive_infra.core.dotenv_text import statement_line
from hive_infra.core.errors import CommandError
from hive_infra.core.modes import MODES, Mode
from hive_infra.core.rendering import API_KEY_PREFIX, LIBPQ_DEFAULT_PORT, DbUrl, api_key, parse_database_url

URL_KEY = "HIVE_DATABASE_URL"
USER_KEY = "POSTGRES_USER"
PASSWORD_KEY = "POSTGRES_PASSWORD"
DB_KEY = "POSTGRES_DB"
PORT_KEY = "POSTGRES_PORT"
API_KEY_KEY = "HIVE_API_KEY"


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

    @property
    def base_database(self) -> Found | None:
        """The base name ``hive:database`` takes from this file: its database
        without the mode's suffix (a legacy agent file names ``hive_agent``)."""
        mode, database = self.mode, self.database
        if database is None or mode is None or not mode.database_suffix:
            return database
        base = database.value.removesuffix(mode.database_suffix)
        return Found(base, database.file, database.key) if base else database

    @property
    def shares_the_base_database(self) -> bool:
        """An agent or genie file that names the base database itself: the
        install kept that mode's rows in the workspace's database."""
        mode, database = self.mode, self.database
        return bool(mode and mode.database_suffix and database and not database.value.endswith(mode.database_suffix))


def _mode_of_file_name(path: Path) -> Mode | None:
    return next((m for m in MODES.values() if m.env_file == path.name), None)


def read_env(path: Path, label: str) -> dict[str, str]:
    """The non-empty values of a .env file, read as python-dotenv reads it."""
    if not path.exists():
        raise CommandError(f"{label}: no such file; pass the legacy .env with --env-file PATH")
    if not path.is_file():
        raise CommandError(f"{label}: is not a file; pass the legacy .env with --env-file PATH")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{label}: is not UTF-8 text, so it cannot be a .env file") from None
    except OSError as exc:
        raise CommandError(f"{label}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    # python-dotenv skips lines it cannot parse; a skipped HIVE_DATABASE_URL would
    # silently turn into "nothing to adopt", so name such lines (never their text).
    bad = [statement_line(b) for b in parse_stream(io.StringIO(text)) if b.error]
    if bad:
        lines = ", ".join(str(n) for n in bad)
        raise CommandError(
            f"{label}: line {lines} cannot be parsed as KEY=value "
            "(python-dotenv skips it); fix or remove it and run adopt again"
        )
    values = dotenv_values(stream=io.StringIO(text))
    return {key: value for key, value in values.items() if value is not None and value.strip() != ""}


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


def _placeholder_problem(item: Found | None, what: str) -> str | None:
    """A problem when ``item`` holds a template value such as ``change-me``."""
    word = None if item is None else placeholder_in(item.value)
    if item is None or word is None:
        return None
    return (
        f"{item.where}: the {what} contains the placeholder word {word!r}, so it is a "
        "template value, not a real one; put the real value in the file or remove the key"
    )


def _read_credentials(values: Mapping[str, str], found: LegacyFile, problems: list[str]) -> None:
    """User, password, host, database and port: from the URL the application
    connects with, else from the POSTGRES_* keys."""
    label = found.label

    def get(key: str) -> Found | None:
        return Found(values[key], label, key) if key in values else None

    url = get(URL_KEY)
    parsed: DbUrl | None = None
    if url is not None:
        try:
            parsed = parse_database_url(url.value, url.where)
        except CommandError as exc:
            problems.extend(exc.problems)
    url_user = Found(parsed.user, label, URL_KEY) if parsed else None
    url_password = Found(parsed.password, label, URL_KEY) if parsed else None
    env_user, env_password = get(USER_KEY), get(PASSWORD_KEY)
    for item, what in ((url_user, "user"), (url_password, "password"), (env_user, "user"), (env_password, "password")):
        if (problem := _placeholder_problem(item, what)) is not None:
            problems.append(problem)

    if parsed is not None:
        for url_item, env_item, what in ((url_user, env_user, "user"), (url_password, env_password, "password")):
            if env_item is not None and url_item is not None and env_item.value != url_item.value:
                found.warnings.append(
                    f"{label}: the {what} in {URL_KEY} differs from {env_item.key}; "
                    f"using {URL_KEY}'s, which is what the application connects with"
                )
        found.user, found.password, found.host = url_user, url_password, parsed.host
        if parsed.database:
            found.database = Found(parsed.database, label, URL_KEY)
        # libpq's default: a URL without a port connects to 5432.
        found.port = Found(str(LIBPQ_DEFAULT_PORT if parsed.port is None else parsed.port), label, URL_KEY)
    elif url is None:
        found.user, found.password, found.host = env_user, env_password, values.get("POSTGRES_HOST")
        if (env_user is None) != (env_password is None):
            missing, present = (PASSWORD_KEY, USER_KEY) if env_password is None else (USER_KEY, PASSWORD_KEY)
            problems.append(
                f"{label}: {present} is set but {missing} is not (and there is no {URL_KEY}); "
                "the stack needs both, or neither to have them generated"
            )
    found.database = found.database or get(DB_KEY)
    found.port = found.port or get(PORT_KEY)


def _read_api_key(values: Mapping[str, str], found: LegacyFile, problems: list[str]) -> None:
    """The API key base, and the mode the key's prefix names."""
    if API_KEY_KEY not in values:
        return
    key = Found(values[API_KEY_KEY], found.label, API_KEY_KEY)
    if (problem := _placeholder_problem(key, "API key")) is not None:
        problems.append(problem)
        return
    split = _split_api_key(key.value)
    if split is None:
        found.warnings.append(
            f"{key.where}: not in the hive key scheme ({API_KEY_PREFIX}_<base> or "
            f"{API_KEY_PREFIX}_<mode>_<base>), so it cannot be carried over; the stack will "
            "generate a new key and clients must switch to it"
        )
        return
    mode, base = split
    found.key_mode = mode
    found.key_base = Found(base, found.label, API_KEY_KEY)
    file_mode = _mode_of_file_name(found.path)
    if file_mode is not None and file_mode is not mode:
        found.warnings.append(
            f"{key.where}: has the {mode.name} form but the file is the {file_mode.name} "
            f"file; the stack gives mode {file_mode.name} the key {api_key(file_mode, '<base>')}"
        )


def inspect_file(path: Path, label: str) -> LegacyFile:
    """Read one legacy .env file into a ``LegacyFile`` (raises ``CommandError``)."""
    values = read_env(path, label)
    found = LegacyFile(path=path, label=label)
    problems: list[str] = []
    _read_credentials(values, found, problems)
    _read_api_key(values, found, problems)
    if problems:
        raise CommandError(problems)
    return found


def inspect_files(labels: Sequence[str]) -> list[LegacyFile]:
    """``inspect_file`` of each; one ``CommandError`` with every file's problems."""
    problems: list[str] = []
    files: list[LegacyFile] = []
    for label in labels:
        try:
            files.append(inspect_file(Path(label), label))
        except CommandError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CommandError(problems)
    return files


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


def _shared_database_warning(file: LegacyFile) -> str:
    assert file.mode is not None and file.database is not None  # shares_the_base_database
    name, own = file.database.value, file.database.value + file.mode.database_suffix
    return (
        f"{file.database.where}: names the database {name!r}, not {own!r}: this install kept mode "
        f"{file.mode.name}'s rows in one database with the other modes (the seed's layout). With "
        f"hive:isolation=database (the default) {file.mode.name} starts on a new database {own!r} and its rows "
        "stay behind, mixed with the others', which no tool can split; keep them together with "
        "`pulumi config set hive:isolation schema`, or see docs/backups-and-migration.md: Migrating a legacy install"
    )


def merge(files: Sequence[LegacyFile]) -> Adoption:
    """Check that the files agree on the shared secrets; pick one value of each.

    User, password and API key base are shared by every mode: a disagreement
    is an error. Database and port may differ in the legacy layout (agent ran
    its own container on 35532); the workspace file's (else the first file's)
    are taken, with a warning.
    """
    if not files:
        raise CommandError("no .env file given")
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
                        f"{message} ({first.value} vs {other.value}); the stack uses one for every mode, "
                        f"using {first.value} from {first.where}"
                    )
        return first

    user = pick("user", "database user", strict=True)
    password = pick("password", "database password", strict=True)
    key_base = pick("key_base", "API key base", strict=True)
    database = pick("base_database", "base database name", strict=False)
    warnings += [_shared_database_warning(f) for f in ordered if f.shares_the_base_database]
    port = pick("port", "database port", strict=False)
    if problems:
        raise CommandError(problems)
    return Adoption(list(ordered), user, password, database, port, key_base, warnings)
