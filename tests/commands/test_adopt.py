"""``python -m hive_infra adopt`` on real legacy-style .env files."""

from __future__ import annotations

import dataclasses
import io
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docker.errors import DockerException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hive_infra.__main__ import main
from hive_infra.commands import adopt
from hive_infra.commands.contract import Context
from hive_infra.config.rules import IDENTIFIER, PLACEHOLDER_WORDS, placeholder_in
from hive_infra.core.dotenv_text import format_line
from hive_infra.core.modes import MODES
from hive_infra.core.placement import Placement
from hive_infra.core.rendering import DbEndpoint, database_url
from tests.support.program import PROJECT_DIR

ROOT = PROJECT_DIR
PROGRAM = ["python", "-m", "hive_infra"]

USER = "hive_legacy"
PASSWORD = "Zx9Wv7Ut5Sr3Qp1O"  # 16 alphanumerics, like the legacy generator's
BASE = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"  # 43 URL-safe characters
URL = f"postgresql+psycopg://{USER}:{PASSWORD}@localhost:5532/hive"


def legacy_env(url: str | None = URL, key: str | None = f"hive_{BASE}", extra: str = "") -> str:
    """A workspace .env as a user kept it: comments, other keys, export, quotes."""
    lines = [
        "# Automagik Hive - copied from .env.example",
        "HIVE_ENVIRONMENT=development",
        'HIVE_LOG_LEVEL="INFO"',
        "",
        "# Model providers",
        "export OPENAI_API_KEY='sk-proj-not-a-hive-secret'",
        "ANTHROPIC_API_KEY=  # filled in later",
        "HIVE_API_PORT=8886",
    ]
    if url is not None:
        lines.append(f'export HIVE_DATABASE_URL="{url}"')
    if key is not None:
        lines.append(f"HIVE_API_KEY='{key}'")
    lines.append("HIVE_CORS_ORIGINS=http://localhost:3000,http://localhost:8886")
    return "\n".join(lines) + "\n" + extra


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err

    @property
    def lines(self) -> list[str]:
        # "\n" only: str.splitlines() would also split inside a quoted value at U+0085 and friends.
        return self.out.split("\n")[:-1] if self.out else []


