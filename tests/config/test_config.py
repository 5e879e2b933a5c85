import dataclasses
import shutil
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hive_infra.config import CONFIG_KEYS, ConfigError, HiveConfig, parse_config
from hive_infra.config import docs as config_docs
from hive_infra.config.cross_rules import Candidate
from hive_infra.config.rules import PLACEHOLDER_WORDS
from hive_infra.core.modes import MODES
from tests.support.mocks import RecordingMocks
from tests.support.program import PROJECT_DIR, config_values, run_program
from tests.support.program import raw_config as raw

GOOD_SECRET = "Zq8vN3kLm2Xc9Rt5Yw"  # 18 characters
GOOD_KEY_BASE = "k" * 43


def problems_of(**values: Any) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw(**values))
    return info.value.problems


def test_the_candidate_is_hive_config_with_every_value_optional() -> None:
    final = typing.get_type_hints(HiveConfig)
    for name, annotation in typing.get_type_hints(Candidate).items():
        assert name in final, f"Candidate.{name} reads a HiveConfig field: no second declaration of a key"
        assert annotation == final[name] | None, (
            f"Candidate.{name} is {annotation}: HiveConfig's {final[name]}, or None where the key failed to parse"
        )
    assert len(dataclasses.fields(Candidate)) == len(typing.get_type_hints(Candidate)), "every field is a value"


def test_a_key_that_failed_to_parse_leaves_the_rules_that_need_it_silent() -> None:
    problems = problems_of(dbPort="not-a-number", apiPort="5532")
    assert sum(p.startswith("hive:dbPort") for p in problems) == 1, (
        f"dbPort's own problem, once; the port rules skip a port they do not have: {problems}"
    )
    assert not any("collides" in p for p in problems), f"no collision with a port that is not known: {problems}"


def test_defaults_are_the_legacy_layout() -> None:
    cfg = parse_config({})
    assert cfg == HiveConfig(), "no config at all gives the documented defaults"
    assert (cfg.modes, cfg.db_port, cfg.api_port) == (("workspace", "agent", "genie"), 5532, 8886), "legacy"
    assert cfg.names.postgres_container == "hive-postgres-shared", "the shared container's legacy name"
    assert [cfg.names.api_container(m) for m in cfg.mode_table] == [
        "hive-agents",
        "hive-agent-dev-server",
        "hive-genie-server",
    ], "API containers keep the legacy compose names"
    assert cfg.isolation == "database", "each mode's data in its own database by default"
    assert [(p.name, p.schemas) for p in cfg.database_plans()] == [
        ("hive", ()),
        ("hive_agent", ("agent",)),
        ("hive_genie", ("genie",)),
    ], "the legacy database names; public is never a schema the stack creates"


def test_pulumi_yaml_declares_every_key_with_a_default_and_only_those() -> None:
    """The CLI requires every key Pulumi.yaml declares without a default, so an
    optional key without one must not be declared there (the README has it)."""
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    declared = project["config"]
    readme = (PROJECT_DIR / "README.md").read_text()
    assert set(declared) <= {f"hive:{k.name}" for k in CONFIG_KEYS}, "Pulumi.yaml declares no key the code lacks"
    for key in CONFIG_KEYS:
        entry = declared.get(f"hive:{key.name}")
        assert f"| `{key.name}` |" in readme, f"hive:{key.name} has a row in the README's config table"
        if key.default is None:
            assert entry is None, f"hive:{key.name} has no default: declared in Pulumi.yaml the CLI would require it"
            continue
        assert entry is not None, f"hive:{key.name} has a default, so Pulumi.yaml declares it for `pulumi config`"
        assert "default" in entry, f"hive:{key.name}: a declared key without a default is required by the CLI"
        assert entry["type"] == key.type, f"hive:{key.name} has the same type in both places"
        assert entry["default"] == key.yaml_default, f"hive:{key.name}: the CLI's default and the program's agree"
        assert bool(entry.get("secret", False)) == key.secret, f"hive:{key.name} is secret in both or neither"
        assert entry.get("description"), f"hive:{key.name} is described for `pulumi config`"


