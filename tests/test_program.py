"""The whole ``__main__.py`` under mocks, as `pulumi preview` and `pulumi up` run it."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from dotenv import dotenv_values

from tests.support.mocks import Registration, Secret, reveal
from tests.support.program import ProgramRun, run_program

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
PG = "postgresql:index/"
ENVFILE = "pulumi-python:dynamic/hive:EnvFile"
SECRET_EXPORTS = ("databaseUrls", "apiKeys", "envFiles")
SUPPLIED = {
    "dbPassword": "Db-Pa55word/with:odd@chars",
    "adminPassword": "Adm1nPassw0rdLongEnough",
    "apiKeyBase": "B" * 43,
}


@pytest.fixture(scope="module")
def up() -> ProgramRun:
    return run_program(preview=False)


@pytest.fixture(scope="module")
def preview() -> ProgramRun:
    return run_program(preview=True)


@pytest.fixture(scope="module")
def schema_up() -> ProgramRun:
    """The seed's one-database layout (``isolation=schema``)."""
    return run_program({"isolation": "schema"})


LAYOUT = "pulumi-python:dynamic/hive:StackLayout"
#: The workspace database's URN as the program before ``isolation`` existed
#: registered it (commit a732976, same mocks): an upgrade must not replace it.
OLD_WORKSPACE_DATABASE_URN = (
    "urn:pulumi:dev::hive::hive:index:HiveDatabase$postgresql:index/database:Database::hive-database-database"
)
COMMON = [
    ("hive:index:HiveStack", "hive"),
    (LAYOUT, "hive-layout"),
    ("hive:index:HiveSecrets", "hive-secrets"),
    ("random:index/randomPassword:RandomPassword", "hive-secrets-admin-password"),
    ("random:index/randomPassword:RandomPassword", "hive-secrets-db-password"),
    ("random:index/randomPassword:RandomPassword", "hive-secrets-api-key-base"),
    ("hive:index:SharedPostgres", "hive-postgres"),
    ("pulumi-python:dynamic/hive:ServerGuard", "hive-postgres-guard"),
    ("docker:index/remoteImage:RemoteImage", "hive-postgres-image"),
    ("docker:index/network:Network", "hive-postgres-network"),
    (VOLUME, "hive-postgres-data"),
    (CONTAINER, "hive-postgres-container"),
    ("hive:index:HiveDatabase", "hive-database"),
    ("pulumi:providers:postgresql", "hive-database-provider"),
    (PG + "role:Role", "hive-database-role"),
    (PG + "database:Database", "hive-database-database"),
    (PG + "extension:Extension", "hive-database-extension-vector"),
    (PG + "schema:Schema", "hive-database-schema-agent"),
    (PG + "schema:Schema", "hive-database-schema-genie"),
    (PG + "grant:Grant", "hive-database-close-postgres"),
    (PG + "grant:Grant", "hive-database-close-template1"),
    ("docker:index/remoteImage:RemoteImage", "hive-api-image"),
    ("hive:index:HiveApi", "hive-api-workspace"),
    ("hive:index:HiveApi", "hive-api-agent"),
    ("hive:index:HiveApi", "hive-api-genie"),
    (CONTAINER, "hive-api-workspace-container"),
    (CONTAINER, "hive-api-agent-container"),
    (CONTAINER, "hive-api-genie-container"),
    *(("pulumi-python:dynamic/hive:ApiHealth", f"hive-api-{mode}-health") for mode in ("workspace", "agent", "genie")),
    (VOLUME, "hive-api-workspace-logs"),
    (VOLUME, "hive-api-workspace-data"),
    (VOLUME, "hive-api-agent-logs"),
    (VOLUME, "hive-api-agent-data"),
    (VOLUME, "hive-api-genie-logs"),
    (VOLUME, "hive-api-genie-data"),
    (ENVFILE, "hive-envfile-workspace"),
    (ENVFILE, "hive-envfile-agent"),
    (ENVFILE, "hive-envfile-genie"),
    ("pulumi-python:dynamic/hive:DataBackup", "hive-backup"),
    ("random:index/randomId:RandomId", "hive-protect-data"),
]


def env_list(reg: Registration) -> dict[str, str]:
    envs = reveal(reg.inputs["envs"])
    return dict(item.split("=", 1) for item in envs)


def test_registers_the_expected_resources(up: ProgramRun) -> None:
    got = sorted((r.type, r.name) for r in up.registrations)
    expected = sorted(
        [
            *COMMON,
            (PG + "database:Database", "hive-database-database-agent"),
            (PG + "database:Database", "hive-database-database-genie"),
            (PG + "extension:Extension", "hive-database-extension-vector-agent"),
            (PG + "extension:Extension", "hive-database-extension-vector-genie"),
        ]
    )
    assert got == expected, "the default stack: a database per mode, each with its extension"