class NotATty(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_adopt(*args: str, docker: Any = None, stdout: io.StringIO | None = None) -> Result:
    out, err = stdout or NotATty(), io.StringIO()
    context = Context(out, err, program=tuple(PROGRAM))
    if docker is not None:
        context = dataclasses.replace(context, docker_factory=docker)
    code = main(["adopt", *args], context)
    return Result(code, out.getvalue(), err.getvalue())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    return write(tmp_path, ".env", legacy_env())


def pipe_line(env: Path | list[Path], key: str, stack: str | None = None) -> str:
    files = env if isinstance(env, list) else [env]
    producer = [*PROGRAM, "adopt"]
    for f in files:
        producer += ["--env-file", str(f.resolve())]
    producer += ["--print-secret", key]
    consumer = ["pulumi", "config", "set", *(["--stack", stack] if stack else []), "--secret", f"hive:{key}"]
    return f"{shlex.join(producer)} | {shlex.join(consumer)}"


# --- the happy path ------------------------------------------------------------


def test_happy_path_prints_exact_lines_and_pipes_secrets(env_file: Path) -> None:
    result = run_adopt("--env-file", str(env_file))
    assert result.code == 0, f"a valid legacy .env must adopt cleanly; stderr was:\n{result.err}"
    expected = [
        f"pulumi config set hive:dbUser {USER}",
        pipe_line(env_file, "dbPassword"),
        "pulumi config set hive:database hive",
        pipe_line(env_file, "apiKeyBase"),
    ]
    assert result.lines == expected, "stdout must be exactly the config lines, in order, with secrets piped"
    assert PASSWORD not in result.both, "the password must never be echoed without --show-secrets"
    assert BASE not in result.both, "the API key base must never be echoed without --show-secrets"
    assert "sk-proj-not-a-hive-secret" not in result.both, "unrelated keys of the user's .env are not printed"
    assert "dbPort" not in result.out, "the default port 5532 needs no config line"
    for line in result.lines:
        for part in line.split(" | "):
            words = shlex.split(part)
            assert words[0] in ("pulumi", "python"), f"each pipeline stage must parse as one command: {part}"
    secret_consumers = [shlex.split(line.split(" | ")[1]) for line in result.lines if " | " in line]
    for words in secret_consumers:
        assert words[:4] == ["pulumi", "config", "set", "--secret"], f"secrets must be set with --secret: {words}"
        assert len(words) == 5, f"the value must come from stdin, not the command line: {words}"
    assert "16 characters" in result.err, "the summary must say what was found (length only, for the password)"
    assert "EMPTY database" in result.err, "without --data-dir the summary must warn that the data is not kept"


def test_show_secrets_prints_values_inline_and_quoted(env_file: Path) -> None:
    result = run_adopt("--env-file", str(env_file), "--show-secrets")
    assert result.code == 0, f"--show-secrets is a valid run; stderr:\n{result.err}"
    parsed = [shlex.split(line) for line in result.lines]
    assert ["pulumi", "config", "set", "--secret", "hive:dbPassword", PASSWORD] in parsed, (
        f"--show-secrets must print the password inline with --secret; got {parsed}"
    )
    assert ["pulumi", "config", "set", "--secret", "hive:apiKeyBase", BASE] in parsed, (
        "--show-secrets must print the key base inline with --secret"
    )
    assert "shell history" in result.err, "--show-secrets must warn where inline secrets end up"


def test_secret_starting_with_dash_is_kept_from_flag_parsing(tmp_path: Path) -> None:
    base = "-" + BASE[1:]
    env = write(tmp_path, ".env", legacy_env(key=f"hive_{base}"))
    result = run_adopt("--env-file", str(env), "--show-secrets")
    assert result.code == 0, f"a key base may start with '-' (URL-safe alphabet); stderr:\n{result.err}"
    assert ["pulumi", "config", "set", "--secret", "hive:apiKeyBase", "--", base] in [
        shlex.split(line) for line in result.lines
    ], "a value starting with '-' must follow '--' so pulumi does not read it as a flag"


def test_print_secret_writes_exactly_the_value(env_file: Path) -> None:
    for key, value in (("dbPassword", PASSWORD), ("apiKeyBase", BASE), ("adminPassword", PASSWORD)):
        result = run_adopt("--env-file", str(env_file), "--print-secret", key)
        assert result.code == 0, f"--print-secret {key} must succeed; stderr:\n{result.err}"
        assert result.out == value, f"--print-secret {key} must write the bare value, no newline, nothing else"
        assert result.err == "", "--print-secret must not add a summary to a pipe's stderr"


def test_print_secret_refuses_a_terminal(env_file: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    result = run_adopt("--env-file", str(env_file), "--print-secret", "dbPassword", stdout=Tty())
    assert result.code == 2, "--print-secret to a terminal would show the secret: it must refuse"
    assert PASSWORD not in result.both, "the refusal must not print the secret"


def test_stack_is_added_to_every_line(env_file: Path) -> None:
    result = run_adopt("--env-file", str(env_file), "--stack", "my dev", "--show-secrets")
    assert result.code == 0, f"--stack is a valid run; stderr:\n{result.err}"
    assert result.lines, "there must be lines to check"
    for line in result.lines:
        words = shlex.split(line)
        assert words[3:5] == ["--stack", "my dev"], f"each line must name the stack (quoted): {line}"
    piped = run_adopt("--env-file", str(env_file), "--stack", "dev")
    assert pipe_line(env_file, "dbPassword", stack="dev") in piped.lines, "piped lines must name the stack too"


def test_non_default_port_database_and_postgres_keys(tmp_path: Path) -> None:
    env = write(
        tmp_path,
        ".env",
        "POSTGRES_USER=hive_old\nPOSTGRES_PASSWORD='pw with spaces & $ign!!'\nPOSTGRES_DB=hive_data\n"
        "POSTGRES_PORT=5533\nPOSTGRES_HOST=localhost\n",
    )
    result = run_adopt("--env-file", str(env), "--show-secrets")
    assert result.code == 0, f"POSTGRES_* keys alone are credentials enough; stderr:\n{result.err}"
    parsed = [shlex.split(line) for line in result.lines]
    assert parsed == [
        ["pulumi", "config", "set", "hive:dbUser", "hive_old"],
        ["pulumi", "config", "set", "--secret", "hive:dbPassword", "pw with spaces & $ign!!"],
        ["pulumi", "config", "set", "hive:database", "hive_data"],
        ["pulumi", "config", "set", "hive:dbPort", "5533"],
    ], "a non-default port and database must be set, and shell-special values must survive quoting"


def test_url_and_postgres_password_disagree_prefers_url(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(extra=f"POSTGRES_USER={USER}\nPOSTGRES_PASSWORD=stale-password-1234567\n"))
    result = run_adopt("--env-file", str(env), "--print-secret", "dbPassword")
    assert result.out == PASSWORD, "when URL and POSTGRES_PASSWORD disagree, the URL (what the app uses) wins"
    summary = run_adopt("--env-file", str(env))
    assert "differs from POSTGRES_PASSWORD" in summary.err, "the disagreement must be reported"
    assert "stale-password-1234567" not in summary.both, "the report must not show either password"


# --- URLs --------------------------------------------------------------------------


def test_url_quoted_password_is_unquoted(tmp_path: Path) -> None:
    env = write(
        tmp_path, ".env", legacy_env(url="postgresql+psycopg://hive%5Fx:p%40ssw0rd%3Along%2Fenough@localhost:5532/hive")
    )
    result = run_adopt("--env-file", str(env), "--print-secret", "dbPassword")
    assert result.code == 0, f"a percent-encoded URL is valid; stderr:\n{result.err}"
    assert result.out == "p@ssw0rd:long/enough", "p%40ss must become p@ss (and %3A ':' and %2F '/')"
    shown = run_adopt("--env-file", str(env), "--show-secrets")
    assert "pulumi config set hive:dbUser hive_x" in shown.lines, "the user is unquoted too (%5F is '_')"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"postgresql+psycopg://{USER}@localhost:5532/hive", "no password"),
        (f"postgresql+psycopg://{USER}:@localhost:5532/hive", "no password"),
        ("postgresql+psycopg://localhost:5532/hive", "no USER:PASSWORD@"),
        (f"mysql://{USER}:{PASSWORD}@localhost:3306/hive", "not a PostgreSQL URL"),
        (f"{USER}:{PASSWORD}@localhost:5532/hive", "not a PostgreSQL URL"),
        ("this is not a url at all", "not a PostgreSQL URL"),
        (f"postgresql+psycopg://{USER}:{PASSWORD}@localhost:port/hive", "port"),
        (f"postgresql+psycopg://{USER}:{PASSWORD}@@localhost:5532/hive", "more than one '@'"),
        (f"postgresql+psycopg://:{PASSWORD}@localhost:5532/hive", "no user"),
        (f"postgresql+psycopg://{USER}:{PASSWORD}@:5532/hive", "no host"),
    ],
)
def test_malformed_url_is_bad_input(tmp_path: Path, url: str, why: str) -> None:
    env = write(tmp_path, ".env", legacy_env(url=url))
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, f"a malformed URL ({why}) is bad input; stderr:\n{result.err}"
    assert "HIVE_DATABASE_URL" in result.err, "the message must name the key"
    assert why in result.err, f"the message must say what is wrong ({why}); got:\n{result.err}"
    assert PASSWORD not in result.both, "an error about the URL must not echo the password in it"
    assert url not in result.both, "an error must never echo the URL itself"


