"""External mode (a server the stack does not run) and a bind-mounted data folder."""

from __future__ import annotations

import pytest

from tests.support.mocks import Secret, reveal
from tests.support.program import ProgramRun, run_program

PG = "postgresql:index/"
EXTERNAL = {
    "postgresMode": "external",
    "postgresHost": "db.example.internal",
    "dbPort": 6543,
    "adminUser": "hiveadmin",
    "adminPassword": "Managed-Adm1n-Passw0rd",
}


@pytest.fixture(scope="module")
def external() -> ProgramRun:
    return run_program(EXTERNAL)


def test_the_data_guard_stands_before_the_databases_too(external: ProgramRun) -> None:
    guard = external.named("hive-protect-data")
    assert not guard.protect, "protectData is refused in external mode, so the guard is never protected"
    databases = [r.urn for r in external.of_type(PG + "database:Database")]
    assert databases, "external mode declares the mode databases"
    assert set(databases) <= external.reached_from(guard.urn), "a destroy reaches the guard before the databases"


def test_no_docker_postgres_resources(external: ProgramRun) -> None:
    types = {r.type for r in external.registrations}
    assert "hive:index:SharedPostgres" not in types, "no postgres component for a server elsewhere"
    assert "docker:index/network:Network" not in types, "no network to create"
    volumes = {r.inputs["name"] for r in external.of_type("docker:index/volume:Volume")}
    api_volumes = {f"hive-{mode}-{kind}" for mode in ("workspace", "agent", "genie") for kind in ("logs", "data")}
    assert volumes == api_volumes, "no database volume: only the API containers' logs and data volumes"
    images = [r.inputs["name"] for r in external.of_type("docker:index/remoteImage:RemoteImage")]
    assert len(images) == 1 and images[0].startswith("hive-infra/hive-api:"), "only the API image, built here"
    names = {r.inputs["name"] for r in external.of_type("docker:index/container:Container")}
    assert names == {"hive-agents", "hive-agent-dev-server", "hive-genie-server"}, "API containers only"
    assert not [r for r in external.registrations if r.name == "hive-secrets-admin-password"], (
        "the admin password of an existing server is supplied, never generated"
    )


def test_provider_targets_the_external_server(external: ProgramRun) -> None:
    provider = external.named("hive-database-provider").inputs
    assert (provider["host"], provider["port"], provider["username"]) == ("db.example.internal", "6543", "hiveadmin")
    assert provider["sslmode"] == "require", "TLS is required by default for a server elsewhere"
    assert provider["superuser"] == "false", "managed servers' admins are not true superusers"
    assert reveal(provider["password"]) == EXTERNAL["adminPassword"] and isinstance(provider["password"], Secret)


@pytest.mark.parametrize("isolation", ["database", "schema"])
def test_same_database_objects_retained_on_destroy(isolation: str) -> None:
    external = run_program({**EXTERNAL, "isolation": isolation})
    in_db = [r for r in external.registrations if r.type.startswith(PG)]
    expected = {
        ("index/role", "hive"), ("index/database", "hive"), ("index/schema", "agent"),
        ("index/schema", "genie"), ("index/extension", "vector"),
    }  # fmt: skip
    if isolation == "database":
        expected |= {("index/database", "hive_agent"), ("index/database", "hive_genie")}
    else:
        expected |= {("index/schema", "extensions"), ("index/grant", None)}
    assert {(r.type.split(":")[1], r.inputs.get("name")) for r in in_db} == expected, (
        "the same role, databases, schemas and extensions as in container mode, and no grant to PUBLIC: "
        "a server the stack does not own keeps its own rules on its maintenance databases"
    )
    for reg in in_db:
        assert reg.deleted_with == "", f"{reg.name}: no server goes away, so nothing is deleted with it"
        assert reg.retain_on_delete, f"{reg.name}: destroy leaves data and objects unless asked to drop them"
    for schema in external.of_type(PG + "schema:Schema"):
        assert not schema.inputs.get("dropCascade"), f"{schema.inputs['name']}: never cascades by default"


