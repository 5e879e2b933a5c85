"""``python -m hive_infra doctor`` against a fake ``pulumi``, a fake Docker client and real port binds."""

from __future__ import annotations

import io
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from docker.errors import DockerException

from hive_infra.__main__ import main
from hive_infra.commands.contract import Context
from hive_infra.commands.doctor import checks
from hive_infra.commands.doctor.checks import FAIL, OK, WARN, PortProbe, SecretsFacts
from hive_infra.commands.doctor.own import OwnFacts, check_own_containers
from hive_infra.config import parse_config
from hive_infra.core.names import STACK_LABEL
from hive_infra.legacy.containers import ContainerInfo
from hive_infra.machine.stack_reader import PULUMI_ENV
from tests.support.fake_pulumi import FakePulumi, make_fake_pulumi
from tests.support.mocks import Secret
from tests.support.pgserver import free_port
from tests.support.program import PROJECT_DIR

GIB = 1 << 30
OUR_LABEL = {STACK_LABEL: "hive/dev"}
PASSPHRASE_ENV = {"PULUMI_CONFIG_PASSPHRASE": "not-printed-ever"}


# --- fakes ---------------------------------------------------------------------------------


@dataclass
class FakeContainer:
    name: str
    status: str
    ports: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)


def container(name: str, port: int | None = None, labels: dict[str, str] | None = None, status: str = "running") -> Any:
    ports = {f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]} if port and status == "running" else {}
    attrs: dict[str, Any] = {"Config": {"Labels": labels or {}}, "Mounts": []}
    if port and status != "running":
        attrs["HostConfig"] = {"PortBindings": {f"{port}/tcp": [{"HostIp": "", "HostPort": str(port)}]}}
    return FakeContainer(name, status, ports, attrs)