def test_pulumi_yaml_and_readme_are_rendered_from_the_declarations() -> None:
    pulumi_yaml = config_docs.PULUMI_YAML.read_text()
    readme = config_docs.README.read_text()
    assert config_docs.with_pulumi_yaml_config(pulumi_yaml) == pulumi_yaml, (
        "Pulumi.yaml's config block differs from hive_infra/config/settings.py: run `make docs`"
    )
    assert config_docs.with_readme_table(readme) == readme, (
        "the README's config table differs from hive_infra/config/settings.py: run `make docs`"
    )


def test_each_key_is_declared_once_with_a_description() -> None:
    names = [k.name for k in CONFIG_KEYS]
    assert len(set(names)) == len(names), "a key name is declared once"
    assert all(k.description.endswith(".") for k in CONFIG_KEYS), "every key has a sentence describing it"
    credentials = {"dbPassword", "adminPassword", "apiKeyBase", "imageRegistryPassword"}
    assert {k.name for k in CONFIG_KEYS if k.secret} == credentials, "exactly the four credentials are secret"


def test_pulumi_yaml_runtime_and_backend() -> None:
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == "hive", "the project name makes the config namespace hive:"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}, (
        "pulumi install creates ./venv from requirements.txt"
    )
    assert project["backend"] == {"url": "file://~"}, "local state by default"


