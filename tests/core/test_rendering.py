import io
from urllib.parse import parse_qs, urlsplit

import pytest
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from hive_infra.core import rendering
from hive_infra.core.dotenv_text import format_line, quote_value
from hive_infra.core.modes import MODES
from hive_infra.core.placement import DATABASE_ISOLATION, SCHEMA_ISOLATION, Placement, place
from hive_infra.core.ports import ModePorts

WORKSPACE, AGENT, GENIE = MODES["workspace"], MODES["agent"], MODES["genie"]
ENDPOINT = rendering.DbEndpoint("localhost", 5532, "hive", "s3cretPassw0rdXYZ")
#: The one-database layout of the seed, and the default database per mode.
IN_SCHEMAS = {name: place(mode, "hive", SCHEMA_ISOLATION) for name, mode in MODES.items()}
IN_DATABASES = {name: place(mode, "hive", DATABASE_ISOLATION) for name, mode in MODES.items()}
BASE = "A" * 43
LEGACY_ENV_KEYS = {
    "HIVE_ENVIRONMENT", "HIVE_LOG_LEVEL", "AGNO_LOG_LEVEL", "HIVE_API_HOST", "HIVE_API_PORT",
    "HIVE_API_WORKERS", "HIVE_DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER",
    "POSTGRES_PASSWORD", "POSTGRES_DB", "HIVE_API_KEY", "HIVE_CORS_ORIGINS", "HIVE_AUTH_DISABLED",
    "HIVE_DEV_MODE", "HIVE_ENABLE_METRICS", "HIVE_AGNO_MONITOR", "HIVE_DEFAULT_MODEL",
}  # fmt: skip


@pytest.mark.parametrize("layout", [IN_SCHEMAS, IN_DATABASES], ids=["schema", "database"])
def test_workspace_url_is_the_legacy_form(layout: dict) -> None:
    assert rendering.database_url(ENDPOINT, layout["workspace"]) == (
        "postgresql+psycopg://hive:s3cretPassw0rdXYZ@localhost:5532/hive"
    ), "workspace relies on the role's default search_path: no options"


def test_agent_url_in_its_own_database_searches_its_schema_then_public() -> None:
    url = rendering.database_url(ENDPOINT, IN_DATABASES["agent"])
    assert url.endswith("/hive_agent?options=-csearch_path%3Dagent%2Cpublic"), (
        "the legacy database name, the mode's schema first, then public where the extensions live"
    )
    genie = make_url(rendering.database_url(ENDPOINT, IN_DATABASES["genie"]))
    assert (genie.database, genie.query) == ("hive_genie", {"options": "-csearch_path=genie,public"}), "genie too"


def test_agent_url_sets_schema_and_extensions_percent_encoded() -> None:
    url = rendering.database_url(ENDPOINT, IN_SCHEMAS["agent"])
    assert url.endswith("/hive?options=-csearch_path%3Dagent%2Cextensions"), (
        "'=' and ',' must be percent-encoded for SQLAlchemy and libpq alike"
    )
    assert make_url(url).query == {"options": "-csearch_path=agent,extensions"}, "SQLAlchemy decodes the option"
    assert parse_qs(urlsplit(url).query) == {"options": ["-csearch_path=agent,extensions"]}, "so does a URL parser"


def test_ipv6_host_is_bracketed() -> None:
    for host in ("::1", "[::1]"):
        endpoint = rendering.DbEndpoint(host, 5532, "hive", "pw")
        url = rendering.database_url(endpoint, IN_DATABASES["workspace"])
        assert "@[::1]:5532/" in url and make_url(url).host == "::1", f"{host}: one pair of brackets"


def test_ipv6_zone_is_percent_encoded() -> None:
    url = rendering.database_url(rendering.DbEndpoint("fe80::1%eth0", 5532, "hive", "pw"), IN_DATABASES["workspace"])
    assert "@[fe80::1%25eth0]:5532/" in url, "RFC 6874: the zone's '%' is written %25 inside the brackets"


@given(
    user=st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s),
    password=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s),
    placement=st.sampled_from([*IN_SCHEMAS.values(), *IN_DATABASES.values()]),
)
def test_url_round_trips_through_sqlalchemy(user: str, password: str, placement: object) -> None:
    endpoint = rendering.DbEndpoint("localhost", 5532, user, password)
    url = make_url(rendering.database_url(endpoint, placement))  # type: ignore[arg-type]
    assert (url.username, url.password) == (user, password), "user and password survive any characters"
    assert (url.host, url.port, url.drivername) == ("localhost", 5532, "postgresql+psycopg"), (
        "the rest of the URL is untouched by odd credentials"
    )
    assert url.database == placement.database, "the mode's own database"  # type: ignore[attr-defined]