class FakeDocker:
    def __init__(self, containers: list[Any] | None = None, error: Exception | None = None, root: str = "") -> None:
        self._containers = containers or []
        self._error = error
        self._root = root
        self.containers = self
        self.created = 0

    def __call__(self) -> FakeDocker:  # the factory
        self.created += 1
        if self._error:
            raise self._error
        return self

    def ping(self) -> bool:
        return True

    def list(self, **kwargs: Any) -> list[Any]:
        assert kwargs == {"all": True}, "stopped containers count too"
        return list(self._containers)

    def info(self) -> dict[str, Any]:
        return {"DockerRootDir": self._root}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on (as docker-proxy does for a published port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@dataclass
class Doctor:
    project: Path
    bin: Path
    monkeypatch: pytest.MonkeyPatch
    pulumi: FakePulumi | None = None

    def with_pulumi(self, config: dict[str, Any] | None = None, **kwargs: Any) -> Doctor:
        """A fake pulumi whose stack has ``config`` (short keys) over Pulumi.yaml's defaults."""
        listing = {f"hive:{k}": v for k, v in (config or {}).items()}
        self.pulumi = make_fake_pulumi(self.bin, config=listing, **kwargs)
        return self

    def run(
        self,
        docker: FakeDocker | None = None,
        env: dict[str, str] | None = None,
        free: int = 50 * GIB,
        stack: str | None = "dev",
    ) -> tuple[int, list[str]]:
        self.monkeypatch.setenv("PATH", f"{self.bin}:/usr/bin:/bin")
        out = io.StringIO()
        context = Context(
            out,
            io.StringIO(),
            docker_factory=docker or FakeDocker(),
            disk_free=lambda _path: free,
            project_dir=self.project,
            environ=dict(PASSPHRASE_ENV if env is None else env),
        )
        code = main(["doctor", *(["--stack", stack] if stack else [])], context)
        return code, out.getvalue().splitlines()


@pytest.fixture
def doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doctor:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", project / "Pulumi.yaml")
    monkeypatch.delenv(PULUMI_ENV, raising=False)
    (tmp_path / "bin").mkdir()
    return Doctor(project, tmp_path / "bin", monkeypatch)


def one_stack(**config: Any) -> dict[str, Any]:
    """A workspace-only stack on two free ports, so that the binds test this machine as it is."""
    return {"modes": ["workspace"], "dbPort": free_port(), "apiPort": free_port(), **config}


def line(lines: list[str], start: str) -> str:
    found = [x for x in lines if x.startswith(start)]
    assert len(found) == 1, f"exactly one line starting {start!r}: {lines}"
    return found[0]


# --- end to end ----------------------------------------------------------------------------


def test_a_ready_machine_passes_every_check(doctor: Doctor) -> None:
    config = one_stack()
    code, lines = doctor.with_pulumi(config).run()
    assert code == 0, f"nothing fails on a ready machine: {lines}"
    assert all(x.startswith(OK) for x in lines), f"every check ok: {lines}"
    assert line(lines, "ok   Pulumi CLI:").endswith(f"v3.200.0 at {doctor.bin}/pulumi"), "the version and where"
    assert "ok   config of stack dev: valid" in lines, "the stack's config, validated"
    assert f"ok   port 127.0.0.1:{config['apiPort']} for mode workspace's API: free" in lines, "the API port"
    assert f"ok   port 127.0.0.1:{config['dbPort']} for the shared PostgreSQL (dbPort): free" in lines, "the db port"
    assert line(lines, "ok   disk:") == f"ok   disk: 50.0 GiB free in {doctor.project}", "free space"
    assert doctor.pulumi is not None
    config_calls = [c for c in doctor.pulumi.calls if c[0] == "config"]
    assert config_calls == [["config", "--json", "--non-interactive", "--stack", "dev"]], (
        "the config of the named stack, as JSON, never with --show-secrets"
    )
    assert not any("not-printed-ever" in x for x in lines), "a passphrase is never printed"


def test_without_pulumi(doctor: Doctor) -> None:
    code, lines = doctor.run()
    assert code == 1, "no Pulumi CLI: a failure"
    assert line(lines, "FAIL Pulumi CLI:") == (
        "FAIL Pulumi CLI: not on PATH; fix: install it (https://www.pulumi.com/docs/install/) "
        "or point HIVE_PULUMI at it"
    ), "says how to get it"
    assert "warn config: not checked: it is read through the Pulumi CLI" in lines, "no false config failure"
    assert lines[-1].startswith("doctor: 1 check failed"), "the summary counts the failures"


def test_a_failing_pulumi_version(doctor: Doctor) -> None:
    doctor.with_pulumi(one_stack(), exit_code=1, stderr="error: broken install\n", failing=["version"])
    code, lines = doctor.run()
    assert code == 1 and "`" in line(lines, "FAIL Pulumi CLI:"), "a CLI that cannot say its version fails"
    assert "broken install" in line(lines, "FAIL Pulumi CLI:"), "with the CLI's own message"


def test_no_passphrase_on_a_file_backend(doctor: Doctor) -> None:
    code, lines = doctor.with_pulumi(one_stack()).run(env={})
    assert code == 1, "pulumi would stop at a passphrase prompt"
    assert line(lines, "FAIL secrets:").startswith(
        "FAIL secrets: no passphrase set, and backend file://~ (from Pulumi.yaml) uses one; fix: export "
        "PULUMI_CONFIG_PASSPHRASE"
    ), "names the backend and the two variables"


def test_an_unreadable_passphrase_file(doctor: Doctor, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file"
    code, lines = doctor.with_pulumi(one_stack()).run(env={"PULUMI_CONFIG_PASSPHRASE_FILE": str(missing)})
    assert code == 1 and f"names {missing}, which cannot be read" in line(lines, "FAIL secrets:"), lines


def test_an_invalid_config_fails_as_the_program_would(doctor: Doctor) -> None:
    code, lines = doctor.with_pulumi({"apiPort": 28886, "bindAdress": "0.0.0.0"}).run()
    assert code == 1, "a config the program refuses"
    assert any("hive:apiPort: gives mode agent the API port 328886" in x for x in lines), f"names the key: {lines}"
    assert any("hive:bindAdress: is not a setting of this program; did you mean hive:bindAddress?" in x for x in lines)
    assert "warn ports and containers: not checked: the configuration could not be read" in lines, "no guessing"


def test_hidden_secrets_are_left_to_preview_and_never_asked_for(doctor: Doctor) -> None:
    config = one_stack(dataPath="/srv/hive/data/postgres", adminPassword=Secret("never-read-by-doctor-1234"))
    code, lines = doctor.with_pulumi(config).run()
    assert code == 0, f"dataPath needs adminPassword, which is set (hidden): {lines}"
    assert "ok   config of stack dev: valid (1 secret value left to `pulumi preview`)" in lines, "says so"
    assert doctor.pulumi is not None
    assert all("--show-secrets" not in call for call in doctor.pulumi.calls), "secrets are never read"


def test_a_stack_not_created_yet_is_checked_from_its_files(doctor: Doctor) -> None:
    api, db = free_port(), free_port()  # never the defaults, which a running stack on this machine may hold
    (doctor.project / "Pulumi.dev.yaml").write_text(
        f"config:\n  hive:modes:\n    - workspace\n  hive:apiPort: {api}\n  hive:dbPort: {db}\n"
        "  hive:dbPassword:\n    secure: v1:abc\n"
    )
    doctor.with_pulumi(exit_code=255, stderr="error: no stack named 'dev' found\n", failing=["config"])
    code, lines = doctor.run()
    assert line(lines, "warn stack dev:").startswith("warn stack dev: does not exist yet (`make up` creates it)"), (
        "the first `make up` runs doctor before the stack exists: a warning, not a failure"
    )
    assert "ok   config of stack dev: valid (1 secret value left to `pulumi preview`)" in lines, "from the files"
    assert f"ok   port 127.0.0.1:{api} for mode workspace's API: free" in lines, "Pulumi.dev.yaml's apiPort is used"
    assert code == 0, lines


def test_a_config_the_cli_cannot_read(doctor: Doctor) -> None:
    doctor.with_pulumi(exit_code=255, stderr="error: passphrase must be set\n", failing=["config"])
    code, lines = doctor.run()
    assert code == 1 and "cannot be read: error: passphrase must be set" in line(lines, "FAIL config of stack dev:")


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        (DockerException("Error while fetching server API version: connection refused"), "start the Docker engine"),
        (DockerException("('Connection aborted.', PermissionError(13, 'Permission denied'))"), "usermod -aG docker"),
    ],
    ids=["down", "permission"],
)
def test_an_unreachable_docker(doctor: Doctor, error: Exception, fix: str) -> None:
    code, lines = doctor.with_pulumi(one_stack()).run(docker=FakeDocker(error=error))
    assert code == 1, "container mode needs Docker"
    failed = line(lines, "FAIL Docker:")
    assert "no reachable Docker engine" in failed and fix in failed, f"the reason and the fix: {failed}"