def test_schema_isolation_registers_the_seed_layout(schema_up: ProgramRun) -> None:
    got = sorted((r.type, r.name) for r in schema_up.registrations)
    expected = sorted(
        [
            *COMMON,
            (PG + "schema:Schema", "hive-database-extensions-schema"),
            (PG + "grant:Grant", "hive-database-extensions-usage"),
        ]
    )
    assert got == expected, "one database, a schema per mode and the shared extensions schema"


@pytest.mark.parametrize("isolation", ["database", "schema"])
def test_the_workspace_database_keeps_its_urn(isolation: str, up: ProgramRun, schema_up: ProgramRun) -> None:
    run = up if isolation == "database" else schema_up
    assert run.named("hive-database-database").urn == OLD_WORKSPACE_DATABASE_URN, (
        "an upgrade of the program must never replace (drop) the workspace database"
    )


def test_every_resource_waits_for_the_layout_record(up: ProgramRun) -> None:
    layout = up.named("hive-layout")
    assert layout.parent == up.named("hive").urn, "the record belongs to the HiveStack"
    assert reveal(layout.inputs["isolation"]) == "database" and layout.inputs["allowChange"] is False, (
        "it records the layout being deployed"
    )
    assert reveal(layout.inputs["databases"]) == {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}
    assert layout.inputs["data"] == "volume hive-postgres-data" and layout.inputs["dropsData"] is False, (
        "and where the data is, so that a later up that would move it is refused"
    )
    moved = run_program({"namePrefix": "h2"}).named("hive-layout").inputs["data"]
    assert moved == "volume h2-postgres-data", "namePrefix renames the volume: a new place for the data"
    for component in ("hive-secrets", "hive-postgres", "hive-database"):
        assert layout.urn in up.named(component).dependencies, (
            f"{component} (and so its children) waits for the layout check"
        )
    for name in ("hive-envfile-workspace", "hive-api-image", "hive-api-agent"):
        assert layout.urn in up.named(name).dependencies, f"{name} waits for the layout check"


def test_every_resource_has_a_component_parent(up: ProgramRun) -> None:
    for reg in up.registrations:
        if reg.type == "hive:index:HiveStack":
            assert reg.parent.endswith("pulumi:pulumi:Stack::hive-dev"), "HiveStack hangs off the stack root"
            continue
        parent = up.by_urn(reg.parent)
        assert parent.type.startswith("hive:index:"), f"{reg.name} must be parented to a component"
        assert reg.name.startswith(parent.name + "-"), f"{reg.name} is named after its parent {parent.name}"


def test_postgres_container(up: ProgramRun) -> None:
    pg = up.named("hive-postgres-container")
    inputs = pg.inputs
    assert inputs["name"] == "hive-postgres-shared", "the shared container's legacy name"
    assert reveal(inputs["ports"]) == [{"internal": 5432, "external": 5532, "ip": "127.0.0.1"}], (
        "5432 published on bindAddress:dbPort only"
    )
    assert isinstance(inputs["envs"], Secret), "the container env holds the admin password: secret"
    env = env_list(pg)
    assert env["POSTGRES_USER"] == "postgres" and len(env["POSTGRES_PASSWORD"]) >= 32, "admin user and password"
    assert env["PGDATA"] == "/var/lib/postgresql/data/pgdata", "PGDATA under the volume, as the legacy layout"
    assert "POSTGRES_DB" not in env, "the Database resource creates the database; POSTGRES_DB would clash"
    assert inputs["command"] == [
        "postgres", "-c", "max_connections=200", "-c", "shared_buffers=256MB", "-c", "effective_cache_size=1GB",
    ], "the legacy tuning flags"  # fmt: skip
    check = inputs["healthcheck"]["tests"]
    assert check[:2] == ["CMD", "pg_isready"] and check[2:4] == ["-h", "127.0.0.1"], (
        "pg_isready over TCP, or it reports ready during init"
    )
    assert inputs["wait"] is True and inputs["waitTimeout"] >= 120, "up waits for healthy, generously"
    assert inputs["restart"] == "unless-stopped", "survives reboots like the compose file"
    assert inputs["volumes"] == [{"volumeName": "hive-postgres-data", "containerPath": "/var/lib/postgresql/data"}], (
        "data on the named volume"
    )
    assert inputs["networksAdvanced"] == [{"name": "hive-network", "aliases": ["hive-postgres-shared"]}], (
        "API containers reach it by name on the shared network"
    )
    assert pg.delete_before_replace, "a fixed container name cannot exist twice during a replace"
    assert pg.replace_on_changes == ["healthcheck"], "a healthcheck Docker cannot change in place means a new container"


def test_the_server_guard_checks_the_container_before_any_of_its_objects(up: ProgramRun) -> None:
    guard = up.named("hive-postgres-guard")
    inputs = guard.inputs
    assert (inputs["container"], inputs["image"], inputs["adminUser"]) == (
        "hive-postgres-shared", "agnohq/pgvector:16", "postgres",
    ), "it reads the stack's own container and compares the configured image and login"  # fmt: skip
    assert (inputs["port"], inputs["bindAddress"], inputs["label"]) == (5532, "127.0.0.1", "hive/dev"), "and port"
    assert isinstance(inputs["adminPassword"], Secret), "the admin password it compares stays secret in the state"
    assert "adminPassword" in guard.additional_secret_outputs, "and in its outputs"
    for name in ("hive-postgres-image", "hive-postgres-network", "hive-postgres-data", "hive-postgres-container"):
        assert guard.urn in up.named(name).dependencies, (
            f"{name} waits for the guard, so a refused change touches nothing of the server"
        )


