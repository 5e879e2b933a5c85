"""The real automagik-hive, one server per mode, on the databases our stack lays out.

The layout is made by hand as the superuser (plain SQL, no Pulumi), as the
stack will declare it: a login role ``hive`` that is not a superuser, one
database per mode owned by it (workspace ``hive``, agent ``hive_agent``, genie
``hive_genie``), schemas ``agent``/``genie`` owned by it in their databases,
and ``citext`` created by the admin in each database's ``public`` (standing in
for pgvector, which is not installable here). Workspace's URL has no options;
agent's and genie's carry ``?options=-csearch_path%3D<mode>%2Cpublic``.

The negative control puts the three modes on ONE database (the old ``schema``
layout, here named ``hive_schemas``) and shows that they share their rows:
the reason the stack gives each mode a database of its own.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from tests.support.hive_app import (
    AGENT_ID,
    AGNO_SCHEMA,
    MEMORY_TABLE,
    SESSION_TABLE,
    AppStartError,
    AppVenv,
    HiveApp,
    agent_ids,
    api,
    create_memory,
    create_session,
    get_session,
    list_memories,
    list_sessions,
    probe_connection,
    running_apps,
)
from tests.support.pgserver import PgServer, free_port

MODES = ("workspace", "agent", "genie")
#: One database per mode, as the stack will create them.
#: (Named apart from the integration tier's, which shares the session's server.)
DATABASES = {"workspace": "tier_hive", "agent": "tier_hive_agent", "genie": "tier_hive_genie"}
SCHEMAS = {"workspace": "public", "agent": "agent", "genie": "genie"}
#: The old layout: every mode in one database, told apart by search_path only.
SHARED_DATABASE = "tier_hive_schemas"
#: Databases the role does not own (privilege checks): no CREATE on either;
#: the admin made the ``ai`` schema for the role in the second.
NO_CREATE_DATABASE = "tier_hive_no_create"
ADMIN_SCHEMA_DATABASE = "tier_hive_ai_by_admin"
ROLE = "tier_hive"
#: URL-special characters on purpose: the URL must percent-encode them.
ROLE_PASSWORD = "hive role: p@ss/w?rd#%&+=0123"
EXTENSION = "citext"
#: The same user in every mode, so that no filter on users hides a row.
USER_ID = "tier-user"
#: The legacy defaults (tests use free ports instead).
DEFAULT_API_PORTS = {"workspace": 8886, "agent": 38886, "genie": 48886}


# -- the layout, by hand ------------------------------------------------------------


@pytest.fixture(scope="module")
def layout(pg_server: PgServer) -> PgServer:
    """Role, databases, schemas and extensions as the stack will create them."""
    with pg_server.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(ROLE_PASSWORD)
            )
        )
        for database in (*DATABASES.values(), SHARED_DATABASE):
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(ROLE)))
        for database in (NO_CREATE_DATABASE, ADMIN_SCHEMA_DATABASE):  # owned by the superuser
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    for mode in MODES:
        _schemas_and_extension(pg_server, DATABASES[mode], [SCHEMAS[mode]])
    _schemas_and_extension(pg_server, SHARED_DATABASE, [SCHEMAS[mode] for mode in MODES])
    with pg_server.connect(database=ADMIN_SCHEMA_DATABASE) as conn:
        conn.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(AGNO_SCHEMA), sql.Identifier(ROLE))
        )
    return pg_server


def _schemas_and_extension(pg: PgServer, database: str, schemas: list[str]) -> None:
    with pg.connect(database=database) as conn:
        for schema in schemas:
            if schema != "public":
                conn.execute(
                    sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(schema), sql.Identifier(ROLE))
                )
        conn.execute(sql.SQL("CREATE EXTENSION {} SCHEMA public").format(sql.Identifier(EXTENSION)))


def mode_env(mode: str, pg: PgServer, database: str, port: int, api_key_base: str) -> dict[str, str]:
    """The keys a mode's .env holds in the planned layout, plus a dummy model key.

    ``HIVE_API_HOST`` stays the .env's 0.0.0.0: ``hive serve --host 127.0.0.1``
    decides where it listens.
    """
    schema = SCHEMAS[mode]
    options = {} if schema == "public" else {"options": f"-csearch_path={schema},public"}
    return {
        "HIVE_ENVIRONMENT": "development",
        "HIVE_LOG_LEVEL": "INFO",
        "AGNO_LOG_LEVEL": "INFO",
        "HIVE_API_HOST": "0.0.0.0",
        "HIVE_API_PORT": str(port),
        "HIVE_API_WORKERS": "1",
        "HIVE_DATABASE_URL": pg.url(ROLE, ROLE_PASSWORD, database, **options),
        "HIVE_DB_SCHEMA": schema,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": ROLE,
        "POSTGRES_PASSWORD": ROLE_PASSWORD,
        "POSTGRES_DB": database,
        "HIVE_API_KEY": f"hive_{api_key_base}" if schema == "public" else f"hive_{mode}_{api_key_base}",
        "HIVE_CORS_ORIGINS": f"http://localhost:3000,http://localhost:{port}",
        "HIVE_AUTH_DISABLED": "false",
        "HIVE_DEV_MODE": "true",
        "HIVE_ENABLE_METRICS": "true",
        "HIVE_AGNO_MONITOR": "false",
        "HIVE_DEFAULT_MODEL": "gpt-4.1-mini",
        "OPENAI_API_KEY": "sk-dummy-not-a-real-key",
    }


@dataclass(frozen=True)
class Written:
    """What one mode wrote through its own API."""

    memory: str
    session_id: str
    session_name: str


def write_through_api(apps: dict[str, HiveApp]) -> dict[str, Written]:
    """One memory and one session per mode, with content naming the mode."""
    written = {}
    for label, app in apps.items():
        token = uuid.uuid4().hex[:8]
        item = Written(
            memory=f"memory written through the {label} API ({token})",
            session_id=f"session-{label}-{token}",
            session_name=f"{label} session {token}",
        )
        create_memory(app, item.memory, USER_ID, topics=[label])
        create_session(app, item.session_id, item.session_name, USER_ID, state={"mode": label})
        written[label] = item
    return written


def query(pg: PgServer, database: str, statement: str) -> list[tuple[Any, ...]]:
    """Rows of one statement, as the superuser (never through the app)."""
    with pg.connect(database=database) as conn:
        rows: list[tuple[Any, ...]] = conn.execute(statement).fetchall()
        return rows


MEMORIES_SQL = f"SELECT memory #>> '{{}}' FROM {AGNO_SCHEMA}.{MEMORY_TABLE}"
SESSIONS_SQL = f"SELECT session_id FROM {AGNO_SCHEMA}.{SESSION_TABLE}"


# -- one database per mode: the planned layout ----------------------------------------


class TestOneDatabasePerMode:
    """Three servers at once, each on its mode's own database."""

    @pytest.fixture(scope="class")
    @classmethod
    def apps(
        cls, layout: PgServer, app_venv: AppVenv, hive_project: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[dict[str, HiveApp]]:
        base = secrets.token_urlsafe(32)
        root = tmp_path_factory.mktemp("per-database")
        apps = []
        for mode in MODES:
            env = mode_env(mode, layout, DATABASES[mode], free_port(), base)
            # AgentOS ignores HIVE_API_KEY; OS_SECURITY_KEY is what it checks (the fix).
            env["OS_SECURITY_KEY"] = env["HIVE_API_KEY"]
            apps.append(HiveApp(mode, env, root / mode, app_venv))
        with running_apps(hive_project, apps) as running:
            yield running

    @pytest.fixture(scope="class")
    @classmethod
    def written(cls, apps: dict[str, HiveApp]) -> dict[str, Written]:
        return write_through_api(apps)

    def test_each_mode_loaded_its_postgres_agent(self, apps: dict[str, HiveApp]) -> None:
        for mode, app in apps.items():
            assert AGENT_ID in agent_ids(app), (
                f"{mode}: GET /config lacks {AGENT_ID!r}: the YAML agent with postgres storage did not load "
                f"(HIVE_DATABASE_URL not in the environment, or the database refused it); see {app.log_path}"
            )

    def test_each_mode_reads_back_only_its_own_memories(
        self, apps: dict[str, HiveApp], written: dict[str, Written]
    ) -> None:
        for mode, app in apps.items():
            memories = {memory["memory"] for memory in list_memories(app)}
            assert written[mode].memory in memories, f"{mode}: its own memory should come back through its API"
            for other in MODES:
                if other != mode:
                    assert written[other].memory not in memories, (
                        f"{mode}'s API returned {other}'s memory: the two modes share a memory table, "
                        "which one database per mode must prevent"
                    )
            assert memories == {written[mode].memory}, f"{mode}: GET /memories should hold exactly its own memory"

    def test_each_mode_reads_back_only_its_own_sessions(
        self, apps: dict[str, HiveApp], written: dict[str, Written]
    ) -> None:
        for mode, app in apps.items():
            sessions = {session["session_id"] for session in list_sessions(app)}
            assert sessions == {written[mode].session_id}, (
                f"{mode}: GET /sessions should list exactly the session written through its own API; "
                f"another mode's session here means a shared session table"
            )
            own = get_session(app, written[mode].session_id)
            assert own.status == 200, f"{mode}: its own session should be readable by id"
            assert own.body["session_name"] == written[mode].session_name, f"{mode}: session read back unchanged"
            assert own.body["session_state"] == {"mode": mode}, f"{mode}: session state read back unchanged"
            for other in MODES:
                if other != mode:
                    foreign = get_session(app, written[other].session_id)
                    assert foreign.status == 404, (
                        f"{mode}'s API found {other}'s session by id ({foreign.status}): the modes share storage"
                    )

    def test_rows_are_in_the_modes_own_database(
        self, layout: PgServer, apps: dict[str, HiveApp], written: dict[str, Written]
    ) -> None:
        for mode in MODES:
            database = DATABASES[mode]
            memories = {row[0] for row in query(layout, database, MEMORIES_SQL)}
            assert memories == {written[mode].memory}, (
                f"{database}.{AGNO_SCHEMA}.{MEMORY_TABLE} should hold exactly {mode}'s memory (seen as superuser)"
            )
            sessions = {row[0] for row in query(layout, database, SESSIONS_SQL)}
            assert sessions == {written[mode].session_id}, (
                f"{database}.{AGNO_SCHEMA}.{SESSION_TABLE} should hold exactly {mode}'s session"
            )

    def test_startup_footprint(self, layout: PgServer, apps: dict[str, HiveApp]) -> None:
        """What the app did in each database: schema ``ai`` and its tables, nothing else."""
        superuser, owner = query(
            layout,
            "postgres",
            f"SELECT r.rolsuper, pg_get_userbyid(d.datdba) FROM pg_roles r, pg_database d "
            f"WHERE r.rolname = '{ROLE}' AND d.datname = '{DATABASES['workspace']}'",
        )[0]
        assert not superuser and owner == ROLE, "the app must run as a non-superuser role that owns its database"
        for mode in MODES:
            database = DATABASES[mode]
            schemas = dict(
                query(
                    layout,
                    database,
                    "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                    "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
                )
            )
            expected = {"public", AGNO_SCHEMA} | {SCHEMAS[mode]}
            assert set(schemas) == expected, (
                f"{database}: the app should add only schema {AGNO_SCHEMA!r} (no 'hive', no 'agno' without a "
                f"knowledge base); found {sorted(schemas)}"
            )
            assert schemas[AGNO_SCHEMA] == ROLE, f"{database}: the app's role created {AGNO_SCHEMA!r} and owns it"
            tables = query(
                layout,
                database,
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
            )
            elsewhere = sorted(f"{schema}.{name}" for schema, name in tables if schema != AGNO_SCHEMA)
            assert elsewhere == [], (
                f"{database}: every table of the app is schema-qualified in {AGNO_SCHEMA!r}, whatever the "
                f"search_path; the mode schema {SCHEMAS[mode]!r} stays empty. Found {elsewhere}"
            )
            names = {name for _, name in tables}
            assert {MEMORY_TABLE, SESSION_TABLE, "agno_schema_versions"} <= names, (
                f"{database}: the app creates its tables at start-up; found {sorted(names)}"
            )
            extensions = set(
                query(layout, database, "SELECT extname, extnamespace::regnamespace::text FROM pg_extension")
            )
            assert extensions == {("plpgsql", "pg_catalog"), (EXTENSION, "public")}, (
                f"{database}: the app should create no extension (only the admin's {EXTENSION} in public); "
                f"found {sorted(extensions)}"
            )

    def test_search_path_option_reaches_the_apps_connections(
        self, apps: dict[str, HiveApp], app_venv: AppVenv, tmp_path: Path
    ) -> None:
        for mode, app in apps.items():
            seen = probe_connection(app_venv, app.env, tmp_path)
            path = [part.strip() for part in seen["search_path"].split(",")]
            expected = ['"$user"', "public"] if SCHEMAS[mode] == "public" else [SCHEMAS[mode], "public"]
            assert path == expected, (
                f"{mode}: Agno's engine on HIVE_DATABASE_URL should pass options=-csearch_path through "
                f"SQLAlchemy and psycopg to the server; got {seen['search_path']!r}"
            )
            assert (seen["user"], seen["database"]) == (ROLE, DATABASES[mode]), f"{mode}: logs in as {ROLE} to its db"

    def test_api_requires_the_key_when_os_security_key_is_set(self, apps: dict[str, HiveApp]) -> None:
        for mode, app in apps.items():
            anonymous = api(app, "GET", "/memories", authenticate=False)
            assert anonymous.status == 401, f"{mode}: with OS_SECURITY_KEY set, no Authorization header is 401"
            wrong = api(app, "GET", "/memories", token="hive_not_the_key_" + "x" * 30)
            assert wrong.status == 401, f"{mode}: a wrong bearer token is 401"
            right = api(app, "GET", "/memories")
            assert right.status == 200, f"{mode}: 'Authorization: Bearer <HIVE_API_KEY>' is accepted"


# -- negative control: all modes in one database -------------------------------------------


class TestOneSharedDatabase:
    """The old layout: modes told apart by search_path alone. They share everything.

    The env is exactly the .env keys (no OS_SECURITY_KEY), which also shows
    that HIVE_API_KEY alone protects nothing.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def apps(
        cls, layout: PgServer, app_venv: AppVenv, hive_project: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[dict[str, HiveApp]]:
        base = secrets.token_urlsafe(32)
        root = tmp_path_factory.mktemp("one-database")
        apps = [
            HiveApp(mode, mode_env(mode, layout, SHARED_DATABASE, free_port(), base), root / mode, app_venv)
            for mode in MODES
        ]
        with ExitStack() as stack:
            # The first server creates the shared tables alone: concurrent first-time
            # DDL in one database is not what this control is about.
            first = stack.enter_context(running_apps(hive_project, apps[:1]))
            rest = stack.enter_context(running_apps(hive_project, apps[1:]))
            yield {**first, **rest}

    @pytest.fixture(scope="class")
    @classmethod
    def written(cls, apps: dict[str, HiveApp]) -> dict[str, Written]:
        return write_through_api(apps)

    def test_modes_see_each_others_memories_and_sessions(
        self, apps: dict[str, HiveApp], written: dict[str, Written]
    ) -> None:
        every_memory = {item.memory for item in written.values()}
        every_session = {item.session_id for item in written.values()}
        for mode, app in apps.items():
            memories = {memory["memory"] for memory in list_memories(app)}
            assert memories == every_memory, (
                f"{mode} on the shared database should see every mode's memory (one {AGNO_SCHEMA}.{MEMORY_TABLE} "
                "whatever the search_path). If this fails, the app now separates modes by itself and the "
                "reason for one database per mode has changed"
            )
            sessions = {session["session_id"] for session in list_sessions(app)}
            assert sessions == every_session, f"{mode} on the shared database should list every mode's session"

    def test_all_rows_land_in_one_table(
        self, layout: PgServer, apps: dict[str, HiveApp], written: dict[str, Written]
    ) -> None:
        memories = {row[0] for row in query(layout, SHARED_DATABASE, MEMORIES_SQL)}
        assert memories == {item.memory for item in written.values()}, (
            f"all modes' memories should be rows of the one {SHARED_DATABASE}.{AGNO_SCHEMA}.{MEMORY_TABLE}"
        )
        in_mode_schemas = query(
            layout,
            SHARED_DATABASE,
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('agent', 'genie')",
        )
        assert in_mode_schemas == [], "search_path=<mode>,public puts none of the app's tables in the mode schema"

    def test_hive_api_key_alone_leaves_the_api_open(self, apps: dict[str, HiveApp]) -> None:
        for mode, app in apps.items():
            anonymous = api(app, "GET", "/memories", authenticate=False)
            assert anonymous.status == 200, (
                f"{mode}: the app ignores HIVE_API_KEY (AgentOS checks only OS_SECURITY_KEY), so a request "
                f"without credentials is served ({anonymous.status}). If this fails, the app now enforces "
                "HIVE_API_KEY: revisit rendering OS_SECURITY_KEY into the .env files"
            )


# -- privileges: a database the role does not own ------------------------------------------


class TestDatabasePrivileges:
    """The app needs CREATE on its database for ``CREATE SCHEMA IF NOT EXISTS ai``.

    Owning the database (the planned layout) gives it that. Without it, a
    schema ``ai`` made beforehand by the admin for the role is enough.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def apps(
        cls, layout: PgServer, app_venv: AppVenv, hive_project: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[dict[str, HiveApp]]:
        base = secrets.token_urlsafe(32)
        root = tmp_path_factory.mktemp("privileges")
        apps = [
            HiveApp(database, mode_env("workspace", layout, database, free_port(), base), root / database, app_venv)
            for database in (NO_CREATE_DATABASE, ADMIN_SCHEMA_DATABASE)
        ]
        with running_apps(hive_project, apps) as running:
            yield running

    def test_without_create_on_the_database_health_is_ok_but_writes_fail(
        self, layout: PgServer, apps: dict[str, HiveApp]
    ) -> None:
        app = apps[NO_CREATE_DATABASE]
        assert api(app, "GET", "/health").status == 200, "/health does not look at the database"
        failed = api(app, "POST", "/memories", body={"memory": "lost", "user_id": USER_ID})
        assert failed.status == 500, (
            "without CREATE on the database the app cannot create schema 'ai' (it only logs a warning), "
            f"so writes fail; got {failed.status}"
        )
        schemas = query(layout, NO_CREATE_DATABASE, f"SELECT 1 FROM pg_namespace WHERE nspname = '{AGNO_SCHEMA}'")
        assert schemas == [], f"no schema {AGNO_SCHEMA!r} could be created by a role without CREATE"

    def test_an_ai_schema_made_by_the_admin_is_enough(self, layout: PgServer, apps: dict[str, HiveApp]) -> None:
        app = apps[ADMIN_SCHEMA_DATABASE]
        create_memory(app, "kept", USER_ID)
        assert {memory["memory"] for memory in list_memories(app)} == {"kept"}, (
            f"with {AGNO_SCHEMA!r} created by the admin AUTHORIZATION {ROLE}, the app works without CREATE"
        )


# -- the harness itself (no app needed) ------------------------------------------------------

FAKE_SECRETS = {
    "HIVE_DATABASE_URL": "postgresql+psycopg://hive:s3cret%2Fpw@127.0.0.1:5532/hive_agent?options=-csearch_path%3Dagent",
    "POSTGRES_PASSWORD": "s3cret/pw",
    "HIVE_API_KEY": "hive_agent_" + "k" * 43,
    "OPENAI_API_KEY": "sk-dummy-not-a-real-key",
    "HIVE_API_PORT": "1",
}


def _fake_app(tmp_path: Path, script: str) -> tuple[HiveApp, Path]:
    """A HiveApp whose ``hive`` is a shell script, and an empty project to copy."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "hive").write_text("#!/bin/sh\n" + script)
    (bin_dir / "hive").chmod(0o755)
    project = tmp_path / "project"
    project.mkdir()
    env = {**FAKE_SECRETS, "HIVE_API_PORT": str(free_port())}
    return HiveApp("fake", env, tmp_path / "work", AppVenv(tmp_path / "venv", 0.0, built=False)), project


def test_a_server_that_exits_fails_with_its_log_masked(tmp_path: Path) -> None:
    app, project = _fake_app(
        tmp_path,
        'echo "url=$HIVE_DATABASE_URL password=$POSTGRES_PASSWORD key=$HIVE_API_KEY model=$OPENAI_API_KEY"\n'
        'echo "decoded password s3cret/pw in a libpq message"\nexit 3\n',
    )
    message = start_failure(project, app)
    assert "exited with code 3" in message, "the failure says the server exited, with its code"
    assert "url=***" in message and "key=***" in message, "the log lines are shown, with the secrets masked"
    for key, value in FAKE_SECRETS.items():
        if key != "HIVE_API_PORT":
            assert value not in message, f"the value of {key} must not appear in a failure message"
    assert "s3cret" not in message, "neither may the password inside the URL, encoded or decoded"


def test_a_server_that_never_answers_is_stopped(tmp_path: Path) -> None:
    app, project = _fake_app(tmp_path, "echo waiting forever\nexec sleep 600\n")
    message = start_failure(project, app, timeout=1)
    assert "did not answer ok within 1 s" in message and "waiting forever" in message, "timeout named, log shown"
    assert app.process is not None and app.process.returncode is not None, "the server is stopped, not left running"


def test_a_stray_env_file_is_refused(tmp_path: Path) -> None:
    app, project = _fake_app(tmp_path, "exit 0\n")
    (project / ".env").write_text("HIVE_DATABASE_URL=postgresql+psycopg://hive:hive@localhost:5532/automagik_hive\n")
    with pytest.raises(RuntimeError, match=r"\.env exists"):
        app.launch(project)


def start_failure(project: Path, app: HiveApp, timeout: float = 30) -> str:
    """The message of the AppStartError that starting ``app`` raises."""
    with pytest.raises(AppStartError) as caught, running_apps(project, [app], timeout=timeout):
        pass
    return str(caught.value)
