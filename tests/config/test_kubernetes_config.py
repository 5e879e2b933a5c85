"""platform=kubernetes: its keys, what it requires and refuses, each problem naming the fix."""

from __future__ import annotations

from typing import Any

import pytest

from hive_infra.config import ConfigError, parse_config
from hive_infra.core.modes import MODES
from tests.support.program import KUBERNETES_VALUES as KUBERNETES
from tests.support.program import raw_config as raw


def problems(**values: Any) -> dict[str, str]:
    """``{key: message}`` of the problems ``values`` (over ``KUBERNETES``) give."""
    with pytest.raises(ConfigError) as info:
        merged = {k: v for k, v in {**KUBERNETES, **values}.items() if v is not None}
        parse_config(raw(**merged))
    found = {}
    for line in info.value.problems:
        key, _, message = line.partition(": ")
        found[key.removeprefix("hive:")] = message
    return found


def test_the_default_platform_is_docker_with_every_kubernetes_key_unset() -> None:
    cfg = parse_config({})
    assert (cfg.platform, cfg.kubernetes) == ("docker", False), "an existing stack stays on Docker"
    assert (cfg.kubeconfig, cfg.kube_context, cfg.kube_namespace, cfg.image_registry) == (None,) * 4
    assert cfg.api_replicas == 2, "two replicas by default: one pod may go while the other serves"


def test_a_kubernetes_stack_parses_with_its_defaults() -> None:
    cfg = parse_config(raw(**KUBERNETES))
    assert cfg.kubernetes
    assert cfg.kube_names.namespace == "hive", "the namespace defaults to namePrefix"
    services = [cfg.kube_names.service(m) for m in cfg.mode_table]
    assert services == ["hive-agents", "hive-agent-dev-server", "hive-genie-server"], (
        "the Services are named as the Docker containers are"
    )
    assert (cfg.api_cpu_request, cfg.api_memory_request, cfg.api_cpu_limit, cfg.api_memory_limit) == (
        "250m",
        "512Mi",
        "2",
        "2Gi",
    )


def test_kubernetes_requires_a_managed_postgresql() -> None:
    found = problems(postgresMode="container", postgresHost=None)
    assert "postgresMode external" in found["postgresMode"], "the fix is named: external mode"
    found = problems(postgresHost="127.0.0.1")
    assert "pods cannot reach" in found["postgresHost"], "a loopback server is not the pods' to reach"


def test_kubernetes_refuses_apicontainers_false_and_a_bind_address() -> None:
    found = problems(apiContainers=False, bindAddress="0.0.0.0")
    assert "unset hive:apiContainers" in found["apiContainers"]
    assert "unset it" in found["bindAddress"] and "port-forward" in found["bindAddress"]


def test_a_project_on_kubernetes_needs_the_registry_its_image_is_pushed_to() -> None:
    """The project is baked into an image built here; the pods can only pull it from a registry."""
    cfg = parse_config(raw(**KUBERNETES, apiProjectDir="./projects/{mode}"))
    assert cfg.api_project_dir == "./projects/{mode}", "a project is served on a cluster too"
    values = {k: v for k, v in KUBERNETES.items() if k != "imageRegistry"}
    with pytest.raises(ConfigError) as info:
        parse_config(raw(**values, apiImage="registry.example.com/hive:1.0", apiProjectDir="./mine"))
    assert "set hive:imageRegistry" in str(info.value) and "hive:apiProjectDir" in str(info.value), (
        "apiImage needs no registry, its project layer does; the message names the key and the fix"
    )


def test_kubernetes_needs_a_registry_for_the_built_image_but_not_for_apiimage() -> None:
    found = problems(imageRegistry=None)
    assert "hive:apiImage" in found["imageRegistry"], "either fix is named"
    values = {k: v for k, v in KUBERNETES.items() if k != "imageRegistry"}
    cfg = parse_config(raw(**values, apiImage="registry.example.com/hive:1.0"))
    assert cfg.image_registry is None and not cfg.builds_api_image