def test_network_and_volume_names(up: ProgramRun) -> None:
    assert up.named("hive-postgres-network").inputs["name"] == "hive-network", "<prefix>-network"
    volume = up.named("hive-postgres-data")
    assert volume.inputs["name"] == "hive-postgres-data", "<prefix>-postgres-data"
    assert not volume.protect, "protectData defaults to false"


def test_protect_data_protects_the_volumes_only() -> None:
    run = run_program({"protectData": True})
    assert run.named("hive-postgres-data").protect, "protectData makes destroy refuse to delete the volume"
    for mode in ("workspace", "agent", "genie"):
        for kind in ("logs", "data"):
            assert run.named(f"hive-api-{mode}-{kind}").protect, f"{mode}'s {kind} volume is protected like the data"
        assert not run.named(f"hive-api-{mode}-container").protect, f"{mode}: the container itself is replaceable"
    assert not run.named("hive-postgres-container").protect, "the container is replaceable; data is in the volume"


@pytest.mark.parametrize("protect", [True, False])
def test_the_data_guard_is_deleted_before_anything_else(protect: bool) -> None:
    run = run_program({"protectData": protect})
    guard = run.named("hive-protect-data")
    assert guard.protect is protect, "protected exactly when protectData is set"
    reached = run.reached_from(guard.urn)
    custom = [r for r in run.registrations if r.custom and r.urn != guard.urn and "pulumi:providers:" not in r.type]
    assert len(custom) > 30, "the whole default stack is declared"
    unguarded = sorted(r.name for r in custom if r.urn not in reached)
    assert not unguarded, (
        "a destroy deletes dependents first: every resource must be a dependency of the guard, so that a "
        f"protected guard stops the destroy before anything is deleted; not guarded: {unguarded}"
    )


def test_api_volumes(up: ProgramRun) -> None:
    for mode in ("workspace", "agent", "genie"):
        api = up.named(f"hive-api-{mode}")
        for kind in ("logs", "data"):
            volume = up.named(f"hive-api-{mode}-{kind}")
            assert volume.inputs["name"] == f"hive-{mode}-{kind}", f"{mode}: <prefix>-<mode>-{kind}"
            assert volume.parent == api.urn, f"{mode}'s {kind} volume belongs to its API component"
            assert volume.inputs["labels"] == [{"label": "org.automagik-hive.pulumi-stack", "value": "hive/dev"}], (
                f"{mode}'s {kind} volume carries the stack label, as every Docker object of the stack"
            )
            assert not volume.protect, "protectData defaults to false"
            assert volume.delete_before_replace, "a fixed volume name cannot exist twice during a replace"
    prefixed = run_program({"namePrefix": "h2", "modes": ["genie"]})
    assert sorted(r.inputs["name"] for r in prefixed.of_type(VOLUME)) == [
        "h2-genie-data", "h2-genie-logs", "h2-postgres-data",
    ], "volume names follow namePrefix and only the selected modes get theirs"  # fmt: skip


def test_api_health_path_reaches_the_healthcheck() -> None:
    run = run_program({"apiHealthPath": "/ready/now", "modes": ["agent"]})
    check = run.named("hive-api-agent-container").inputs["healthcheck"]["tests"]
    assert check[-1] == "http://127.0.0.1:38886/ready/now", "apiHealthPath is the path the probe requests"


def test_provider_connects_as_admin_to_the_published_port(up: ProgramRun) -> None:
    provider = up.named("hive-database-provider")
    inputs = provider.inputs
    assert (inputs["host"], inputs["port"], inputs["username"]) == ("localhost", "5532", "postgres"), (
        "the admin on localhost:dbPort (provider config values are strings on the wire)"
    )
    assert inputs["sslmode"] == "disable", "the local container speaks no TLS"
    assert isinstance(inputs["password"], Secret), "the admin password stays secret in the provider's state"
    container = up.named("hive-postgres-container")
    assert container.urn in provider.dependencies, "the provider is configured after the container exists"


def test_role(up: ProgramRun, schema_up: ProgramRun) -> None:
    role = up.named("hive-database-role").inputs
    assert role["name"] == "hive" and role["login"] is True, "the app logs in as dbUser"
    assert role["superuser"] is False and role["createDatabase"] is False and role["createRole"] is False, (
        "the app role has no cluster-wide powers"
    )
    assert role["searchPaths"] == ["public"], "workspace finds its tables and the extension types in public"
    assert isinstance(role["password"], Secret), "the role password is secret"
    schema_role = schema_up.named("hive-database-role").inputs
    assert schema_role["searchPaths"] == ["public", "extensions"], "one database: the extensions schema too"