@given(
    user=st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s),
    password=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s),
    host=st.sampled_from(["localhost", "db.example.com", "10.0.0.7", "::1"]),
    placement=st.sampled_from([*IN_SCHEMAS.values(), *IN_DATABASES.values()]),
)
def test_a_rendered_url_parses_back_to_its_endpoint(user: str, password: str, host: str, placement: Placement) -> None:
    url = rendering.database_url(rendering.DbEndpoint(host, 5532, user, password), placement)
    parsed = rendering.parse_database_url(url, "the URL")
    assert (parsed.user, parsed.password, parsed.host, parsed.port) == (user, password, host, 5532), (
        "the parser the db commands use reads back exactly what the stack rendered"
    )
    assert parsed.database == placement.database, "the mode's own database"


def test_api_keys_follow_the_legacy_scheme() -> None:
    assert rendering.api_key(WORKSPACE, BASE) == f"hive_{BASE}", "workspace key is hive_<base>"
    assert rendering.api_key(AGENT, BASE) == f"hive_agent_{BASE}", "agent key is hive_agent_<base>"
    assert rendering.api_key(GENIE, BASE) == f"hive_genie_{BASE}", "genie key is hive_genie_<base>"


def _entries(placement=IN_SCHEMAS["agent"], endpoint=ENDPOINT):  # type: ignore[no-untyped-def]
    return rendering.env_entries(placement, ModePorts(db=5532, api=38886), endpoint, BASE)


def test_owned_keys_name_the_owned_entries_in_order() -> None:
    assert tuple(k for k, _ in _entries().owned) == rendering.OWNED_KEYS, (
        "OWNED_KEYS (what `status -o env` prints) must be exactly the keys the stack owns in each .env"
    )


def test_env_entries_hold_every_legacy_key_plus_schema() -> None:
    entries = _entries()
    keys = [k for k, _ in entries.all()]
    assert set(keys) == LEGACY_ENV_KEYS | {"HIVE_DB_SCHEMA", "OS_SECURITY_KEY"}, (
        "the legacy keys, HIVE_DB_SCHEMA and the current app's OS_SECURITY_KEY, nothing else"
    )
    assert len(keys) == len(set(keys)), "no key twice"
    values = entries.as_dict()
    assert values["HIVE_DB_SCHEMA"] == "agent" and values["HIVE_API_PORT"] == "38886", "mode-specific values"
    assert values["POSTGRES_PASSWORD"] == ENDPOINT.password and values["POSTGRES_PORT"] == "5532", "db values"
    assert values["HIVE_DATABASE_URL"] == rendering.database_url(ENDPOINT, IN_SCHEMAS["agent"]), "one URL builder"
    assert values["HIVE_API_KEY"] == f"hive_agent_{BASE}", "key from the one key function"
    assert values["OS_SECURITY_KEY"] == values["HIVE_API_KEY"], "AgentOS checks the same key as its bearer token"


def test_owned_keys_are_the_infrastructure_ones() -> None:
    owned = {k for k, _ in _entries().owned}
    assert owned == {
        "HIVE_API_PORT", "HIVE_DATABASE_URL", "HIVE_DB_SCHEMA", "POSTGRES_HOST", "POSTGRES_PORT",
        "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "HIVE_API_KEY", "OS_SECURITY_KEY",
    }, "the stack owns what it decides; application settings are only seeded"  # fmt: skip


def test_env_text_parses_back_to_the_entries() -> None:
    endpoint = rendering.DbEndpoint("localhost", 5532, "hive", "p@ss w'rd\"#$x\\y")
    entries = _entries(endpoint=endpoint)
    text = rendering.env_text(entries, rendering.env_header("hive", "dev"))
    assert text.startswith("# Managed by Pulumi stack hive/dev"), "the header says which stack manages the file"
    assert dotenv_values(stream=io.StringIO(text)) == entries.as_dict(), "python-dotenv reads every value back"
    assert text == rendering.env_text(entries, rendering.env_header("hive", "dev")), "rendering is stable"


@given(st.text().filter(lambda s: "${" not in s and "\x00" not in s))
def test_quoting_round_trips_through_dotenv(value: str) -> None:
    line = format_line("KEY", value) + "\n"
    assert dotenv_values(stream=io.StringIO(line)) == {"KEY": value}, f"python-dotenv must read back {value!r}"


@pytest.mark.parametrize("value", ["plain", "8886", "postgresql+psycopg://u:p@localhost:5532/hive", ""])
def test_plain_values_stay_bare(value: str) -> None:
    assert quote_value(value) == value, "values dotenv reads unquoted are written unquoted"