def _endpoint_strategy() -> st.SearchStrategy[tuple[str, str, str, int]]:
    text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
    return st.tuples(text, text, text.filter(lambda d: "/" not in d), st.integers(1, 65535))


@given(_endpoint_strategy())
def test_url_round_trip_any_user_and_password(values: tuple[str, str, str, int]) -> None:
    user, password, database, port = values
    for mode in MODES.values():
        url = database_url(DbEndpoint("localhost", port, user, password), Placement(mode, database, "public"))
        parsed = adopt.parse_database_url(url, "HIVE_DATABASE_URL in .env")
        assert (parsed.user, parsed.password) == (user, password), (
            "any user/password percent-encoded into a URL must come back unchanged"
        )
        assert (parsed.database, parsed.port) == (database, port), "database and port must come back too"


_valid_user = st.from_regex(IDENTIFIER, fullmatch=True).filter(lambda u: u != "postgres" and not u.startswith("pg_"))
_valid_password = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=("Cs",), blacklist_characters="\x7f\\"),
    min_size=16,
    max_size=40,
).filter(lambda p: placeholder_in(p) is None and "${" not in p)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_valid_user, _valid_password)
def test_cli_round_trip_from_a_file(tmp_path: Path, user: str, password: str) -> None:
    url = database_url(DbEndpoint("localhost", 5532, user, password), Placement(MODES["workspace"], "hive", "public"))
    env = write(tmp_path, ".env", "# legacy\n" + format_line("HIVE_DATABASE_URL", url) + "\n")
    result = run_adopt("--env-file", str(env), "--print-secret", "dbPassword")
    assert result.code == 0, f"a valid URL in a .env must adopt; stderr:\n{result.err}"
    assert result.out == password, "the password read back from the file must be the one encoded in it"
    shown = run_adopt("--env-file", str(env), "--show-secrets")
    assert [
        "pulumi",
        "config",
        "set",
        "--secret",
        "hive:dbPassword",
        *(["--"] if password.startswith("-") else []),
        password,
    ] in [shlex.split(line) for line in shown.lines], "the shell-quoted line must parse back to the exact password"


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", PLACEHOLDER_WORDS)
@pytest.mark.parametrize("where", ["url-password", "url-user", "postgres-password", "api-key"])
def test_placeholder_is_refused_naming_the_key(tmp_path: Path, word: str, where: str) -> None:
    value = f"x1{word}9z"
    if where == "url-password":
        text, key = legacy_env(url=f"postgresql+psycopg://{USER}:{value}@localhost:5532/hive"), "HIVE_DATABASE_URL"
    elif where == "url-user":
        text, key = legacy_env(url=f"postgresql+psycopg://{value}:{PASSWORD}@localhost:5532/hive"), "HIVE_DATABASE_URL"
    elif where == "postgres-password":
        text, key = (
            legacy_env(url=None, extra=f"POSTGRES_USER={USER}\nPOSTGRES_PASSWORD={value}\n"),
            "POSTGRES_PASSWORD",
        )
    else:
        text, key = legacy_env(key=f"hive_{value}"), "HIVE_API_KEY"
    env = write(tmp_path, ".env", text)
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, f"a placeholder ({word!r} in {where}) is bad input; stderr:\n{result.err}"
    assert key in result.err, f"the message must name {key}"
    assert "placeholder" in result.err, "the message must say it is a placeholder"
    assert value not in result.both, "the message must never contain the value"
    assert result.out == "", "no command may be printed for a refused file"


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run_adopt("--env-file", str(tmp_path / "nope.env"))
    assert result.code == 2, "a missing .env is bad input"
    assert "no such file" in result.err, "the message must say the file is missing"