def test_drop_schemas_on_destroy_opt_in() -> None:
    run = run_program({**EXTERNAL, "dropSchemasOnDestroy": True})
    for reg in run.registrations:
        if reg.type.startswith(PG):
            assert not reg.retain_on_delete, f"{reg.name}: opted in, destroy drops it"
    for schema in run.of_type(PG + "schema:Schema"):
        if schema.inputs["name"] != "extensions":
            assert schema.inputs["dropCascade"] is True, "mode schemas drop with their tables"


def test_urls_and_containers_use_the_external_host(external: ProgramRun) -> None:
    urls = external.outputs["databaseUrls"].value
    assert urls["workspace"].endswith("@db.example.internal:6543/hive?sslmode=require"), urls["workspace"]
    assert urls["agent"].endswith(
        "@db.example.internal:6543/hive_agent?options=-csearch_path%3Dagent%2Cpublic&sslmode=require"
    ), "the app connects to its own database with the same TLS requirement"
    assert external.outputs["postgres"].value == {
        "mode": "external", "isolation": "database", "container": None, "host": "db.example.internal",
        "port": 6543, "database": "hive", "user": "hive", "sslmode": "require",
    }, "no container in external mode; the sslmode the URLs carry"  # fmt: skip
    api = external.named("hive-api-agent-container")
    env = dict(item.split("=", 1) for item in reveal(api.inputs["envs"]))
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example.internal", "6543"), "direct to the server"
    assert "networksAdvanced" not in api.inputs, "no shared network without a postgres container"


def test_ssl_mode_override() -> None:
    run = run_program({**EXTERNAL, "sslMode": "verify-full"})
    assert run.named("hive-database-provider").inputs["sslmode"] == "verify-full", "the admin connection"
    assert run.outputs["databaseUrls"].value["workspace"].endswith("sslmode=verify-full"), "and the app's"


def test_data_path_bind_mounts_instead_of_a_volume() -> None:
    run = run_program(
        {"dataPath": "/srv/hive/data/postgres", "adminUser": "legacyuser", "adminPassword": "Legacy-Adm1n-Passw0rd"}
    )
    volumes = {r.inputs["name"] for r in run.of_type("docker:index/volume:Volume")}
    assert "hive-postgres-data" not in volumes, "no database volume when a data folder is given"
    pg = run.named("hive-postgres-container")
    assert pg.inputs["volumes"] == [
        {"hostPath": "/srv/hive/data/postgres", "containerPath": "/var/lib/postgresql/data"}
    ], "the legacy folder mounted where the legacy compose mounted it"
    env = dict(item.split("=", 1) for item in reveal(pg.inputs["envs"]))
    assert env["PGDATA"] == "/var/lib/postgresql/data/pgdata", "the legacy PGDATA under the mount"
    assert env["POSTGRES_USER"] == "legacyuser", "the data folder's superuser"
    assert run.named("hive-database-provider").inputs["username"] == "legacyuser", "the provider logs in as it"
    for reg in run.registrations:
        if reg.type.startswith(PG):
            assert reg.deleted_with == "", (
                f"{reg.name}: the data folder outlives the stack, so nothing is deleted with it (not the container, "
                "whose replacement would replace the object too)"
            )
            assert reg.retain_on_delete, f"{reg.name}: kept on the folder's server by a destroy, never dropped"