def test_a_database_per_mode_owned_by_the_role(up: ProgramRun) -> None:
    databases = {r.inputs["name"]: r.inputs for r in up.of_type(PG + "database:Database")}
    assert set(databases) == {"hive", "hive_agent", "hive_genie"}, "the legacy installs' database names"
    for name, db in databases.items():
        assert db["owner"] == "hive", f"{name}: owning the database lets the role use its public schema"
    schemas = {r.inputs["name"]: r.inputs for r in up.of_type(PG + "schema:Schema")}
    assert {(n, s["database"], s["owner"]) for n, s in schemas.items()} == {
        ("agent", "hive_agent", "hive"),
        ("genie", "hive_genie", "hive"),
    }, "each mode's schema inside its own database, the role's; public and extensions are never declared"
    extensions = {(r.inputs["database"], r.inputs["schema"]) for r in up.of_type(PG + "extension:Extension")}
    assert extensions == {("hive", "public"), ("hive_agent", "public"), ("hive_genie", "public")}, (
        "vector in each database's public schema, where a legacy dump expects public.vector"
    )
    grants = [r.inputs for r in up.of_type(PG + "grant:Grant")]
    assert all(g["role"] == "public" for g in grants), "the role owns each database, so it needs no grant"


def test_the_stacks_own_server_closes_its_maintenance_databases(up: ProgramRun) -> None:
    closed = {r.inputs["database"]: r.inputs for r in up.of_type(PG + "grant:Grant") if r.inputs["role"] == "public"}
    assert set(closed) == {"postgres", "template1"}, "every role could log in to these; the app has no business there"
    for database, grant in closed.items():
        assert grant["objectType"] == "database" and grant["privileges"] == [], (
            f"{database}: an empty grant makes the provider revoke PUBLIC's CONNECT and TEMPORARY"
        )


def test_database_owned_by_the_role(schema_up: ProgramRun) -> None:
    db = schema_up.named("hive-database-database").inputs
    assert db["name"] == "hive" and db["owner"] == "hive", "owning the database lets the role use public on PG 15"


def test_schemas_extensions_and_grant(schema_up: ProgramRun) -> None:
    schemas = {r.inputs["name"]: r.inputs for r in schema_up.of_type(PG + "schema:Schema")}
    assert set(schemas) == {"extensions", "agent", "genie"}, "one schema per non-public mode plus extensions"
    assert "public" not in schemas, "declaring public would drop it on destroy"
    assert schemas["agent"]["owner"] == "hive" and schemas["genie"]["owner"] == "hive", "mode schemas: the role's"
    assert schemas["extensions"]["owner"] == "postgres", "the role may use the extensions but not drop them"
    ext = schema_up.named("hive-database-extension-vector").inputs
    assert (ext["name"], ext["schema"], ext["database"]) == ("vector", "extensions", "hive"), "vector in extensions"
    grant = schema_up.named("hive-database-extensions-usage").inputs
    assert (grant["objectType"], grant["schema"], grant["privileges"], grant["role"]) == (
        "schema",
        "extensions",
        ["USAGE"],
        "hive",
    ), "USAGE on the extensions schema for the role"


#: Databases, mode schemas and extensions (users' columns are of their types: a vector column).
HOLDS_DATA = (PG + "database:Database", PG + "schema:Schema", PG + "extension:Extension")


@pytest.mark.parametrize("isolation", ["database", "schema"])
def test_every_database_object_goes_with_the_data_volume(isolation: str, up: ProgramRun, schema_up: ProgramRun) -> None:
    run = up if isolation == "database" else schema_up
    container = run.named("hive-postgres-container").urn
    volume = run.named("hive-postgres-data").urn
    provider = run.named("hive-database-provider")
    in_db = [r for r in run.registrations if r.type.startswith(PG)]
    assert len(in_db) == (11 if isolation == "database" else 9), (
        "role, databases, schemas, extensions (, grant), and closing the two maintenance databases"
    )
    for reg in in_db:
        assert reg.deleted_with == volume, (
            f"{reg.name}: deleted with the data (destroy does not drop it from a server going away), never with "
            "the container, whose replacement (a new image, a repair) would replace the object too"
        )
        assert container in reg.dependencies, f"{reg.name} is created only after the container"
        assert reg.provider.startswith(provider.urn + "::"), f"{reg.name} goes through the hive provider"
        data = reg.type in HOLDS_DATA and reg.inputs.get("name") != "extensions"
        assert reg.retain_on_delete == data, (
            f"{reg.name}: a database, mode schema or extension the config stops naming stays on the server with "
            "its rows; other objects are removed"
        )