def test_unparseable_line_is_bad_input(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env() + 'HIVE_EXTRA="unterminated\n')
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, "a line python-dotenv cannot parse is bad input (it could have been the URL)"
    assert "line" in result.err and "cannot be parsed" in result.err, "the message must point at the line"


def test_user_without_password_is_missing_key(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(url=None, extra=f"POSTGRES_USER={USER}\n"))
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, "a user without a password cannot be adopted"
    assert "POSTGRES_PASSWORD" in result.err, "the message must name the missing key"


def test_too_short_password_is_refused_by_the_programs_rules(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(url=f"postgresql+psycopg://{USER}:short7pw@localhost:5532/hive"))
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, "a password the program would reject must be refused here"
    assert "hive:dbPassword" in result.err and "at least 16" in result.err, "config.py's own rule must be quoted"
    assert "short7pw" not in result.both, "the message must not contain the short password"


def test_too_short_key_base_is_refused(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(key="hive_tooShortBase123"))
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, "a key base shorter than config.MIN_API_KEY_BASE_LENGTH is bad input"
    assert "hive:apiKeyBase" in result.err, "the message must name the config key"
    assert "tooShortBase123" not in result.both, "the message must not contain the key"


def test_legacy_mixed_case_user_without_data_keeps_the_default_user(tmp_path: Path) -> None:
    env = write(
        tmp_path, ".env", legacy_env(url=f"postgresql+psycopg://Hq3xTu8kLm2Np5Rs:{PASSWORD}@localhost:5532/hive")
    )
    result = run_adopt("--env-file", str(env))
    assert result.code == 0, f"the password and key still carry over; stderr:\n{result.err}"
    assert not any("hive:dbUser" in line for line in result.lines), "a new database cannot take a mixed-case user"
    assert pipe_line(env, "dbPassword") in result.lines, "the password is still carried over"
    assert "not a plain lower-case name" in result.err, "the user is told why the name changes"
    assert "none (the stack will generate them)" not in result.err, "the summary must not deny the password it carries"
    assert "  database user     hive  (the default; the legacy user is not kept)" in result.err, "the user it gets"
    assert f"  database password {len(PASSWORD)} characters" in result.err, "the password carried over, as a length"