def test_container_env_is_unquoted() -> None:
    entries = _entries(endpoint=rendering.DbEndpoint("hive-postgres-shared", 5432, "hive", "a b"))
    env = rendering.container_env(entries)
    assert "POSTGRES_PASSWORD=a b" in env, "docker passes values verbatim: no dotenv quoting"
    assert "POSTGRES_HOST=hive-postgres-shared" in env and "POSTGRES_PORT=5432" in env, "network endpoint"


def _as_dict(env: list[str]) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in env]
    assert len({k for k, _ in pairs}) == len(pairs), f"each key once in a container's env: {env}"
    return dict(pairs)


def test_container_env_layers_the_users_keys_under_the_owned_ones() -> None:
    entries = _entries()
    shared = {"OPENAI_API_KEY": "sk-shared", "HIVE_LOG_LEVEL": "DEBUG", "HIVE_DATABASE_URL": "sqlite://", "X": "1"}
    own = {"OPENAI_API_KEY": "sk-agent", "POSTGRES_PASSWORD": "mine", "HIVE_LOG_LEVEL": "WARNING"}
    env = _as_dict(rendering.container_env(entries, (shared, own)))
    stack = entries.as_dict()
    assert env["OPENAI_API_KEY"] == "sk-agent", "the mode's own file overrides the workspace file"
    assert env["X"] == "1", "a key only the workspace file holds reaches every mode"
    assert env["HIVE_LOG_LEVEL"] == "WARNING", "a user's value beats a seeded default, as in the .env file"
    del own["HIVE_LOG_LEVEL"]
    env = _as_dict(rendering.container_env(entries, (shared, own)))
    assert env["HIVE_LOG_LEVEL"] == "INFO", (
        "a default the mode's own file lacks is seeded into it by this up, so it beats the workspace file's value"
    )
    assert _as_dict(rendering.container_env(entries, (shared,)))["HIVE_LOG_LEVEL"] == "DEBUG", (
        "the workspace mode's own file is the workspace file: its value is the user's"
    )
    assert env["HIVE_DATABASE_URL"] == stack["HIVE_DATABASE_URL"], "an owned key always wins over the user's file"
    assert env["POSTGRES_PASSWORD"] == stack["POSTGRES_PASSWORD"], "over the mode's own file too"
    assert stack.items() - {("HIVE_LOG_LEVEL", "INFO")} <= env.items(), "every other stack key is there as is"


def test_container_env_of_files_as_the_stack_wrote_them_is_that_of_no_files() -> None:
    entries = _entries()
    as_written = entries.as_dict()  # a file the stack created and nobody edited
    assert rendering.container_env(entries, (as_written, as_written)) == rendering.container_env(entries), (
        "a second `up` reading the files the first one wrote must give the same env, or the containers are replaced"
    )


def test_container_env_on_the_up_that_creates_a_modes_file_is_that_of_the_next_up() -> None:
    # A mode added to a stack: its own file is missing at program time, and the EnvFile then
    # writes it with every seeded default. The workspace file's value of a default key (its
    # own CORS origins) must not reach the new mode, or the next `up` replaces its container.
    entries = _entries()
    workspace = {"HIVE_CORS_ORIGINS": "http://localhost:3000,http://localhost:8886", "X": "1"}
    first = rendering.container_env(entries, (workspace, {}))
    written = dict(entries.all())  # the file the first up wrote, read by the next one
    assert first == rendering.container_env(entries, (workspace, written)), (
        "the env of the up that writes the mode's file must equal the next up's, or that up is not a no-op"
    )
    assert "X=1" in first, "a key only the workspace file holds still reaches the new mode"


def test_env_file_path() -> None:
    assert rendering.env_file_path(".", AGENT) == ".env.agent", "default envDir is the project folder"
    assert rendering.env_file_path("/srv/hive/", WORKSPACE) == "/srv/hive/.env", "absolute envDir"
    assert rendering.env_file_path("conf", GENIE) == "conf/.env.genie", "relative envDir"


def test_endpoint_repr_hides_the_password() -> None:
    assert ENDPOINT.password not in repr(ENDPOINT), "a logged endpoint must not leak the password"


def test_every_database_value_follows_the_modes_database() -> None:
    values = _entries(placement=IN_DATABASES["agent"]).as_dict()
    assert values["POSTGRES_DB"] == "hive_agent", "POSTGRES_DB names the mode's own database"
    assert make_url(values["HIVE_DATABASE_URL"]).database == "hive_agent", "and so does the URL"
    assert values["HIVE_DB_SCHEMA"] == "agent", "the mode's schema inside it"