def test_api_containers(up: ProgramRun) -> None:
    in_db = {r.urn for r in up.registrations if r.type.startswith(PG)}
    expected = {"workspace": ("hive-agents", 8886), "agent": ("hive-agent-dev-server", 38886),
                "genie": ("hive-genie-server", 48886)}  # fmt: skip
    for mode, (name, port) in expected.items():
        reg = up.named(f"hive-api-{mode}-container")
        inputs = reg.inputs
        assert inputs["name"] == name, f"{mode}: the legacy compose container name"
        assert inputs["ports"] == [{"internal": port, "external": port, "ip": "127.0.0.1"}], f"{mode}: its API port"
        assert inputs["networksAdvanced"] == [{"name": "hive-network"}], f"{mode}: on the shared network"
        assert inputs["restart"] == "unless-stopped", f"{mode}: restarts like the compose file"
        check = inputs["healthcheck"]["tests"]
        assert check[:2] == ["CMD", "python3"], (
            f"{mode}: exec form through the image's own python3 (a python:3.11-slim base has no curl or wget)"
        )
        assert not {"curl", "wget", "sh", "bash"} & {word for part in check for word in part.split()}, (
            f"{mode}: the application's image has no curl or wget: {check}"
        )
        assert check[-1] == f"http://127.0.0.1:{port}/health", (
            f"{mode}: asks the API on its own port inside the container, on the built app's /health"
        )
        assert inputs["volumes"] == [
            {"volumeName": f"hive-{mode}-logs", "containerPath": "/app/logs"},
            {"volumeName": f"hive-{mode}-data", "containerPath": "/app/data"},
        ], f"{mode}: logs and data on the mode's own volumes, where the legacy compose mounted them"
        assert isinstance(inputs["envs"], Secret), f"{mode}: its env holds the password and key"
        env = env_list(reg)
        assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("hive-postgres-shared", "5432"), (
            f"{mode}: inside the network, the container name and 5432"
        )
        database = {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}[mode]
        assert f"@hive-postgres-shared:5432/{database}" in env["HIVE_DATABASE_URL"], f"{mode}: URL to its database"
        assert env["POSTGRES_DB"] == database, f"{mode}: POSTGRES_DB names its own database"
        assert env["HIVE_API_PORT"] == str(port), f"{mode}: listens on the port it publishes"
        assert in_db <= set(reg.dependencies), f"{mode}: starts only after every database object exists"
        assert inputs["wait"] is False, f"{mode}: the provider's wait (blind to a crashing app) is not used"
        waiter = up.named(f"hive-api-{mode}-health")
        assert waiter.type == "pulumi-python:dynamic/hive:ApiHealth", f"{mode}: the stack's own health wait"
        assert waiter.parent == up.named(f"hive-api-{mode}").urn, f"{mode}: part of the mode's API component"
        assert reg.urn in waiter.dependencies, f"{mode}: up waits for the API to answer, after the container exists"
        assert waiter.inputs["container"] == name, f"{mode}: the health wait polls that container"
        assert reg.replace_on_changes == ["healthcheck"], (
            f"{mode}: Docker cannot change a healthcheck in place; the provider's update would only change the state"
        )
        assert waiter.inputs["timeout"] == 180, f"{mode}: for apiHealthTimeout's default"
        health = inputs["healthcheck"]
        assert (health["interval"], health["timeout"], health["startPeriod"]) == ("5s", "5s", "2m0s"), (
            f"{mode}: health reported within seconds of the app answering; a slow first start is not unhealthy"
        )


def test_api_health_timeout_reaches_every_api_container() -> None:
    run = run_program({"apiHealthTimeout": 45})
    for mode in ("workspace", "agent", "genie"):
        assert run.named(f"hive-api-{mode}-health").inputs["timeout"] == 45, f"{mode} waits 45 s"


def test_no_api_containers_when_disabled() -> None:
    run = run_program({"apiContainers": False})
    assert not run.of_type("hive:index:HiveApi"), "apiContainers=false declares no API component"
    names = {r.name for r in run.registrations}
    assert "hive-api-image" not in names, "nor pulls the API image"
    assert [r.inputs["name"] for r in run.of_type(CONTAINER)] == ["hive-postgres-shared"], "only postgres runs"
    assert set(run.outputs["envFiles"].value) == {"workspace", "agent", "genie"}, ".env files are still rendered"


def test_workspace_only() -> None:
    run = run_program({"modes": ["workspace"]})
    assert not run.of_type(PG + "schema:Schema"), "no schema to declare when only workspace (public) runs"
    assert [r.inputs["name"] for r in run.of_type(PG + "database:Database")] == ["hive"], "one database"
    schema_run = run_program({"modes": ["workspace"], "isolation": "schema"})
    schemas = {r.inputs["name"] for r in schema_run.of_type(PG + "schema:Schema")}
    assert schemas == {"extensions"}, "in one database only the shared extensions schema"
    assert [r.inputs["name"] for r in run.of_type(CONTAINER)] == ["hive-postgres-shared", "hive-agents"] or [
        r.inputs["name"] for r in run.of_type(CONTAINER)
    ] == ["hive-agents", "hive-postgres-shared"], "one API container"
    for key in ("ports", "schemas", "databases", "databaseUrls", "apiKeys", "envFiles"):
        assert set(run.outputs[key].value) == {"workspace"}, f"{key} lists only the selected mode"