def test_legacy_mixed_case_user_with_its_data_is_kept(tmp_path: Path) -> None:
    env = write(
        tmp_path, ".env", legacy_env(url=f"postgresql+psycopg://Hq3xTu8kLm2Np5Rs:{PASSWORD}@localhost:5532/hive")
    )
    mount = _data_dir(tmp_path)
    result = run_adopt("--env-file", str(env), "--data-dir", str(mount))
    assert result.code == 0, f"the data folder's superuser is kept as the login; stderr:\n{result.err}"
    assert "pulumi config set hive:dbUser Hq3xTu8kLm2Np5Rs" in result.lines, "the existing login, as it is"
    assert "pulumi config set hive:adminUser Hq3xTu8kLm2Np5Rs" in result.lines, "it is the data's superuser"


def test_nothing_to_adopt_exits_3(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(url=None, key=None, extra="HIVE_DATABASE_URL=\nHIVE_API_KEY=\n"))
    result = run_adopt("--env-file", str(env))
    assert result.code == 3, f"a file without credentials or key has nothing to adopt; stderr:\n{result.err}"
    assert result.out == "", "nothing to adopt prints no command"
    assert "nothing to adopt" in result.err, "the message must say so"


def test_key_outside_the_scheme_is_reported(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(url=None, key="sk_" + BASE))
    result = run_adopt("--env-file", str(env))
    assert result.code == 3, "a key outside the scheme alone leaves nothing to adopt"
    assert "not in the hive key scheme" in result.err, "the key outside the scheme must be reported"
    assert BASE not in result.both, "the report must not show the key"


# --- several files ---------------------------------------------------------------------


def _agent_env(password: str = PASSWORD, base: str = BASE) -> str:
    url = f"postgresql+psycopg://{USER}:{password}@localhost:35532/hive?options=-csearch_path=agent"
    return f"HIVE_API_PORT=38886\nHIVE_DATABASE_URL={url}\nHIVE_API_KEY=hive_agent_{base}\n"


def test_agreeing_files_adopt_with_workspace_port(tmp_path: Path) -> None:
    agent = write(tmp_path, ".env.agent", _agent_env())
    env = write(tmp_path, ".env", legacy_env())
    result = run_adopt("--env-file", str(agent), "--env-file", str(env), "--show-secrets")
    assert result.code == 0, f"files that agree must adopt; stderr:\n{result.err}"
    parsed = [shlex.split(line) for line in result.lines]
    assert ["pulumi", "config", "set", "--secret", "hive:apiKeyBase", BASE] in parsed, (
        "hive_agent_<base> and hive_<base> must yield the same base"
    )
    assert not any("hive:dbPort" in words for words in parsed), (
        "the workspace file's port (5532, the default) leads over the legacy agent container's 35532"
    )
    assert "35532" in result.err, "the differing agent port must be reported"


@pytest.mark.parametrize(
    ("agent_text", "what"),
    [
        (_agent_env(password="AnotherPassw0rd16"), "database password"),
        (_agent_env(base="Z" * 43), "API key base"),
    ],
)
def test_disagreeing_files_are_bad_input(tmp_path: Path, agent_text: str, what: str) -> None:
    env = write(tmp_path, ".env", legacy_env())
    agent = write(tmp_path, ".env.agent", agent_text)
    result = run_adopt("--env-file", str(env), "--env-file", str(agent))
    assert result.code == 2, f"files disagreeing on the {what} are bad input"
    assert what in result.err, f"the message must say what differs ({what})"
    assert str(env) in result.err and str(agent) in result.err, "the message must name both files"
    for secret in (PASSWORD, "AnotherPassw0rd16", BASE, "Z" * 43):
        assert secret not in result.both, "the message must not contain either value"