def committed(path: str) -> str:
    """``path`` as the last commit has it: `pulumi stack select --create dev` adds a
    salt to the working copy, which is the user's own and is never committed."""
    git = shutil.which("git")
    inside = git and subprocess.run(
        [git, "-C", str(PROJECT_DIR), "rev-parse", "--is-inside-work-tree"], capture_output=True, check=False
    )
    if not git or not inside or inside.returncode != 0:
        pytest.skip("not a git checkout: the committed Pulumi.dev.yaml cannot be read")
    done = subprocess.run(
        [git, "-C", str(PROJECT_DIR), "show", f"HEAD:{path}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{path} must be committed: {done.stderr.strip()}"
    return done.stdout


def test_dev_stack_file_carries_no_secret_or_salt() -> None:
    text = committed("Pulumi.dev.yaml")
    stack = yaml.safe_load(text)
    assert "encryptionsalt" not in stack, "each user creates the stack with a passphrase of their own"
    assert "secure:" not in text, "no encrypted value is committed"
    parse_config({k.split(":", 1)[1]: v for k, v in config_values(stack["config"]).items()})


def test_every_value_of_a_full_config_is_read() -> None:
    cfg = parse_config(
        raw(
            modes=["agent"], dbPort=6000, apiPort=7000, database="db1", dbUser="app", dbPassword=GOOD_SECRET,
            adminPassword=GOOD_SECRET + "x", apiKeyBase=GOOD_KEY_BASE, postgresImage="pg:15", apiImage="api:1",
            apiContainers=False, bindAddress="0.0.0.0", namePrefix="h2", extensions=["citext", "uuid-ossp"],
            protectData=True, envDir="/srv/hive",
        )
    )  # fmt: skip
    assert cfg.modes == ("agent",) and (cfg.db_port, cfg.api_port) == (6000, 7000), "modes and ports"
    assert (cfg.database, cfg.db_user) == ("db1", "app"), "names"
    assert (cfg.db_password, cfg.admin_password, cfg.api_key_base) == (GOOD_SECRET, GOOD_SECRET + "x", GOOD_KEY_BASE)
    assert (cfg.postgres_image, cfg.api_image, cfg.api_containers) == ("pg:15", "api:1", False), "images"
    assert (cfg.bind_address, cfg.name_prefix, cfg.protect_data, cfg.env_dir) == ("0.0.0.0", "h2", True, "/srv/hive")
    assert cfg.extensions == ("citext", "uuid-ossp"), "extensions in order"


def test_repr_never_shows_secrets() -> None:
    cfg = parse_config(raw(dbPassword=GOOD_SECRET, adminPassword=GOOD_SECRET + "a", apiKeyBase=GOOD_KEY_BASE))
    assert GOOD_SECRET not in repr(cfg) and GOOD_KEY_BASE not in repr(cfg), "secrets stay out of reprs and logs"


# Each bad value, the key its message must name, and a word of the fix.
BAD_CONFIGS = [
    ({"modes": ["workspace", "nosuch"]}, "hive:modes", "unknown mode 'nosuch'"),
    ({"modes": ["agent", "agent"]}, "hive:modes", "twice"),
    ({"modes": []}, "hive:modes", "is empty"),
    ({"modes": "workspace"}, "hive:modes", "list of strings"),
    ({"dbPort": 0}, "hive:dbPort", "outside 1..65535"),
    ({"apiHealthTimeout": 5}, "hive:apiHealthTimeout", "outside 10..3600"),
    ({"apiHealthTimeout": 7200}, "hive:apiHealthTimeout", "outside 10..3600"),
    ({"dbPort": 70000}, "hive:dbPort", "outside 1..65535"),
    ({"dbPort": "five"}, "hive:dbPort", "whole number"),
    ({"apiPort": 28886}, "hive:apiPort", "328886"),
    ({"apiPort": 5532}, "hive:dbPort", "collides"),
    ({"dbPort": 38886}, "hive:dbPort", "collides"),
    ({"database": "Hive"}, "hive:database", "lower-case PostgreSQL identifier"),
    ({"database": "my-db"}, "hive:database", "lower-case PostgreSQL identifier"),
    ({"database": "postgres"}, "hive:database", "system database"),
    ({"dbUser": "9user"}, "hive:dbUser", "lower-case PostgreSQL identifier"),
    ({"dbUser": "x" * 64}, "hive:dbUser", "at most 63"),
    ({"dbUser": "postgres"}, "hive:dbUser", "is also the admin"),
    ({"dbUser": "pg_app"}, "hive:dbUser", "reserved"),
    ({"bindAddress": "localhost"}, "hive:bindAddress", "not an IP address"),
    ({"postgresImage": "  "}, "hive:postgresImage", "is empty"),
    ({"apiImage": ""}, "hive:apiImage", "is empty"),
    ({"apiHealthPath": "api/v1/health"}, "hive:apiHealthPath", "must start with '/'"),
    ({"apiHealthPath": "/api v1"}, "hive:apiHealthPath", "blank"),
    ({"dbPassword": "short"}, "hive:dbPassword", "at least 16"),
    ({"adminPassword": "Your-Password-1234567"}, "hive:adminPassword", "placeholder"),
    ({"apiKeyBase": "k" * 20}, "hive:apiKeyBase", "at least 33"),
    ({"apiKeyBase": "k" * 40 + "/+="}, "hive:apiKeyBase", "letters, digits"),
    ({"dbPassword": "abcdefghijklmnop${HOME}"}, "hive:dbPassword", "python-dotenv"),
    ({"dbPassword": "abcdefghijklmnop\\q"}, "hive:dbPassword", "backslash"),
    ({"apiContainers": "yes"}, "hive:apiContainers", "true or false"),
    ({"namePrefix": "-bad"}, "hive:namePrefix", "Docker name"),
    ({"extensions": ["Vector"]}, "hive:extensions", "extension name"),
    ({"envDir": ""}, "hive:envDir", "is empty"),
    ({"isolation": "tables"}, "hive:isolation", "not an isolation"),
    # Values PostgreSQL, libpq or Docker would refuse only later, half way through an up:
    ({"dbUser": "public"}, "hive:dbUser", "reserved by PostgreSQL"),
    ({"dbUser": "none"}, "hive:dbUser", "reserved by PostgreSQL"),
    ({"dbUser": "current_user"}, "hive:dbUser", "reserved by PostgreSQL"),
    ({"adminUser": "pg_admin"}, "hive:adminUser", "reserved by PostgreSQL"),
    ({"sslMode": "require"}, "hive:sslMode", "needs TLS, which the local container does not speak"),
    ({"sslMode": "verify-full"}, "hive:sslMode", "needs TLS"),
    ({"adoptDatabase": True, "dbPassword": GOOD_SECRET}, "hive:adoptDatabase", "nothing to adopt"),
    ({"bindAddress": "fe80::1%eth0"}, "hive:bindAddress", "IPv6 zone"),
    ({"apiImage": "Automagik/Hive:latest"}, "hive:apiImage", "not a Docker image reference"),
    ({"postgresImage": "https://ghcr.io/x/y"}, "hive:postgresImage", "not a Docker image reference"),
    ({"apiImage": "hive:"}, "hive:apiImage", "not a Docker image reference"),
    ({"envDir": "~/hive"}, "hive:envDir", "starts with '~'"),
    ({"backupDir": ""}, "hive:backupDir", "is empty"),
    ({"backupDir": "~/backups"}, "hive:backupDir", "starts with '~'"),
    ({"backupOnDestroy": "no"}, "hive:backupOnDestroy", "true or false"),
    ({"database": "d" * 58}, "hive:database", "longer than PostgreSQL's 63"),
]


@pytest.mark.parametrize(("values", "key", "fix"), BAD_CONFIGS, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_CONFIGS)])
def test_bad_config_fails_preview_before_any_resource(values: dict[str, Any], key: str, fix: str) -> None:
    mocks = RecordingMocks(preview=True)
    with pytest.raises(ConfigError) as info:
        run_program(values, preview=True, mocks=mocks)
    message = str(info.value)
    assert f"{key}:" in message, f"the message must name {key}: {message}"
    assert fix in message, f"the message must say what is wrong ({fix!r}): {message}"
    assert mocks.counter == 0, f"no resource may be registered before the config is valid ({mocks.counter} were)"