def test_supplied_secrets_are_used_and_not_generated() -> None:
    run = run_program(SUPPLIED)
    assert not run.of_type("random:index/randomPassword:RandomPassword"), "nothing to generate"
    urls = run.outputs["databaseUrls"].value
    assert urls["workspace"] == ("postgresql+psycopg://hive:Db-Pa55word%2Fwith%3Aodd%40chars@localhost:5532/hive"), (
        "the supplied password, percent-encoded"
    )
    assert run.outputs["apiKeys"].value["genie"] == "hive_genie_" + "B" * 43, "the supplied key base"
    assert reveal(run.named("hive-database-role").inputs["password"]) == SUPPLIED["dbPassword"], "role password"
    assert env_list(run.named("hive-postgres-container"))["POSTGRES_PASSWORD"] == SUPPLIED["adminPassword"]
    assert isinstance(run.named("hive-database-role").inputs["password"], Secret), "supplied secrets stay secret"


def test_generated_secret_lengths(up: ProgramRun) -> None:
    lengths = {r.name: r.inputs["length"] for r in up.of_type("random:index/randomPassword:RandomPassword")}
    assert lengths["hive-secrets-db-password"] >= 32 and lengths["hive-secrets-admin-password"] >= 32, "passwords"
    assert lengths["hive-secrets-api-key-base"] >= 43, "the legacy key base length"
    for reg in up.of_type("random:index/randomPassword:RandomPassword"):
        assert reg.inputs["special"] is False, f"{reg.name}: no special characters, URL- and .env-safe"


def test_bind_address_and_name_prefix() -> None:
    run = run_program({"bindAddress": "0.0.0.0", "namePrefix": "h2"})
    names = sorted(r.inputs["name"] for r in run.of_type(CONTAINER))
    assert names == ["h2-agent-dev-server", "h2-agents", "h2-genie-server", "h2-postgres-shared"], "prefixed names"
    for reg in run.of_type(CONTAINER):
        assert all(p["ip"] == "0.0.0.0" for p in reveal(reg.inputs["ports"])), f"{reg.name}: published on bind"
    assert run.named("hive-postgres-network").inputs["name"] == "h2-network", "prefixed network"
    assert run.named("hive-database-provider").inputs["host"] == "localhost", "0.0.0.0 is reached on localhost"


def test_specific_bind_address_is_where_clients_connect() -> None:
    run = run_program({"bindAddress": "10.1.2.3"})
    assert run.named("hive-database-provider").inputs["host"] == "10.1.2.3", "localhost would not reach it"
    assert "@10.1.2.3:5532/" in run.outputs["databaseUrls"].value["agent"], ".env URLs use the bound address"
    assert run.outputs["apiUrls"].value["agent"] == "http://10.1.2.3:38886", "so do the API URLs"


def test_exports_shapes(up: ProgramRun) -> None:
    out = {key: value.value for key, value in up.outputs.items()}
    assert set(out) == {
        "postgres", "ports", "schemas", "databases", "apiUrls", "envFilePaths", "databaseUrls", "apiKeys", "envFiles",
    }, "the export set"  # fmt: skip
    postgres = {"mode": "container", "isolation": "database", "container": "hive-postgres-shared",
                "host": "localhost", "port": 5532, "database": "hive", "user": "hive",
                "sslmode": "disable"}  # fmt: skip
    assert out["postgres"] == postgres, "postgres connection facts"
    assert out["ports"] == {"workspace": {"db": 5532, "api": 8886}, "agent": {"db": 5532, "api": 38886},
                            "genie": {"db": 5532, "api": 48886}}, "ports per mode"  # fmt: skip
    assert out["schemas"] == {"workspace": "public", "agent": "agent", "genie": "genie"}, "schema per mode"
    assert out["databases"] == {"workspace": "hive", "agent": "hive_agent", "genie": "hive_genie"}, "db per mode"
    assert {m: f["path"] for m, f in out["envFiles"].items()} == {
        "workspace": ".env", "agent": ".env.agent", "genie": ".env.genie",
    }, "legacy file names under envDir"  # fmt: skip
    assert out["envFilePaths"] == {m: f["path"] for m, f in out["envFiles"].items()}, "the paths, readable"
    assert out["apiUrls"] == {"workspace": "http://localhost:8886", "agent": "http://localhost:38886",
                              "genie": "http://localhost:48886"}, "each mode's API on this machine"  # fmt: skip


def test_env_files_agree_with_the_other_exports(up: ProgramRun) -> None:
    out = {key: value.value for key, value in up.outputs.items()}
    for mode, env_file in out["envFiles"].items():
        values = dotenv_values(stream=io.StringIO(env_file["content"]))
        assert values["HIVE_DATABASE_URL"] == out["databaseUrls"][mode], f"{mode}: one URL everywhere"
        assert values["HIVE_API_KEY"] == out["apiKeys"][mode], f"{mode}: one key everywhere"
        assert values["HIVE_API_PORT"] == str(out["ports"][mode]["api"]), f"{mode}: port from the port function"
        assert values["POSTGRES_PORT"] == str(out["ports"][mode]["db"]), f"{mode}: the shared db port"
        assert values["HIVE_DB_SCHEMA"] == out["schemas"][mode], f"{mode}: the app is told its schema"
        assert env_file["content"].startswith("# Managed by Pulumi stack hive/dev"), f"{mode}: header"


