"""ServerGuard: what the PostgreSQL container's kept data cannot take is refused before anything changes.

Docker is replaced by the facts each test gives (``Live``, the image's id and
environment, whether a password logs in); the Docker tier runs the same checks
against a real engine (``tests/docker/test_day_two.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from hive_infra.providers import server_guard
from hive_infra.providers.server_guard import DockerUnreadable, Live, ServerGuardProvider, Wanted

PASSWORD = "Adm1n-Passw0rd-of-the-data-1234"
NEW_PASSWORD = "Another-Adm1n-Passw0rd-5678"
IMAGES = {
    "agnohq/pgvector:16": ("sha256:old", {"PG_MAJOR": "16"}),
    "agnohq/pgvector:16-rebuilt": ("sha256:new", {"PG_MAJOR": "16"}),
    "agnohq/pgvector:17": ("sha256:seventeen", {"PG_MAJOR": "17"}),
}
INPUTS = {
    "container": "hive-postgres-shared",
    "image": "agnohq/pgvector:16",
    "adminUser": "postgres",
    "adminPassword": PASSWORD,
    "port": 5532,
    "bindAddress": "127.0.0.1",
    "label": "hive/dev",
}


def live(**changes: Any) -> Live:
    facts: dict[str, Any] = {
        "image_id": "sha256:old",
        "env": {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": PASSWORD},
        "published": ("127.0.0.1", 5532),
        "data_major": "16",
        "image_names": ("agnohq/pgvector:16",),
        "running": True,
    }
    return Live(**{**facts, **changes})


@pytest.fixture
def docker_facts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The images Docker has, and the passwords that log in, as the tests set them."""
    facts: dict[str, Any] = {"images": dict(IMAGES), "logs_in": set(), "live": live()}
    monkeypatch.setattr(server_guard, "image_facts", lambda ref: facts["images"].get(ref))
    monkeypatch.setattr(server_guard, "password_logs_in", lambda _c, _u, password: password in facts["logs_in"])
    monkeypatch.setattr(server_guard, "live_container", lambda _wanted: facts["live"])
    return facts


def check(olds: dict[str, Any], **news: Any) -> dict[str, str]:
    result = ServerGuardProvider().check(olds, {**INPUTS, **news})
    return {failure.property: failure.reason for failure in result.failures or []}


def test_an_unchanged_server_passes(docker_facts: dict[str, Any]) -> None:
    assert check(INPUTS) == {}, "nothing changes: nothing to refuse"
    assert check({}) == {}, "nor on the first up after an upgrade, when nothing would replace the container"


def test_a_new_image_of_the_same_major_passes_on_a_stack_that_recorded_the_guard(docker_facts: dict[str, Any]) -> None:
    assert check(INPUTS, image="agnohq/pgvector:16-rebuilt") == {}, (
        "a rebuilt image replaces only the container: the database objects go with the volume now"
    )


def test_a_new_major_is_refused_naming_dump_and_restore(docker_facts: dict[str, Any]) -> None:
    failures = check(INPUTS, image="agnohq/pgvector:17")
    assert set(failures) == {"image"}, f"the image is refused: {failures}"
    text = failures["image"]
    assert "PostgreSQL 17" in text and "PostgreSQL 16 (its PG_VERSION)" in text, "both majors, and where from"
    assert "db dump" in text and "db restore" in text and "nothing was changed" in text, text


def test_an_image_not_in_dockers_cache_must_be_pulled_first(docker_facts: dict[str, Any]) -> None:
    failures = check(INPUTS, image="agnohq/pgvector:16.9")
    assert "docker pull agnohq/pgvector:16.9" in failures.get("image", ""), (
        f"its major cannot be read before it is pulled, and the fix is the pull: {failures}"
    )


def test_a_data_folder_of_unknown_major_is_not_refused(docker_facts: dict[str, Any]) -> None:
    docker_facts["live"] = live(data_major=None)
    assert check(INPUTS, image="agnohq/pgvector:17") == {}, "nothing to compare: PostgreSQL says it at start"


def test_the_first_up_after_an_upgrade_refuses_to_replace_the_container(docker_facts: dict[str, Any]) -> None:
    failures = check({}, image="agnohq/pgvector:16-rebuilt")
    text = failures.get("image", "")
    assert "before the ServerGuard" in text and "role already exists" in text, (
        f"the old state ties every database object to the container: the replacement would replace them: {failures}"
    )
    assert "run pulumi up once" in text and "agnohq/pgvector:16" in text, "the way: up once as it runs now"
    assert check({}, port=6543).get("image", "").count("hive:dbPort") == 1, "a new port replaces it too"


def test_a_new_admin_login_is_refused(docker_facts: dict[str, Any]) -> None:
    failures = check(INPUTS, adminUser="admin")
    assert "pulumi config set hive:adminUser postgres" in failures.get("adminUser", ""), failures


def test_a_new_admin_password_is_refused_unless_it_was_changed_inside(docker_facts: dict[str, Any]) -> None:
    failures = check(INPUTS, adminPassword=NEW_PASSWORD)
    assert "ALTER ROLE" in failures.get("adminPassword", ""), f"the data keeps the old one: {failures}"
    for text in failures.values():
        assert PASSWORD not in text and NEW_PASSWORD not in text, "no password in a message"
    docker_facts["logs_in"].add(NEW_PASSWORD)
    assert check(INPUTS, adminPassword=NEW_PASSWORD) == {}, "changed inside the server first: it logs in, go on"


def test_no_container_and_no_docker_refuse_nothing(
    docker_facts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    docker_facts["live"] = None
    assert check(INPUTS, image="agnohq/pgvector:17") == {}, "no container: it is created, nothing replaced"

    def unreadable(_wanted: Wanted) -> Live:
        raise DockerUnreadable("Cannot connect to the Docker daemon")

    monkeypatch.setattr(server_guard, "live_container", unreadable)
    assert check(INPUTS, image="agnohq/pgvector:17") == {}, "a preview with no engine: nothing it runs changes"


def test_unknown_inputs_are_not_checked(docker_facts: dict[str, Any]) -> None:
    from hive_infra.providers.wire import UNKNOWN

    assert check({}, adminPassword=UNKNOWN) == {}, "a first preview: the generated password is not known yet"


def test_the_image_name_counts_as_docker_lists_it() -> None:
    assert server_guard.normalised("postgres") == "postgres:latest", "a bare name is its latest tag"
    assert server_guard.normalised("registry:5000/pg") == "registry:5000/pg:latest", "a port is not a tag"
    assert server_guard.normalised("pg@sha256:abc") == "pg@sha256:abc", "a digest stays"
