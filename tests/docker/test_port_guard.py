"""The tier's guard: a port or a container name that is somebody else's stops the tier
before anything is made, naming the holder; nothing is stopped or removed."""

from __future__ import annotations

import socket

import pytest

from tests.support.dockerlib import TierImages, docker, inspect, refuse_if_taken


def test_a_held_port_is_refused_naming_its_holder(test_images: TierImages) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(AssertionError, match=rf"port {port} is held by a process \(.*python"):
            refuse_if_taken([port], [], "hive/dockertier")


def test_a_container_of_the_same_name_that_is_not_the_tiers_is_refused(test_images: TierImages) -> None:
    name = "hive-port-guard-probe"
    docker("create", "--name", name, "--label", "org.automagik-hive.pulumi-stack=hive/guard-probe",
           "--entrypoint", "true", test_images.postgres)  # fmt: skip
    try:
        with pytest.raises(AssertionError, match=f"a container named {name} exists and is not this tier's"):
            refuse_if_taken([], [name], "hive/dockertier")
        assert inspect(name) is not None, "the guard leaves somebody else's container alone"
    finally:
        docker("rm", "-f", "-v", name, check=False)  # -v: the image declares a VOLUME