@pytest.mark.parametrize("mode", ["preview", "up"])
def test_one_env_file_per_mode(mode: str, up: ProgramRun, preview: ProgramRun) -> None:
    run = up if mode == "up" else preview
    files = {r.name: r for r in run.of_type(ENVFILE)}
    assert set(files) == {"hive-envfile-workspace", "hive-envfile-agent", "hive-envfile-genie"}, "one per mode"
    paths = {name: reg.inputs["path"] for name, reg in files.items()}
    assert paths == {"hive-envfile-workspace": ".env", "hive-envfile-agent": ".env.agent",
                     "hive-envfile-genie": ".env.genie"}, "legacy names under envDir"  # fmt: skip
    for reg in files.values():
        for key in ("owned", "defaults"):
            value = reg.inputs[key]
            # A first preview knows no generated secret: the SDK (3.260) sends such a
            # list as a bare unknown, which holds nothing to leak; known, it must be secret.
            hidden = isinstance(value, Secret) or (mode == "preview" and isinstance(value, pulumi.output.Unknown))
            assert hidden, f"{reg.name}: {key} holds the password and key: secret whenever it is known"
        assert reg.inputs["header"].startswith("# Managed by Pulumi stack hive/dev"), f"{reg.name}: header"
        assert reg.parent == run.named("hive").urn, f"{reg.name} belongs to the HiveStack"
    if mode == "up":
        owned = dict(reveal(files["hive-envfile-agent"].inputs["owned"]))
        exported = dotenv_values(stream=io.StringIO(run.outputs["envFiles"].value["agent"]["content"]))
        assert owned.items() <= exported.items(), "the file gets exactly the exported values"
        assert owned["HIVE_DB_SCHEMA"] == "agent" and "HIVE_LOG_LEVEL" not in owned, "owned vs seeded keys"


def test_env_dir_moves_the_files() -> None:
    run = run_program({"envDir": "/srv/hive"})
    assert sorted(r.inputs["path"] for r in run.of_type(ENVFILE)) == [
        "/srv/hive/.env", "/srv/hive/.env.agent", "/srv/hive/.env.genie",
    ], "envDir is where the files go"  # fmt: skip


@pytest.mark.parametrize("mode", ["preview", "up"])
def test_secret_exports_are_secret(mode: str, up: ProgramRun, preview: ProgramRun) -> None:
    run = up if mode == "up" else preview
    for key in SECRET_EXPORTS:
        assert run.outputs[key].secret, f"{key} must be secret in {mode}"
    for key in ("postgres", "ports", "schemas", "databases", "apiUrls", "envFilePaths"):
        assert not run.outputs[key].secret, f"{key} holds no secret and stays readable in {mode}"
        assert run.outputs[key].known, f"{key} is known already in a first {mode}: status can show it"


def test_preview_registers_the_same_resources(up: ProgramRun, preview: ProgramRun) -> None:
    assert sorted((r.type, r.name) for r in preview.registrations) == sorted(
        (r.type, r.name) for r in up.registrations
    ), "preview shows what up will create"
    assert not preview.outputs["databaseUrls"].known, "generated secrets are unknown until up creates them"


def test_plain_exports_never_hold_a_secret() -> None:
    run = run_program(SUPPLIED)
    plain = repr(
        [run.outputs[k].value for k in ("postgres", "ports", "schemas", "databases", "apiUrls", "envFilePaths")]
    )
    for secret in SUPPLIED.values():
        assert secret not in plain, "a plain export must not carry a secret"


@pytest.fixture
def audit_io() -> Iterator[list[tuple[str, Any]]]:
    """Records file writes and process starts while a test runs."""
    events: list[tuple[str, Any]] = []
    active = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not active[0]:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & 0o3  # O_WRONLY | O_RDWR
            )
            if writing:
                events.append((event, path))
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.spawn"):
            events.append((event, args[:1]))

    sys.addaudithook(hook)
    yield events
    active[0] = False


@pytest.mark.parametrize("preview_mode", [True, False])
def test_program_writes_no_file_and_starts_no_process(audit_io: list[tuple[str, Any]], preview_mode: bool) -> None:
    run_program(preview=preview_mode)
    assert audit_io == [], f"the program must not touch the machine itself: {audit_io}"