def test_wrong_mode_key_in_mode_file_is_reported(tmp_path: Path) -> None:
    agent = write(tmp_path, ".env.agent", f"HIVE_DATABASE_URL={URL}\nHIVE_API_KEY=hive_{BASE}\n")
    result = run_adopt("--env-file", str(agent))
    assert result.code == 0, "a workspace-form key in the agent file still has a usable base"
    assert "hive_agent_<base>" in result.err, "the user must learn the agent key will change form"


# --- data directory -----------------------------------------------------------------------


def _data_dir(tmp_path: Path, nested: bool = True, version: str = "16") -> Path:
    mount = tmp_path / "data" / "postgres"
    pgdata = mount / "pgdata" if nested else mount
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text(version + "\n")
    return mount


def test_data_dir_sets_data_path_and_legacy_superuser(
    tmp_path: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mount = _data_dir(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_adopt("--env-file", str(env_file), "--data-dir", "data/postgres")
    assert result.code == 0, f"a legacy data dir must adopt; stderr:\n{result.err}"
    assert f"pulumi config set hive:dataPath {shlex.quote(str(mount.resolve()))}" in result.lines, (
        "dataPath must be the absolute path of the legacy bind mount"
    )
    assert f"pulumi config set hive:adminUser {USER}" in result.lines, (
        "the data dir's superuser is the legacy user, so adminUser must be set to it"
    )
    assert pipe_line(env_file, "adminPassword") in result.lines, "adminPassword is the legacy password, piped"
    assert "superuser" in result.err and "no 'postgres' role" in result.err, "the superuser issue must be explained"
    assert "stop the legacy PostgreSQL container" in result.err, "the user must stop the legacy server first"
    assert PASSWORD not in result.both, "the data-dir guidance must not echo the password"


def test_data_dir_given_as_pgdata_uses_its_parent(tmp_path: Path, env_file: Path) -> None:
    mount = _data_dir(tmp_path)
    result = run_adopt("--env-file", str(env_file), "--data-dir", str(mount / "pgdata"))
    assert f"pulumi config set hive:dataPath {shlex.quote(str(mount.resolve()))}" in result.lines, (
        "a pgdata folder is the legacy PGDATA: dataPath is its parent, the bind mount"
    )


def test_data_dir_with_pg_version_directly(tmp_path: Path, env_file: Path) -> None:
    mount = _data_dir(tmp_path, nested=False)
    result = run_adopt("--env-file", str(env_file), "--data-dir", str(mount))
    assert result.code == 0, "PG_VERSION directly in the folder is a data dir too"
    assert "directly in" in result.err, "the user must be warned the layout differs from the legacy one"


def test_data_dir_without_pg_version_is_bad_input(tmp_path: Path, env_file: Path) -> None:
    empty = tmp_path / "data" / "postgres"
    (empty / "pgdata").mkdir(parents=True)
    result = run_adopt("--env-file", str(env_file), "--data-dir", str(empty))
    assert result.code == 2, "a folder without PG_VERSION is not a data directory"
    assert "PG_VERSION" in result.err, "the message must say what is missing"
    missing = run_adopt("--env-file", str(env_file), "--data-dir", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "no such directory" in missing.err, "a missing data dir is bad input"


def test_data_dir_version_mismatch_and_running_server(tmp_path: Path, env_file: Path) -> None:
    mount = _data_dir(tmp_path, version="15")
    (mount / "pgdata" / "postmaster.pid").write_text("1\n")
    result = run_adopt("--env-file", str(env_file), "--data-dir", str(mount))
    assert result.code == 0, "a mismatch is a warning, the lines are still right"
    assert "PostgreSQL 15" in result.err and "major version" in result.err, (
        "a 15 cluster under a 16 image must be flagged"
    )
    assert "postmaster.pid" in result.err, "a running (or crashed) server on the data dir must be flagged"


def test_data_dir_needs_credentials(tmp_path: Path) -> None:
    mount = _data_dir(tmp_path)
    env = write(tmp_path, ".env", legacy_env(url=None))
    result = run_adopt("--env-file", str(env), "--data-dir", str(mount))
    assert result.code == 2, "a data dir without the legacy superuser's credentials cannot be used"


# --- detection ------------------------------------------------------------------------------


@dataclass
class FakeContainer:
    name: str
    status: str
    ports: dict[str, Any]
    attrs: dict[str, Any]


class FakeClient:
    def __init__(self, containers: list[FakeContainer], ping_error: Exception | None = None) -> None:
        self._containers = containers
        self._ping_error = ping_error
        self.containers = self
        self.list_calls: list[dict[str, Any]] = []

    def ping(self) -> bool:
        if self._ping_error:
            raise self._ping_error
        return True

    def list(self, **kwargs: Any) -> list[FakeContainer]:
        self.list_calls.append(kwargs)
        return list(self._containers)


def _binding(port: int) -> list[dict[str, str]]:
    return [{"HostIp": "0.0.0.0", "HostPort": str(port)}, {"HostIp": "::", "HostPort": str(port)}]


def test_detect_lists_legacy_containers_and_clashes(tmp_path: Path, env_file: Path) -> None:
    mount = _data_dir(tmp_path)
    containers = [
        FakeContainer(
            "hive-postgres",
            "running",
            {"5432/tcp": _binding(5532)},
            {"Mounts": [{"Type": "bind", "Source": str(mount), "Destination": "/var/lib/postgresql/data"}]},
        ),
        FakeContainer(
            "hive-agents",
            "exited",
            {},
            {"Mounts": [], "HostConfig": {"PortBindings": {"8886/tcp": [{"HostIp": "", "HostPort": "8886"}]}}},
        ),
        FakeContainer(
            "hive-postgres-shared",
            "running",
            {"5432/tcp": _binding(15532)},
            {"Mounts": [{"Type": "volume", "Name": "hive-pgdata", "Destination": "/var/lib/postgresql/data"}]},
        ),
        FakeContainer("grafana", "running", {"3000/tcp": _binding(38886)}, {"Mounts": []}),
        FakeContainer("unrelated", "running", {"80/tcp": _binding(9999)}, {"Mounts": []}),
    ]
    client = FakeClient(containers)
    result = run_adopt("--env-file", str(env_file), "--data-dir", str(mount), "--detect", docker=lambda: client)
    assert result.code == 0, f"detection is informative only; stderr:\n{result.err}"
    assert client.list_calls == [{"all": True}], "stopped containers must be listed too (all=True)"
    err = result.err
    assert "detect: hive-postgres [running] ports: 0.0.0.0:5532->5432/tcp" in err, "legacy postgres with its ports"
    assert f"mount bind {mount}->/var/lib/postgresql/data" in err, "mounts must be shown"
    assert "host port 5532 is also the shared PostgreSQL" in err, "5532 clashes with dbPort"
    assert "is running on the data directory being adopted" in err, (
        "the legacy server on the adopted data must be flagged"
    )
    assert "0.0.0.0:8886->8886/tcp (when started)" in err, "a stopped container's bindings are shown from HostConfig"
    assert "host port 8886 is also mode workspace's API" in err, "8886 clashes with the workspace API"
    assert "the stack creates a container named hive-agents" in err, "legacy API name equals the stack's container name"
    assert "the stack creates a container named hive-postgres-shared" in err, (
        "an existing shared container clashes by name"
    )
    assert "detect: grafana" in err and "host port 38886 is also mode agent's API" in err, (
        "any container on a stack port clashes"
    )
    assert "unrelated" not in err, "containers that neither are hive's nor clash are not listed"
    assert result.lines, "commands must still be printed with --detect"


@pytest.mark.parametrize("where", ["from_env", "ping"])
def test_detect_without_engine_is_one_line_and_still_adopts(env_file: Path, where: str) -> None:
    def factory() -> FakeClient:
        if where == "from_env":
            raise DockerException("Error while fetching server API version: connection refused")
        return FakeClient([], ping_error=DockerException("ping failed"))

    result = run_adopt("--env-file", str(env_file), "--detect", docker=factory)
    assert result.code == 0, "an unreachable engine must not fail the adoption"
    detect = [line for line in result.err.splitlines() if line.startswith("detect:")]
    assert len(detect) == 1 and "no reachable Docker engine" in detect[0], f"exactly one line must say so: {detect}"
    assert len(result.lines) == 4, "the config lines must still be printed"


def test_detect_uses_the_adopted_port(tmp_path: Path) -> None:
    env = write(tmp_path, ".env", legacy_env(url=f"postgresql+psycopg://{USER}:{PASSWORD}@localhost:6543/hive"))
    client = FakeClient([FakeContainer("pg", "running", {"5432/tcp": _binding(6543)}, {"Mounts": []})])
    result = run_adopt("--env-file", str(env), "--detect", docker=lambda: client)
    assert "host port 6543 is also the shared PostgreSQL" in result.err, "the stack will use the adopted dbPort"


# --- the entry point --------------------------------------------------------------------------


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["adopt", "--print-secret", "notAKey"])
    assert exc.value.code == 2, "argparse errors are bad input (exit 2)"
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2, "a missing command is bad input"


def test_module_entry_point_and_printed_pipe_work(env_file: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hive_infra", "adopt", "--env-file", str(env_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"`python -m hive_infra adopt` must run from the project root:\n{proc.stderr}"
    assert PASSWORD not in proc.stdout + proc.stderr, "the real entry point must not echo the password"
    piped = [line for line in proc.stdout.splitlines() if "hive:dbPassword" in line]
    assert len(piped) == 1, f"one dbPassword line expected: {proc.stdout}"
    producer, consumer = piped[0].split(" | ")
    assert shlex.split(producer)[0] == sys.executable, "the printed line calls back this very interpreter"
    secret = subprocess.run(shlex.split(producer), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert secret.returncode == 0, f"the printed producer must run as printed:\n{secret.stderr}"
    assert secret.stdout == PASSWORD, "the producer half of the printed pipe must yield exactly the password"
    assert shlex.split(consumer) == ["pulumi", "config", "set", "--secret", "hive:dbPassword"], (
        "the consumer half must read the secret from stdin"
    )


# --- database names per mode ----------------------------------------------------------------


def test_legacy_per_mode_database_names_match_the_default_isolation(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://{USER}:{PASSWORD}@localhost:35532/hive_agent"
    agent = write(tmp_path, ".env.agent", f"HIVE_DATABASE_URL={url}\nHIVE_API_KEY=hive_agent_{BASE}\n")
    env = write(tmp_path, ".env", legacy_env())
    result = run_adopt("--env-file", str(env), "--env-file", str(agent))
    assert result.code == 0, f"the legacy layout adopts; stderr:\n{result.err}"
    assert "database name differs" not in result.err, "hive and hive_agent are one base name, as the stack derives"
    assert "seed's layout" not in result.err, "a legacy per-mode database is not the one-database layout"
    assert not any("hive:database" in line and "hive_agent" in line for line in result.lines), (
        "the base name is set, never a mode's own database"
    )


def test_one_shared_database_is_called_out(tmp_path: Path) -> None:
    agent = write(tmp_path, ".env.agent", _agent_env())  # names database 'hive', the seed's shared one
    env = write(tmp_path, ".env", legacy_env())
    result = run_adopt("--env-file", str(env), "--env-file", str(agent))
    assert result.code == 0, "still adoptable"
    assert "names the database 'hive', not 'hive_agent'" in result.err, "the mixed layout is detected"
    assert "hive:isolation schema" in result.err, "and the way to keep the modes' rows together is named"


@pytest.mark.parametrize("char", ["#", "/", "?"])
def test_an_unencoded_special_character_in_a_legacy_password_is_diagnosed(tmp_path: Path, char: str) -> None:
    password = f"Zx9Wv7{char}Ut5Sr3Qp1O"
    env = write(tmp_path, ".env", f"HIVE_DATABASE_URL=postgresql+psycopg://{USER}:{password}@localhost:5532/hive\n")
    result = run_adopt("--env-file", str(env))
    assert result.code == 2, "a URL that ends before its '@' is bad input"
    assert "not percent-encoded" in result.err and "%23" in result.err, (
        "the message must say what is wrong (an unencoded character), not that there is no user:password"
    )
    assert "has no USER:PASSWORD@ part" not in result.err, "the old, wrong diagnosis"
    assert password not in result.both and "Ut5Sr3Qp1O" not in result.both, "and never show the password"