def test_docker_is_not_asked_when_nothing_runs_in_containers(doctor: Doctor) -> None:
    config = {
        "modes": ["workspace"],
        "postgresMode": "external",
        "postgresHost": "db.example.internal",
        "adminPassword": Secret("Managed-Adm1n-Passw0rd"),
        "apiContainers": False,
    }
    docker = FakeDocker(error=DockerException("must not be asked"))
    code, lines = doctor.with_pulumi(config).run(docker=docker)
    assert "ok   Docker: not needed (external PostgreSQL, apiContainers=false)" in lines, lines
    assert not [x for x in lines if x.startswith("ok   port")], "the stack publishes no port here"
    assert code == 0, lines


def test_a_port_another_program_holds(doctor: Doctor, busy_port: int) -> None:
    code, lines = doctor.with_pulumi(one_stack(apiPort=busy_port)).run()
    assert code == 1, "`up` would fail half way with 'port is already allocated'"
    assert line(lines, f"FAIL port 127.0.0.1:{busy_port}") == (
        f"FAIL port 127.0.0.1:{busy_port} for mode workspace's API: in use by another program; fix: find it with "
        f"`ss -ltnp 'sport = :{busy_port}'` and stop it, or change hive:apiPort"
    ), "names the port, its purpose, how to find the holder and the key to change"


