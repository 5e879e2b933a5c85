"""The real application on what the program itself made.

``__main__.py`` runs through the provider double against the session's
throwaway server (databases, role, schemas and extensions really created);
each mode's API is then started with exactly the values of the ``.env`` file
the stack rendered for that mode (its ``envFiles`` export), but for the API
port, moved to a free one, and a dummy model key. Both layouts: with
``isolation=database`` (the default) each mode reads back only its own
memories and sessions; with ``isolation=schema`` they share them, as the
README says.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.support.hive_app import (
    AppVenv,
    HiveApp,
    api,
    create_memory,
    create_session,
    list_memories,
    list_sessions,
    running_apps,
)
from tests.support.pg_double import PgDouble, run_main_program
from tests.support.pgserver import PgServer, free_port

MODES = ("workspace", "agent", "genie")
USER_ID = "stack-tier-user"


@dataclass(frozen=True)
class StackApps:
    isolation: str
    apps: dict[str, HiveApp]
    #: {mode: the memory it wrote through its own API}
    memories: dict[str, str]
    sessions: dict[str, str]


def rendered_env(content: str, port: int) -> dict[str, str]:
    """A mode's environment: its rendered .env, exported as `set -a; . ./.env` would."""
    values = {k: v for k, v in dotenv_values(stream=io.StringIO(content)).items() if v is not None}
    return {**values, "HIVE_API_PORT": str(port), "OPENAI_API_KEY": "sk-dummy-not-a-real-key"}


@pytest.fixture(scope="module", params=["database", "schema"])
def stack_apps(
    request: pytest.FixtureRequest,
    pg_server: PgServer,
    app_venv: AppVenv,
    hive_project: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StackApps]:
    isolation: str = request.param
    name = f"stack_{isolation}"  # apart from the other tiers' names on the shared server
    config = {
        "hive:isolation": isolation,
        "hive:database": name,
        "hive:dbUser": name,
        "hive:dbPort": str(pg_server.port),
        "hive:extensions": json.dumps(["citext"]),
        "hive:adminPassword": "container-admin-password",
        "hive:apiContainers": "false",
        "hive:envDir": str(tmp_path_factory.mktemp(f"env-{isolation}")),
    }
    exports = run_main_program(PgDouble(pg_server), config).exports
    root = tmp_path_factory.mktemp(f"apps-{isolation}")
    apps = [
        HiveApp(mode, rendered_env(exports["envFiles"][mode]["content"], free_port()), root / mode, app_venv)
        for mode in MODES
    ]
    with running_apps(hive_project, apps) as running:
        memories, sessions = {}, {}
        for mode, app in running.items():
            token = uuid.uuid4().hex[:8]
            memories[mode] = f"{isolation}: written through the {mode} API ({token})"
            sessions[mode] = f"{isolation}-{mode}-{token}"
            create_memory(app, memories[mode], USER_ID, topics=[mode])
            create_session(app, sessions[mode], f"{mode} session", USER_ID, state={"mode": mode})
        yield StackApps(isolation, running, memories, sessions)


def test_every_mode_starts_on_its_rendered_env_file(stack_apps: StackApps) -> None:
    for mode, app in stack_apps.apps.items():
        assert app.env["POSTGRES_DB"] in app.env["HIVE_DATABASE_URL"], f"{mode}: the .env names one database"
        unauthenticated = api(app, "GET", "/memories", authenticate=False)
        assert unauthenticated.status == 401, (
            f"{mode}: the rendered OS_SECURITY_KEY must close the API to callers without the mode's key"
        )


def test_what_each_mode_reads_back(stack_apps: StackApps) -> None:
    for mode, app in stack_apps.apps.items():
        memories = {m["memory"] for m in list_memories(app, user_id=USER_ID)}
        sessions = {s["session_id"] for s in list_sessions(app, user_id=USER_ID)}
        if stack_apps.isolation == "database":
            assert memories == {stack_apps.memories[mode]}, f"{mode}: exactly its own memory, no other mode's"
            assert sessions == {stack_apps.sessions[mode]}, f"{mode}: exactly its own session, no other mode's"
        else:
            assert memories == set(stack_apps.memories.values()), (
                f"{mode}: one database shares the application's tables, so every mode's memories (README)"
            )
            assert sessions == set(stack_apps.sessions.values()), f"{mode}: and every mode's sessions"
