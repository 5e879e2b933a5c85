"""doctor's image probe on a real Docker engine: an image present here, one a registry answers
for (Debian's docker-registry on loopback, serving an image this test pushed), and one whose
registry does not answer. Nothing from outside is pulled."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hive_infra.commands.contract import Context
from hive_infra.commands.doctor import images, probe
from hive_infra.commands.doctor.images import ImageFacts, StackData
from hive_infra.config import parse_config
from tests.support.dockerlib import REQUIRE_ENV, TierImages, docker
from tests.support.pgserver import free_port


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """host:port of a docker-registry on 127.0.0.1 of this test's own (Docker treats loopback as insecure-allowed)."""
    if shutil.which("docker-registry") is None:
        why = "Debian's docker-registry is not installed (apt-get install docker-registry)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {why}", pytrace=False)
        pytest.skip(why)
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}}}\nhttp: {{addr: '127.0.0.1:{port}'}}\n"
    )
    server = subprocess.Popen(
        ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, f"docker-registry exited: {server.stderr.read() if server.stderr else ''}"
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_present_pullable_and_neither(test_images: TierImages, registry: str, tmp_path: Path) -> None:
    pushed = f"{registry}/hive-test/doctor-probe:{uuid.uuid4().hex[:8]}"
    docker("tag", test_images.python_base, pushed)
    try:
        docker("push", pushed, timeout=300)
    finally:
        docker("rmi", pushed, check=False)  # only the tag: the image stays as the tier's base
    unreachable = f"127.0.0.1:{free_port()}/hive-test/nowhere:1"
    machine = Context(io.StringIO(), io.StringIO(), project_dir=tmp_path)
    facts = probe.image_facts(machine, [test_images.postgres, pushed, unreachable])
    assert facts[test_images.postgres] == ImageFacts(True), "the tier's own image is here"
    assert facts[pushed] == ImageFacts(False), f"not here, but its registry answers for it: {facts[pushed]}"
    assert not facts[unreachable].present and facts[unreachable].pull_error, facts[unreachable]
    assert docker("image", "ls", "-q", pushed).strip() == "", "asking the registry pulled nothing"

    cfg = parse_config({"postgresImage": pushed, "apiImage": unreachable}, ["apiImage", "postgresImage"])
    lines = [v.line() for v in images.check_images(cfg, facts, StackData(0, False), "probe", "hive-postgres-data")]
    assert lines[0].startswith(f"ok   image {pushed}: (postgresImage) not here; its registry answers"), lines
    assert lines[1].startswith(f"FAIL image {unreachable}: (apiImage) not here, and it cannot be pulled"), lines