def test_a_second_up_passes_on_the_stacks_own_ports(doctor: Doctor, busy_port: int) -> None:
    config = one_stack(apiPort=busy_port)
    ours = [container("hive-agents", busy_port, OUR_LABEL), container("hive-postgres-shared", None, OUR_LABEL)]
    code, lines = doctor.with_pulumi(config).run(docker=FakeDocker(ours))
    assert f"ok   port 127.0.0.1:{busy_port} for mode workspace's API: held by this stack's hive-agents" in lines
    assert "ok   containers: no legacy hive container and no clashing name" in lines, "its own names are no clash"
    assert code == 0, f"the stack's own containers are what a second `make up` finds: {lines}"


def test_a_port_another_container_holds(doctor: Doctor, busy_port: int) -> None:
    other = [container("grafana", busy_port, {STACK_LABEL: "hive/prod"})]
    code, lines = doctor.with_pulumi(one_stack(apiPort=busy_port)).run(docker=FakeDocker(other))
    assert code == 1, "another stack's container holds the port"
    assert line(lines, "FAIL port").endswith(
        "in use by container grafana (not this stack's); fix: `docker stop grafana`, or change hive:apiPort"
    ), lines


def test_a_running_legacy_install(doctor: Doctor) -> None:
    config = one_stack()
    legacy = [
        container("hive-postgres", config["dbPort"]),
        container("hive-agents", None, status="exited"),
    ]
    code, lines = doctor.with_pulumi(config).run(docker=FakeDocker(legacy))
    assert code == 1, lines
    assert line(lines, "warn container hive-postgres:").startswith(
        "warn container hive-postgres: a legacy hive container is running; fix: adopt it first"
    ), "legacy data to adopt before up"
    assert line(lines, "FAIL container hive-agents:") == (
        "FAIL container hive-agents: exists [exited] and is not this stack's: Docker refuses a second container "
        "of that name; fix: adopt it first (docs/backups-and-migration.md: Adopting an existing installation), then "
        "`docker stop hive-agents && docker rm hive-agents`, or set hive:namePrefix"
    ), "the legacy API container's name is the stack's"
    assert "in use by container hive-postgres (not this stack's); fix: adopt it first" in line(
        lines, f"FAIL port 127.0.0.1:{config['dbPort']}"
    ), "its port too, with the way out"


def test_the_stacks_own_containers_stopped_or_removed_by_hand(doctor: Doctor) -> None:
    config = one_stack()
    ours = {STACK_LABEL: "hive/dev"}
    left = [container("hive-agents", config["apiPort"], ours, status="exited")]
    code, lines = doctor.with_pulumi(config).run(docker=FakeDocker(left))
    assert line(lines, "warn container hive-agents:") == (
        "warn container hive-agents: this stack's container is exited; a plain `pulumi up` does not look at "
        "Docker (docs/operations.md: Troubleshooting); fix: make repair STACK=dev"
    ), "a stopped container of the stack: make repair (printed so it runs as is), which a plain up is not"
    missing = line(lines, "warn container hive-postgres-shared:")
    assert missing.startswith(
        "warn container hive-postgres-shared: this stack's container is gone (removed by hand?)"
    ), "its PostgreSQL container is missing while the stack's API container is there"
    assert missing.endswith("; fix: make repair STACK=dev"), "the fix is the command, to run as it is printed"
    assert code == 0, "a warning: make up would not repair it, but nothing is in the way either"