@pytest.mark.parametrize(
    "image",
    ["agnohq/pgvector:16", "ghcr.io/namastexlabs/automagik-hive:latest", "localhost:5000/team/hive:1.2",
     "postgres", "ghcr.io/a/b:v1@sha256:" + "0" * 64],
)  # fmt: skip
def test_real_image_references_are_accepted(image: str) -> None:
    assert parse_config(raw(apiImage=image)).api_image == image, f"{image} is a valid reference"


def test_all_problems_are_reported_together() -> None:
    problems = problems_of(modes=["nosuch"], dbPort=0, bindAddress="nowhere", dbPassword="x")
    keys = {p.split(":")[1] for p in problems}
    assert {"modes", "dbPort", "bindAddress", "dbPassword"} <= keys, f"one error lists every problem: {problems}"


def test_secret_values_never_appear_in_messages() -> None:
    for secret in ("tiny", "change-me-please-now", "placeholder-value-x" * 2):
        with pytest.raises(ConfigError) as info:
            parse_config(raw(dbPassword=secret, adminPassword=secret, apiKeyBase=secret))
        assert secret not in str(info.value), "a rejected secret must not be echoed"


@pytest.mark.parametrize("word", PLACEHOLDER_WORDS)
def test_every_placeholder_word_is_refused(word: str) -> None:
    value = f"Abc123{word.upper()}xyz789"
    assert any("placeholder" in p for p in problems_of(dbPassword=value)), f"{word!r} marks a template value"


def test_misspelt_key_is_reported_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({}, known_keys=["dbport", "modes"])
    assert "hive:dbport: is not a setting" in str(info.value) and "did you mean hive:dbPort" in str(info.value), (
        "a typo must not be ignored silently"
    )


def test_misspelt_key_fails_the_program() -> None:
    with pytest.raises(ConfigError, match="hive:apiport"):
        run_program({"apiport": 9000})


@given(st.integers(min_value=1, max_value=65535))
def test_any_api_port_is_accepted_or_rejected_with_a_reason(api: int) -> None:
    try:
        cfg = parse_config(raw(apiPort=api))
    except ConfigError as error:
        assert all(p.startswith(("hive:apiPort:", "hive:dbPort:")) for p in error.problems), error.problems
        return
    for mode in MODES.values():
        port = cfg.ports(mode).api
        assert 1 <= port <= 65535 and port != cfg.db_port, f"an accepted config gives valid ports ({port})"


def test_modes_subset_keeps_table_order_given() -> None:
    cfg = parse_config(raw(modes=["genie", "workspace"]))
    assert cfg.modes == ("genie", "workspace") and [p.name for p in cfg.database_plans()] == ["hive_genie", "hive"], (
        "the user's order is kept"
    )


def test_config_module_is_pure(tmp_path: Path) -> None:
    """parse_config does no I/O: it works with the network and files out of reach."""
    import builtins

    real_open = builtins.open

    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parse_config opened a file")

    builtins.open = no_open  # type: ignore[assignment]
    try:
        parse_config(raw(envDir=str(tmp_path / "missing")))
    finally:
        builtins.open = real_open
