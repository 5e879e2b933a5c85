"""Each component made alone, under the recording mocks: its type token, its children
named ``<name>-<role>`` and parented to it, and the options and secrets it gives them.

The whole program's tests (``tests/test_program*.py``) show the components wired
together; these show each one's own contract, whatever the stack hands it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from hive_infra.components.api import ApiVolume, HiveApi, HiveApiArgs
from hive_infra.components.database import AdminConnection, HiveDatabase, HiveDatabaseArgs
from hive_infra.components.postgres import SharedPostgres, SharedPostgresArgs
from hive_infra.components.secrets import HiveSecrets, HiveSecretsArgs
from hive_infra.core.modes import MODES
from hive_infra.core.names import DockerNames
from hive_infra.core.placement import database_plans, place
from tests.support.mocks import Registration, Secret, reveal
from tests.support.program import ProgramRun, run_component

LABELS = (("org.automagik-hive.pulumi-stack", "hive/test"),)


def children_of(run: ProgramRun, component_type: str) -> tuple[Registration, list[Registration]]:
    """The one component of ``component_type`` and every resource registered under it."""
    (component,) = run.of_type(component_type)
    return component, [r for r in run.registrations if r.parent == component.urn]


def assert_children_named_and_parented(run: ProgramRun, component_type: str, name: str) -> list[Registration]:
    component, children = children_of(run, component_type)
    others = [r.name for r in run.registrations if r is not component and r.parent != component.urn]
    assert not others, f"every resource of {component_type} is its child (parent=self): {others}"
    assert children, f"{component_type} declares resources"
    for child in children:
        assert child.name.startswith(f"{name}-"), f"{child.name}: children are named {name}-<role>"
    return children


# --- HiveSecrets ---------------------------------------------------------------------------


def test_secrets_generates_each_missing_secret_as_a_child_and_marks_every_output_secret() -> None:
    made: dict[str, HiveSecrets] = {}
    run = run_component(lambda: made.setdefault("s", HiveSecrets("sec", HiveSecretsArgs())))
    children = assert_children_named_and_parented(run, "hive:index:HiveSecrets", "sec")
    lengths = {c.name: c.inputs["length"] for c in children if c.type == "random:index/randomPassword:RandomPassword"}
    assert lengths == {"sec-admin-password": 32, "sec-db-password": 32, "sec-api-key-base": 43}, (
        "one generated secret per role, the key base as long as the legacy generator's"
    )
    assert all(c.inputs["special"] is False for c in children), "no special characters: URLs need no escaping"
    secrets = made["s"]
    for output in (secrets.admin_password, secrets.db_password, secrets.api_key_base):
        assert pulumi.runtime.sync_await._sync_await(output.is_secret()), "every secret output is marked secret"


def test_secrets_uses_what_is_supplied_and_generates_only_the_rest() -> None:
    supplied = HiveSecretsArgs(admin_password="a" * 20, db_password="b" * 20, generate_admin=False)
    run = run_component(lambda: HiveSecrets("sec", supplied))
    generated = [r.name for r in run.of_type("random:index/randomPassword:RandomPassword")]
    assert generated == ["sec-api-key-base"], f"only the unsupplied key base is generated: {generated}"


def test_secrets_refuses_to_generate_the_admin_password_of_a_server_it_does_not_create() -> None:
    with pytest.raises(ValueError, match="admin password is required"):
        run_component(lambda: HiveSecrets("sec", HiveSecretsArgs(generate_admin=False)))


# --- SharedPostgres ------------------------------------------------------------------------


def postgres_args(**extra: Any) -> SharedPostgresArgs:
    return SharedPostgresArgs(
        image="example/pgvector:17",
        names=DockerNames("t"),
        bind_address="127.0.0.1",
        host_port=6543,
        admin_password="admin-password-0123",
        admin_user="boss",
        labels=LABELS,
        **extra,
    )


def test_postgres_declares_image_network_volume_and_container_under_itself() -> None:
    run = run_component(lambda: SharedPostgres("pg", postgres_args()))
    children = assert_children_named_and_parented(run, "hive:index:SharedPostgres", "pg")
    parts = sorted(c.name for c in children)
    assert parts == ["pg-container", "pg-data", "pg-guard", "pg-image", "pg-network"], "its parts"
    container = run.named("pg-container")
    assert container.inputs["name"] == "t-postgres-shared", "the shared container's name from the prefix"
    assert container.inputs["ports"] == [{"internal": 5432, "external": 6543, "ip": "127.0.0.1"}], (
        "published on the bind address only, at the configured host port"
    )
    assert isinstance(container.inputs["envs"], Secret), "the admin password travels in a secret env"
    assert "POSTGRES_USER=boss" in reveal(container.inputs["envs"]), "the admin user it is handed, not a default"
    assert container.delete_before_replace and container.replace_on_changes == ["healthcheck"], (
        "a fixed name is replaced by deleting first; a new healthcheck means a new container"
    )
    assert {"label": LABELS[0][0], "value": LABELS[0][1]} in container.inputs["labels"], "labelled as the stack's"


def test_postgres_binds_a_data_folder_instead_of_a_volume_and_protects_a_volume_when_asked() -> None:
    run = run_component(lambda: SharedPostgres("pg", postgres_args(data_path="/srv/hive/data")))
    assert not run.of_type("docker:index/volume:Volume"), "a data folder replaces the named volume"
    mounts = run.named("pg-container").inputs["volumes"]
    assert mounts == [{"hostPath": "/srv/hive/data", "containerPath": "/var/lib/postgresql/data"}], "bind-mounted"
    protected = run_component(lambda: SharedPostgres("pg", postgres_args(protect_data=True)))
    assert protected.named("pg-data").protect, "protectData protects the data volume"


# --- HiveDatabase --------------------------------------------------------------------------


def database_args(**extra: Any) -> HiveDatabaseArgs:
    placements = [place(MODES[m], "app", "database") for m in ("workspace", "agent")]
    return HiveDatabaseArgs(
        admin=AdminConnection("127.0.0.1", 6543, "boss", "admin-password-0123", sslmode="require"),
        user="app_user",
        password="app-password-0123",
        databases=database_plans(placements, "app"),
        extensions=("citext",),
        **extra,
    )


def test_database_declares_its_provider_role_databases_and_schemas_under_itself() -> None:
    run = run_component(lambda: HiveDatabase("db", database_args()))
    assert_children_named_and_parented(run, "hive:index:HiveDatabase", "db")
    (provider,) = run.of_type("pulumi:providers:postgresql")
    assert (provider.inputs["username"], provider.inputs["sslmode"]) == ("boss", "require"), (
        "the provider logs in as the admin it is handed, with the sslmode it is handed"
    )
    assert isinstance(provider.inputs["password"], Secret), "the admin password is a secret input"
    in_db = [r for r in run.registrations if r.custom and r.type.startswith("postgresql:")]
    assert in_db and all(r.provider.startswith(provider.urn) for r in in_db), "every object through that provider"
    names = {r.inputs["name"] for r in run.of_type("postgresql:index/database:Database")}
    assert names == {"app", "app_agent"}, "one database per mode, as placed"
    assert [r.inputs["name"] for r in run.of_type("postgresql:index/schema:Schema")] == ["agent"], (
        "agent's own schema; workspace keeps public"
    )
    role = run.named("db-role")
    assert role.inputs["login"] is True and not role.inputs.get("superuser"), "a login role, no superuser"


def test_database_keeps_data_unless_told_to_drop_it() -> None:
    kept = run_component(lambda: HiveDatabase("db", database_args()))
    holders = [*kept.of_type("postgresql:index/database:Database"), *kept.of_type("postgresql:index/schema:Schema")]
    assert holders and all(r.retain_on_delete for r in holders), "databases and mode schemas outlive a destroy"
    dropped = run_component(lambda: HiveDatabase("db", database_args(drop_on_destroy=True)))
    holders = [*dropped.of_type("postgresql:index/database:Database")]
    assert holders and not any(r.retain_on_delete for r in holders), "dropSchemasOnDestroy lets destroy drop them"


# --- HiveApi -------------------------------------------------------------------------------


def api_args(**extra: Any) -> HiveApiArgs:
    return HiveApiArgs(
        container_name="t-agents",
        image="sha256:" + "0" * 64,
        network_name="t-network",
        bind_address="127.0.0.1",
        port=38886,
        env=["HIVE_API_KEY=hive_agent_secret"],
        health_timeout=120,
        health_path="/health",
        volumes=(ApiVolume("logs", "t-agent-logs", "/app/logs"),),
        labels=LABELS,
        **extra,
    )


def test_api_declares_its_volumes_container_and_health_wait_under_itself() -> None:
    run = run_component(lambda: HiveApi("api", api_args(project_dir="/home/me/hive")))
    children = assert_children_named_and_parented(run, "hive:index:HiveApi", "api")
    assert sorted(c.name for c in children) == ["api-container", "api-health", "api-logs"], "its parts"
    container = run.named("api-container")
    assert isinstance(container.inputs["envs"], Secret), "the env (database URL, API key) is secret"
    assert container.inputs["wait"] is False, "the health resource waits, naming docker logs on failure"
    assert container.inputs["volumes"][0] == {"hostPath": "/home/me/hive", "containerPath": "/app"}, (
        "the user's project at /app, first"
    )
    assert {"volumeName": "t-agent-logs", "containerPath": "/app/logs"} in container.inputs["volumes"], (
        "and each volume"
    )
    assert container.inputs["healthcheck"]["tests"][-1] == "http://127.0.0.1:38886/health", "probes its own port"
    health = run.named("api-health")
    assert health.type == "pulumi-python:dynamic/hive:ApiHealth", "the wait is the ApiHealth resource"
    assert container.urn in health.dependencies, "which waits for the container"


def test_api_without_a_project_mounts_only_its_volumes() -> None:
    run = run_component(lambda: HiveApi("api", api_args()))
    mounts = run.named("api-container").inputs["volumes"]
    assert mounts == [{"volumeName": "t-agent-logs", "containerPath": "/app/logs"}], "no project: the image's own"