def test_a_stack_not_up_yet_has_no_missing_containers(doctor: Doctor) -> None:
    code, lines = doctor.with_pulumi(one_stack()).run(docker=FakeDocker([]))
    assert not [x for x in lines if x.startswith("warn container")], f"nothing of the stack exists yet: {lines}"
    assert code == 0


def test_low_disk(doctor: Doctor, tmp_path: Path) -> None:
    code, lines = doctor.with_pulumi(one_stack()).run(docker=FakeDocker(root=str(tmp_path)), free=GIB)
    assert code == 1, "images would not fit"
    assert line(lines, "FAIL disk:") == (
        f"FAIL disk: 1.0 GiB free in {tmp_path}; the images need about 2 GiB; fix: free some space "
        "(`docker system prune` removes stopped containers and unused images)"
    ), "measured in Docker's root folder, with a fix"


def test_a_bind_address_this_machine_does_not_have(doctor: Doctor) -> None:
    code, lines = doctor.with_pulumi(one_stack(bindAddress="192.0.2.1")).run()
    failed = [x for x in lines if x.startswith("FAIL port 192.0.2.1:")]
    assert code == 1 and len(failed) == 2, f"both ports: {lines}"
    assert all("192.0.2.1 is not an address of this machine; fix: set hive:bindAddress" in x for x in failed), failed


# --- pure verdicts -------------------------------------------------------------------------


def secrets(**overrides: Any) -> SecretsFacts:
    facts: dict[str, Any] = {
        "passphrase_set": False,
        "passphrase_file": None,
        "passphrase_file_readable": False,
        "backend_url": "file://~",
        "backend_source": "Pulumi.yaml",
        "access_token_set": False,
        "secrets_provider": None,
        "has_salt": False,
    }
    return SecretsFacts(**{**facts, **overrides})


@pytest.mark.parametrize(
    ("overrides", "status", "words"),
    [
        ({"passphrase_set": True}, OK, "PULUMI_CONFIG_PASSPHRASE is set"),
        ({"passphrase_file": "/p", "passphrase_file_readable": True}, OK, "(/p) can be read"),
        ({"secrets_provider": "awskms://alias/hive?region=eu-west-1"}, OK, "is awskms: no passphrase needed"),
        ({"backend_url": "https://api.pulumi.com", "access_token_set": True}, OK, "Pulumi Cloud"),
        ({"backend_url": "https://api.pulumi.com"}, WARN, "pulumi login"),
        ({"backend_url": "https://api.pulumi.com", "has_salt": True}, FAIL, "encrypts with a passphrase"),
        ({"backend_url": "s3://bucket/hive", "backend_source": "PULUMI_BACKEND_URL"}, FAIL, "s3://bucket/hive"),
    ],
)
def test_secrets_verdicts(overrides: dict[str, Any], status: str, words: str) -> None:
    verdict = checks.check_secrets(secrets(**overrides))
    assert verdict.status == status and words in verdict.line(), f"{overrides}: {verdict.line()}"


def test_published_ports_follow_what_runs_here() -> None:
    cfg = parse_config({})
    assert sorted(checks.published_ports(cfg)) == [5532, 8886, 38886, 48886], "container mode: db and every API"
    no_api = parse_config({"apiContainers": "false"})
    assert sorted(checks.published_ports(no_api)) == [5532], "no API containers: only PostgreSQL's port"
    external = parse_config(
        {"postgresMode": "external", "postgresHost": "db.internal", "adminPassword": "Managed-Adm1n-Passw0rd"}
    )
    assert sorted(checks.published_ports(external)) == [8886, 38886, 48886], "external: the server's port is not here"