def test_registry_credentials_go_together() -> None:
    assert "set both or neither" in problems(imageRegistryUser="bot")["imageRegistryUser"]
    cfg = parse_config(raw(**KUBERNETES, imageRegistryUser="bot", imageRegistryPassword="t0ken"))
    assert cfg.image_registry_password == "t0ken" and "t0ken" not in repr(cfg), "the password stays out of repr"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("platform", "nomad", "docker or kubernetes"),
        ("kubeNamespace", "Hive_NS", "not a Kubernetes namespace"),
        ("apiReplicas", 0, "from 1 to 20"),
        ("apiCpuRequest", "a lot", "quantity"),
        ("apiMemoryLimit", "2GB", "quantity"),
        ("imageRegistry", "https://registry.example.com", "host[:port][/path]"),
    ],
)
def test_each_kubernetes_value_is_checked(key: str, value: Any, words: str) -> None:
    assert words in problems(**{key: value})[key], f"{key}={value!r} is refused naming what it must be"


def test_a_prefix_kubernetes_cannot_take_is_refused_naming_the_fix() -> None:
    found = problems(namePrefix="Hive.Prod")
    assert "hive:kubeNamespace" in found["namePrefix"] or "not a Kubernetes name" in found["namePrefix"]
    parse_config(raw(**KUBERNETES, namePrefix="Hive.Prod".lower().replace(".", "-")))


def test_kubernetes_keys_on_docker_are_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(raw(apiReplicas=3, kubeNamespace="team", imageRegistry="registry.example.com"))
    text = str(info.value)
    for key in ("apiReplicas", "kubeNamespace", "imageRegistry"):
        assert f"hive:{key}: applies only with platform=kubernetes" in text, f"{key} would be ignored on docker"


def test_every_problem_is_reported_together() -> None:
    found = problems(postgresMode="container", postgresHost=None, apiContainers=False, bindAddress="0.0.0.0")
    assert {"postgresMode", "apiContainers", "bindAddress"} <= set(found), "one run names every problem"


def test_each_mode_has_its_own_names() -> None:
    names = parse_config(raw(**KUBERNETES, kubeNamespace="team-a")).kube_names
    assert names.namespace == "team-a"
    every = names.every_name(tuple(MODES.values()))
    assert len(set(every)) == len(every), "no two objects of the stack share a name"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("ingressDomain", "Hive.Example.com", "not a domain"),
        ("ingressDomain", "*.hive.example.com", "not a domain"),
        ("ingressClass", "Nginx Public", "not a Kubernetes object name"),
        ("ingressTls", "hive_tls", "not a Kubernetes object name"),
        ("egressPostgresCidr", "db.example.internal", "cannot name a DNS host"),
        ("egressPostgresCidr", "10.20.0.5/24", "not an IP address or CIDR"),
    ],
)
def test_each_entry_and_policy_value_is_checked(key: str, value: Any, words: str) -> None:
    extra = {} if key == "ingressDomain" else {"ingressDomain": "hive.example.com"}
    assert words in problems(**extra, **{key: value})[key], f"{key}={value!r} is refused naming what it must be"


def test_ingress_class_and_tls_need_the_domain_and_every_key_is_refused_on_docker() -> None:
    found = problems(ingressClass="nginx", ingressTls="hive-tls")
    assert "with hive:ingressDomain" in found["ingressClass"] and "with hive:ingressDomain" in found["ingressTls"]
    cfg = parse_config(raw(**KUBERNETES, ingressDomain="hive.example.com", egressPostgresCidr="10.20.0.0/24"))
    assert (cfg.ingress_domain, cfg.egress_postgres_cidr) == ("hive.example.com", "10.20.0.0/24")
    with pytest.raises(ConfigError) as info:
        parse_config(raw(ingressDomain="hive.example.com", egressPostgresCidr="10.20.0.5"))
    for key in ("ingressDomain", "egressPostgresCidr"):
        assert f"hive:{key}: applies only with platform=kubernetes" in str(info.value), f"{key} means nothing on docker"