def test_database_objects_are_ordered_explicitly(up: ProgramRun, schema_up: ProgramRun) -> None:
    """Names are passed as plain strings, which carry no dependency: the order
    the server needs is declared with depends_on."""
    urn = {r.name: r.urn for r in up.registrations}
    deps = {r.name: set(r.dependencies) for r in up.registrations}
    for suffix in ("", "-agent", "-genie"):
        assert urn["hive-database-role"] in deps[f"hive-database-database{suffix}"], "the owner exists first"
        assert urn[f"hive-database-database{suffix}"] in deps[f"hive-database-extension-vector{suffix}"], (
            "the extension inside its database"
        )
    for schema, database in (("agent", "-agent"), ("genie", "-genie")):
        assert {urn["hive-database-role"], urn[f"hive-database-database{database}"]} <= deps[
            f"hive-database-schema-{schema}"
        ], f"{schema} after the role and its own database"
    urn = {r.name: r.urn for r in schema_up.registrations}
    deps = {r.name: set(r.dependencies) for r in schema_up.registrations}
    for schema in ("hive-database-schema-agent", "hive-database-schema-genie"):
        assert {urn["hive-database-role"], urn["hive-database-database"]} <= deps[schema], f"{schema} after both"
    assert urn["hive-database-database"] in deps["hive-database-extensions-schema"], "schema inside the database"
    assert urn["hive-database-extensions-schema"] in deps["hive-database-extension-vector"], "extension after schema"
    assert urn["hive-database-role"] in deps["hive-database-extensions-usage"], "grant after the role"


# -- the backup a destroy takes before it deletes the data ---------------------------

BACKUP_TYPE = "pulumi-python:dynamic/hive:DataBackup"
EVERY_DATABASE = [["hive", ["workspace"]], ["hive_agent", ["agent"]], ["hive_genie", ["genie"]]]


def test_the_backup_is_deleted_before_everything_but_the_guard(up: ProgramRun) -> None:
    backup, guard = up.named("hive-backup"), up.named("hive-protect-data")
    assert backup.type == BACKUP_TYPE and backup.parent == up.named("hive").urn, "the HiveStack's DataBackup"
    assert backup.urn in guard.dependencies, "a protected guard refuses the destroy before any dump is taken"
    reached = up.reached_from(backup.urn)
    custom = [r for r in up.registrations if r.custom and "pulumi:providers:" not in r.type]
    missed = sorted(r.name for r in custom if r.urn not in reached and r.urn not in (backup.urn, guard.urn))
    assert len(custom) > 30 and not missed, (
        "a destroy deletes dependents first: the backup must reach every resource (the container, the "
        f"volume, the databases) so that it dumps while they all still exist; not reached: {missed}"
    )


def test_the_backup_logs_in_as_the_app_role_from_this_machine(up: ProgramRun) -> None:
    backup = up.named("hive-backup")
    inputs = backup.inputs
    assert isinstance(inputs["password"], Secret), "the role's password is stored as a secret"
    assert "password" in backup.additional_secret_outputs, "and stays secret among the outputs"
    urls = up.outputs["databaseUrls"].value
    assert f":{reveal(inputs['password'])}@" in urls["workspace"], "it is the password of the URLs"
    plain_inputs = {k: v for k, v in inputs.items() if k not in ("password", "__provider")}
    assert plain_inputs == {
        "enabled": True,
        "folder": "backups",
        "container": "hive-postgres-shared",
        "host": "localhost",
        "port": 5532,
        "user": "hive",
        "databases": EVERY_DATABASE,
        "isolation": "database",
        "stack": "dev",
        "envFiles": [".env", ".env.agent", ".env.genie"],
    }, "on by default: every mode's database, through the container's own pg_dump, into ./backups (no sslmode); "
    "and every .env file, which the destroy checks it can edit before it deletes anything"


def test_the_backup_covers_the_databases_of_modes_not_deployed() -> None:
    run = run_program({"modes": ["workspace"], "isolation": "database"})
    assert reveal(run.named("hive-backup").inputs["databases"]) == EVERY_DATABASE, (
        "a removed mode's database stays on the server (with its rows), so the dump before a destroy "
        "takes it too when it is there"
    )
    schema = run_program({"isolation": "schema"})
    assert reveal(schema.named("hive-backup").inputs["databases"]) == [["hive", ["workspace", "agent", "genie"]]], (
        "isolation=schema: one database holds every mode"
    )


@pytest.mark.parametrize(
    ("config", "enabled", "why"),
    [
        ({"backupOnDestroy": False}, False, "the user turned it off"),
        (
            {"dataPath": "/srv/hive/pg", "adminPassword": "Legacy-Adm1n-Passw0rd"},
            False,
            "a bound data folder outlives the destroy, so nothing is lost",
        ),
        ({"protectData": True}, True, "protectData refuses the destroy; the backup stays armed for when it is off"),
        ({"backupDir": "/var/backups/hive"}, True, "another folder, still on"),
    ],
)
def test_the_backup_is_armed_only_where_a_destroy_deletes_the_rows(
    config: dict[str, Any], enabled: bool, why: str
) -> None:
    backup = run_program(config).named("hive-backup")
    assert backup.inputs["enabled"] is enabled, why
    assert backup.inputs["folder"] == config.get("backupDir", "backups"), "backupDir names the folder"