def _info(name: str, port: int, status: str = "running", when_started: bool = False, **labels: str) -> ContainerInfo:
    return ContainerInfo(name, status, ((port, f"0.0.0.0:{port}->80/tcp"),), when_started, (), labels)


@pytest.mark.parametrize(
    ("probe", "containers", "status", "words"),
    [
        (PortProbe(True), [], OK, "free"),
        (PortProbe(True), [_info("old", 8886, "exited", True)], WARN, "stopped container old takes it when started"),
        (PortProbe(False, "EACCES"), [], WARN, "needs privileges"),
        (PortProbe(False, "EADDRINUSE"), None, FAIL, "Docker unreachable: cannot say by whom"),
        (PortProbe(True), [_info("x", 8886)], FAIL, "in use by container x"),  # a proxy-less engine still clashes
    ],
)
def test_port_verdicts(probe: PortProbe, containers: Any, status: str, words: str) -> None:
    cfg = parse_config({"modes": '["workspace"]'})
    verdict = checks.check_port(8886, "mode workspace's API", probe, containers, cfg, "hive/dev")
    assert verdict.status == status and words in verdict.line(), verdict.line()


def test_a_container_on_another_address_does_not_clash() -> None:
    cfg = parse_config({"modes": '["workspace"]', "bindAddress": "127.0.0.1"})
    elsewhere = ContainerInfo("x", "running", ((8886, "10.0.0.2:8886->80/tcp"),), False, (), {})
    verdict = checks.check_port(8886, "api", PortProbe(True), [elsewhere], cfg, "hive/dev")
    assert verdict.status == OK, f"a binding on another address leaves 127.0.0.1:8886 free: {verdict.line()}"


def test_every_verdict_is_one_line() -> None:
    verdicts: list[Callable[[], Any]] = [
        lambda: checks.check_disk(checks.DiskFacts("/x", 0)),
        lambda: checks.check_secrets(secrets()),
        lambda: checks.check_docker("no reachable Docker engine (x)", None),
    ]
    for make in verdicts:
        assert "\n" not in make().line(), "one line per check"


def listed(name: str, status: str = "running") -> ContainerInfo:
    """A container of the stack ``hive/dev`` as the listing gives it."""
    return ContainerInfo(name, status, (), False, (), {STACK_LABEL: "hive/dev"})


def test_a_removed_built_image_and_an_api_cut_off_from_its_database() -> None:
    cfg = parse_config({})
    running = [listed("hive-agents"), listed("hive-postgres-shared")]
    facts = OwnFacts(("hive-infra/hive-api:1.0.0rc7-abc", False), {"hive-agents": "hive-postgres-shared:5432: refused"})
    lines = [v.line() for v in check_own_containers(running, cfg, "hive/dev", facts)]
    assert (
        "warn image hive-infra/hive-api:1.0.0rc7-abc: the API image this stack built is gone; a plain `pulumi up` "
        "does not look at Docker (docs/operations.md: Troubleshooting); fix: make repair STACK=dev"
    ) in lines, f"a built image removed by hand is rebuilt by the repair: {lines}"
    cut_off = [x for x in lines if x.startswith("warn container hive-agents: its API answers")]
    assert cut_off == [
        "warn container hive-agents: its API answers, but cannot reach its database: hive-postgres-shared:5432: "
        "refused; fix: docker logs hive-agents"
    ], f"the server runs, so its logs say why, naming the server it cannot reach: {lines}"
    stopped = [listed("hive-agents"), listed("hive-postgres-shared", "exited")]
    lines = [v.line() for v in check_own_containers(stopped, cfg, "hive/dev", facts)]
    assert any(x.startswith("warn container hive-agents: its API answers") and x.endswith("fix: make repair STACK=dev")
               for x in lines), f"the stack's own server is stopped: the repair starts it: {lines}"  # fmt: skip
    assert check_own_containers([], cfg, "hive/dev", facts) == [], "a stack not up yet: nothing of it to miss"