EXTERNAL_BAD = [
    ({"postgresMode": "external", "adminPassword": "Managed-Adm1n-Passw0rd"}, "hive:postgresHost", "is required"),
    ({"postgresMode": "external", "postgresHost": "db"}, "hive:adminPassword", "is required"),
    ({**EXTERNAL, "postgresHost": "localhost"}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "LOCALHOST"}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "localhost."}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "0.0.0.0"}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "::ffff:127.0.0.1"}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "::1"}, "hive:postgresHost", "loopback"),
    ({**EXTERNAL, "postgresHost": "[::1]"}, "hive:postgresHost", "without brackets"),
    ({**EXTERNAL, "postgresHost": "db host"}, "hive:postgresHost", "not a host name"),
    ({**EXTERNAL, "postgresHost": "admin@db"}, "hive:postgresHost", "not a host name"),
    ({**EXTERNAL, "postgresHost": "db/x?y#z"}, "hive:postgresHost", "not a host name"),
    ({**EXTERNAL, "postgresHost": "db.example.org:6543"}, "hive:postgresHost", "hive:dbPort"),
    ({**EXTERNAL, "dataPath": "/srv/data"}, "hive:dataPath", "only with postgresMode=container"),
    ({**EXTERNAL, "protectData": True}, "hive:protectData", "only with postgresMode=container"),
    ({**EXTERNAL, "sslMode": "on"}, "hive:sslMode", "not a libpq sslmode"),
    ({"postgresMode": "cloud"}, "hive:postgresMode", "container or external"),
    ({"postgresHost": "db"}, "hive:postgresHost", "only with postgresMode=external"),
    ({"dropSchemasOnDestroy": True}, "hive:dropSchemasOnDestroy", "only with postgresMode=external"),
    ({"dataPath": "data/postgres"}, "hive:dataPath", "absolute path"),
    ({"dataPath": "/srv/data"}, "hive:adminPassword", "required with hive:dataPath"),
    (
        {"dataPath": "/srv/data", "adminUser": "u1", "dbUser": "u1", "adminPassword": "Legacy-Passw0rd-1234"},
        "hive:dbPassword",
        "must equal hive:adminPassword",
    ),
    ({"adminUser": "hive"}, "hive:dbUser", "is also the admin"),
    ({"adminUser": "admin-user"}, "hive:adminUser", "not a role name"),
    ({"dbUser": "HiveUser"}, "hive:dbUser", "lower-case PostgreSQL identifier"),
    ({**EXTERNAL, "adoptDatabase": True}, "hive:dbPassword", "required with hive:adoptDatabase"),
    ({**EXTERNAL, "adoptDatabase": True, "dbUser": "bad-name"}, "hive:dbUser", "not a role name"),
]


@pytest.mark.parametrize(
    ("values", "key", "fix"), EXTERNAL_BAD, ids=[c[1] + str(i) for i, c in enumerate(EXTERNAL_BAD)]
)
def test_bad_server_config(values: dict[str, object], key: str, fix: str) -> None:
    from hive_infra.config import ConfigError
    from tests.support.mocks import RecordingMocks

    mocks = RecordingMocks(preview=True)
    with pytest.raises(ConfigError) as info:
        run_program(values, preview=True, mocks=mocks)
    assert f"{key}:" in str(info.value) and fix in str(info.value), f"names {key} and says {fix!r}: {info.value}"
    assert mocks.counter == 0, "nothing is registered before the config is valid"


def test_an_ipv6_server_is_written_right_everywhere() -> None:
    run = run_program({**EXTERNAL, "postgresHost": "fd00::5", "apiContainers": False})
    assert "@[fd00::5]:6543/hive?" in run.outputs["databaseUrls"].value["workspace"], "bracketed once in URLs"
    assert run.named("hive-database-provider").inputs["host"] == "fd00::5", "bare for the provider (libpq host)"


def test_loopback_host_is_fine_without_api_containers() -> None:
    run = run_program({**EXTERNAL, "postgresHost": "localhost", "apiContainers": False})
    assert run.outputs["databaseUrls"].value["workspace"].startswith("postgresql+psycopg://hive:"), "accepted"


LEGACY_FOLDER = {"dataPath": "/srv/hive/data/postgres", "adminUser": "hive_legacy", "dbUser": "hive_legacy",
                 "adminPassword": "Legacy-Passw0rd-1234", "dbPassword": "Legacy-Passw0rd-1234"}  # fmt: skip


def test_legacy_data_folder_keeps_its_superuser_login() -> None:
    """The legacy compose initialised the data with POSTGRES_USER=<app user>: that
    superuser owns the tables and the database exists; the stack adds the rest."""
    run = run_program(LEGACY_FOLDER)
    assert not run.of_type(PG + "role:Role"), "the stack must not redeclare (and demote) its own admin"
    databases = {r.inputs["name"]: r.inputs for r in run.of_type(PG + "database:Database")}
    assert set(databases) == {"hive_agent", "hive_genie"}, (
        "the legacy database exists (CREATE DATABASE would fail); the other modes' databases are new"
    )
    assert {db["owner"] for db in databases.values()} == {"hive_legacy"}, "owned by the same login"
    schemas = {r.inputs["name"]: r.inputs for r in run.of_type(PG + "schema:Schema")}
    assert schemas["agent"]["owner"] == "hive_legacy" and schemas["agent"]["database"] == "hive_agent", "added"
    assert "hive_legacy:Legacy-Passw0rd-1234@" in run.outputs["databaseUrls"].value["workspace"], "same login"
    for reg in run.registrations:
        if reg.type.startswith(PG):
            assert reg.deleted_with == "" and reg.retain_on_delete, f"{reg.name}: kept with the legacy folder"


def test_legacy_data_folder_in_one_database() -> None:
    run = run_program({**LEGACY_FOLDER, "isolation": "schema"})
    assert not run.of_type(PG + "database:Database"), "the legacy database exists; CREATE DATABASE would fail"
    schemas = {r.inputs["name"]: r.inputs for r in run.of_type(PG + "schema:Schema")}
    assert schemas["agent"]["owner"] == "hive_legacy" and schemas["agent"]["database"] == "hive", "added to it"
    assert run.named("hive-database-extensions-usage").inputs["role"] == "hive_legacy", "grant to the login"


def test_superuser_login_without_a_legacy_folder_is_refused() -> None:
    from hive_infra.config import ConfigError

    with pytest.raises(ConfigError, match="hive:dbUser: 'hive_legacy' is also the admin"):
        run_program({"adminUser": "hive_legacy", "dbUser": "hive_legacy"})


def test_adopt_database_on_an_external_server() -> None:
    """An existing role and database (the legacy installer's mixed-case user):
    the stack adds schemas, extensions and grants, and leaves those two alone."""
    run = run_program(
        {**EXTERNAL, "adoptDatabase": True, "dbUser": "Hq3xTu8kLm2Np5Rs", "dbPassword": "Existing-Passw0rd-99"}
    )
    assert not run.of_type(PG + "role:Role"), "an existing role is not created, altered or dropped"
    databases = {r.inputs["name"]: r.inputs["owner"] for r in run.of_type(PG + "database:Database")}
    assert databases == {"hive_agent": "Hq3xTu8kLm2Np5Rs", "hive_genie": "Hq3xTu8kLm2Np5Rs"}, (
        "the existing database is neither created nor dropped; the other modes' are new, the login's"
    )
    schemas = {r.inputs["name"]: r.inputs for r in run.of_type(PG + "schema:Schema")}
    assert schemas["agent"]["owner"] == "Hq3xTu8kLm2Np5Rs", "mode schemas belong to the existing login"
    assert (
        run.outputs["databaseUrls"]
        .value["workspace"]
        .startswith("postgresql+psycopg://Hq3xTu8kLm2Np5Rs:Existing-Passw0rd-99@db.example.internal:6543/hive")
    ), "the app keeps its login and password"


@pytest.mark.parametrize(("drop", "enabled"), [(False, False), (True, True)])
def test_the_backup_dumps_an_external_server_only_when_destroy_drops(drop: bool, enabled: bool) -> None:
    run = run_program({**EXTERNAL, "dropSchemasOnDestroy": drop})
    backup = run.named("hive-backup")
    assert backup.inputs["enabled"] is enabled, (
        "a destroy leaves an external server's databases unless dropSchemasOnDestroy: only then a backup"
    )
    assert backup.inputs.get("container") is None, "no container: the local PostgreSQL client dumps"
    layout = run.named("hive-layout").inputs
    assert layout.get("data") is None and layout["dropsData"] is drop, (
        "the layout records no data place of the stack's own, and whether a removed mode's objects are dropped"
    )
    assert (backup.inputs["host"], backup.inputs["port"]) == ("db.example.internal", 6543), "the server's address"
    assert backup.inputs["sslmode"] == "require", "and the sslmode of its URLs"
    databases = {r.urn for r in run.of_type(PG + "database:Database")}
    assert databases and databases <= run.reached_from(backup.urn), "dumped before the databases are dropped"
