"""platform=kubernetes under the mocks: what the program declares on a cluster, and that
platform=docker declares exactly what a stack without the key does (the state proof's
mock half; the engine tier's test_state_upgrade previews an old state with no change)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.mocks import Secret, reveal
from tests.support.program import ProgramRun, run_program


def _plain(value: Any) -> Any:
    """``value`` with what the mocks answer by registration order (unknowns, image ids) made one word."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Unknown":
        return "<unknown>"
    if isinstance(value, str) and value.startswith("sha256:"):
        return "<image id>"
    return value


def _shape(run: ProgramRun) -> list[tuple[Any, ...]]:
    rows = [
        (r.urn, r.type, r.provider, r.parent, _plain(r.inputs), r.protect, r.deleted_with) for r in run.registrations
    ]
    return sorted(rows, key=lambda row: row[0])


#: Supplied, so that no mock-generated value depends on the order of registrations.
SECRETS = {"dbPassword": "Zq8vN3kLm2Xc9Rt5Yw", "adminPassword": "Adm1n-Zq8vN3kLm2Xc9", "apiKeyBase": "k" * 43}


@pytest.mark.parametrize("preview", [False, True])
def test_platform_docker_declares_what_an_existing_stack_declares(preview: bool) -> None:
    before = run_program(SECRETS, preview=preview)
    after = run_program({**SECRETS, "platform": "docker"}, preview=preview)
    assert _shape(after) == _shape(before), "platform=docker: the same URNs, types, providers, inputs and options"
    assert {k: (v.value, v.secret) for k, v in after.outputs.items()} == {
        k: (v.value, v.secret) for k, v in before.outputs.items()
    }, "the same outputs"
    assert not [r for r in before.registrations if r.type.startswith("kubernetes:")], "no cluster object on Docker"


K8S = "kubernetes:"
KUBERNETES: dict[str, Any] = {
    **SECRETS,
    "platform": "kubernetes",
    "postgresMode": "external",
    "postgresHost": "db.example.internal",
    "imageRegistry": "127.0.0.1:5055",
    "imageRegistryUser": "bot",
    "imageRegistryPassword": "regi-t0ken-value",
}
SERVICES = {"workspace": "hive-agents", "agent": "hive-agent-dev-server", "genie": "hive-genie-server"}


@pytest.fixture(scope="module")
def cluster() -> ProgramRun:
    return run_program(KUBERNETES)


def _deployment(run: ProgramRun, mode: str) -> dict[str, Any]:
    return dict(reveal(run.named(f"hive-kubernetes-{mode}-deployment").inputs))


def test_each_mode_gets_a_secret_a_deployment_a_service_and_a_budget(cluster: ProgramRun) -> None:
    assert [r.inputs["metadata"]["name"] for r in cluster.of_type(K8S + "core/v1:Namespace")] == ["hive"]
    for mode, service in SERVICES.items():
        deployment = _deployment(cluster, mode)
        assert deployment["metadata"]["name"] == service, "the Deployment is named as the Docker container"
        assert deployment["spec"]["replicas"] == 2, "apiReplicas' default"
        svc = cluster.named(f"hive-kubernetes-{mode}-service").inputs
        assert svc["metadata"]["name"] == service and svc["spec"]["type"] == "ClusterIP"
        port = {"workspace": 8886, "agent": 38886, "genie": 48886}[mode]
        assert svc["spec"]["ports"][0]["port"] == port, "the Service listens on the mode's API port"
        pdb = cluster.named(f"hive-kubernetes-{mode}-pdb").inputs
        assert pdb["spec"]["minAvailable"] == 1, "a drain keeps one pod of two"
    assert not cluster.of_type(K8S + "core/v1:ConfigMap"), "no ConfigMap: the entries are in Secrets"
    docker_types = {"docker:index/container:Container", "docker:index/volume:Volume", "docker:index/network:Network"}
    assert not docker_types & {r.type for r in cluster.registrations}, "no Docker container, volume or network"
    assert not [r for r in cluster.registrations if "ApiHealth" in r.type], "the provider's await replaces ApiHealth"


def test_every_cluster_object_goes_through_the_explicit_provider(cluster: ProgramRun) -> None:
    provider = cluster.named("hive-kubernetes-provider")
    assert provider.inputs.get("clusterIdentifier") == "hive-hive", "replaced only when the namespace changes"
    objects = [r for r in cluster.registrations if r.type.startswith(K8S)]
    assert len(objects) == 1 + 1 + 3 * 5, "the namespace, the pull secret, and five objects per mode"
    for r in objects:
        assert r.provider.startswith(provider.urn), f"{r.name} uses the stack's kubernetes provider, not a default"


def test_the_built_image_is_pushed_through_a_docker_provider_of_its_own(cluster: ProgramRun) -> None:
    built = cluster.named("hive-api-image")
    assert built.provider == "", "today's image keeps the default docker provider (moving it would replace it)"
    push_provider = cluster.named("hive-kubernetes-image-provider")
    assert isinstance(push_provider.inputs["registryAuth"], Secret), "the registry's login is a secret in the state"
    (auth,) = json.loads(reveal(push_provider.inputs["registryAuth"]))  # a provider's inputs are JSON
    assert (auth["address"], auth["username"], auth["password"]) == ("http://127.0.0.1:5055", "bot", "regi-t0ken-value")
    push = cluster.named("hive-kubernetes-image-push")
    tag = cluster.named("hive-kubernetes-image-tag")
    for r in (push, tag):
        assert r.provider.startswith(push_provider.urn), f"{r.name} goes through the push's own provider"
    assert tag.inputs["sourceImage"] == built.inputs["name"]
    assert (
        push.inputs["name"]
        == tag.inputs["targetImage"]
        == f"127.0.0.1:5055/hive-api:{built.inputs['name'].split(':')[1]}"
    )
    assert push.inputs["keepRemotely"] is True, "a destroy leaves the registry's image"
    image = _deployment(cluster, "agent")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("127.0.0.1:5055/hive-api@sha256:"), "the pods run the pushed image by its digest"


def test_the_pods_are_locked_down_and_probed(cluster: ProgramRun) -> None:
    spec = _deployment(cluster, "genie")["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["imagePullSecrets"] == [{"name": "hive-registry"}], "the pods pull with the registry's login"
    (api,) = pod["containers"]
    assert api["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    assert api["startupProbe"]["httpGet"]["path"] == "/health"
    assert api["startupProbe"]["failureThreshold"] * api["startupProbe"]["periodSeconds"] == 180, (
        "the startup budget is apiHealthTimeout"
    )
    assert {"readinessProbe", "livenessProbe"} <= set(api)
    assert {m["mountPath"] for m in api["volumeMounts"]} == {"/app/data", "/app/logs"}
    assert api["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


def test_the_entries_reach_the_pods_only_through_the_secret(cluster: ProgramRun) -> None:
    secret = cluster.named("hive-kubernetes-agent-secret").inputs
    assert isinstance(secret["stringData"], Secret), "the Secret's entries are a secret in the state"
    entries = reveal(secret["stringData"])
    assert entries["HIVE_API_KEY"].startswith("hive_agent_") and "HIVE_DATABASE_URL" in entries
    assert "@db.example.internal:5532/hive_agent" in entries["HIVE_DATABASE_URL"], "the pods reach the managed server"
    (api,) = _deployment(cluster, "agent")["spec"]["template"]["spec"]["containers"]
    assert "env" not in api, "no plain env"
    assert api["envFrom"] == [{"secretRef": {"name": "hive-agent-dev-server-env"}}]


def test_no_secret_value_outside_a_secret(cluster: ProgramRun) -> None:
    values = [SECRETS["dbPassword"], "k" * 43, KUBERNETES["imageRegistryPassword"]]

    def plain(value: Any) -> Any:
        """``value`` with every Secret left out."""
        if isinstance(value, Secret):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    for r in cluster.registrations:
        if r.type.startswith(K8S) or r.type.startswith("docker:"):
            text = repr(plain(r.inputs))
            for secret in values:
                assert secret not in text, f"{r.name}: a secret value outside a secret input"
    annotations = _deployment(cluster, "workspace")["spec"]["template"]["metadata"]["annotations"]
    (checksum,) = annotations.values()
    assert len(checksum) == 64, "the Secret's checksum rolls the pods; it is a hash, not a value"


def test_the_first_start_runs_alone_before_the_deployment(cluster: ProgramRun) -> None:
    """Two replicas never start together on an empty schema: a Job runs the image's own command
    once, alone, until it answers; the Deployment is created (or changed) only after it."""
    for mode, service in SERVICES.items():
        job = cluster.named(f"hive-kubernetes-{mode}-first-start")
        deployment = cluster.named(f"hive-kubernetes-{mode}-deployment")
        assert job.urn in deployment.dependencies, f"{mode}: the Deployment waits for the first start"
        inputs = reveal(job.inputs)
        assert "name" not in inputs["metadata"], "named by Pulumi: a changed template replaces it, the new one first"
        pod = inputs["spec"]["template"]
        assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == f"{service}-first-start", (
            "its pod is not one the Service or the Deployment selects"
        )
        assert (
            pod["metadata"]["annotations"] == _deployment(cluster, mode)["spec"]["template"]["metadata"]["annotations"]
        )
        (starter,) = pod["spec"]["containers"]
        assert starter["command"][:2] == ["sh", "-c"] and "hive serve" in starter["command"][2]
        assert starter["args"][1].endswith("/health"), "it stops once the app answers its health path"
        assert not [k for k in starter if k.endswith("Probe")], "no probe: it is not a server"
        assert starter["envFrom"] == [{"secretRef": {"name": f"{service}-env"}}] and "env" not in starter
        assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_one_replica_has_no_budget_and_apiimage_is_pulled_as_it_is() -> None:
    run = run_program(
        {
            **{k: v for k, v in KUBERNETES.items() if not k.startswith("imageRegistry")},
            "apiReplicas": 1,
            "apiImage": "registry.example.com/hive:1.0",
        }
    )
    assert not run.of_type(K8S + "policy/v1:PodDisruptionBudget"), "one pod: no budget to keep"
    assert not run.of_type("docker:index/registryImage:RegistryImage"), "apiImage is not pushed"
    assert not run.of_type("docker:index/remoteImage:RemoteImage"), "nor pulled on this machine"
    assert not run.of_type("pulumi:providers:docker"), "no push, no provider for it"
    assert not run.of_type(K8S + "batch/v1:Job"), "apiImage's command is not known: no first-start Job"
    pod = dict(reveal(run.named("hive-kubernetes-workspace-deployment").inputs))["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/hive:1.0"
    assert "imagePullSecrets" not in pod, "no login, no pull secret"


def test_a_registry_without_a_login_has_an_entry_with_auth_disabled() -> None:
    """The docker provider pushes only to a registry it has an entry for, and asks a loopback
    one for the digest over plain HTTP (the tier's registry is both)."""
    run = run_program({k: v for k, v in KUBERNETES.items() if k not in ("imageRegistryUser", "imageRegistryPassword")})
    (auth,) = json.loads(reveal(run.named("hive-kubernetes-image-provider").inputs["registryAuth"]))
    assert auth == {"address": "http://127.0.0.1:5055", "authDisabled": True}
    assert not run.of_type(K8S + "core/v1:Secret") or all(
        r.inputs["type"] != "kubernetes.io/dockerconfigjson" for r in run.of_type(K8S + "core/v1:Secret")
    ), "no login, no pull secret"


def test_the_outputs_keep_their_shapes_plus_the_namespace(cluster: ProgramRun) -> None:
    assert cluster.outputs["namespace"].value == "hive"
    assert cluster.outputs["apiUrls"].value == {
        mode: f"http://{service}.hive.svc.cluster.local:{port}"
        for (mode, service), port in zip(SERVICES.items(), (8886, 38886, 48886), strict=True)
    }, "each mode's in-cluster URL"
    assert "namespace" not in run_program(SECRETS).outputs, "a Docker stack's outputs stay as they were"


def test_a_terminating_pod_drains_before_it_stops(cluster: ProgramRun) -> None:
    """No failed request while pods change: the preStop hook keeps a terminating pod answering
    while it leaves the Service's endpoints, the grace period outlasts the hook, a new pod gets
    traffic only once ready, and a rollout never takes a pod away first."""
    spec = _deployment(cluster, "agent")["spec"]
    pod = spec["template"]["spec"]
    (api,) = pod["containers"]
    assert api["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "10"]}}}, "a 10 s drain on stop"
    assert pod["terminationGracePeriodSeconds"] == 60, "SIGTERM only after the hook, and time to finish after it"
    assert pod["terminationGracePeriodSeconds"] > 10 + 30, "the hook and the app's own shutdown fit in the grace"
    assert api["readinessProbe"]["httpGet"]["path"] == "/health", "readiness gates the traffic"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    starter = reveal(cluster.named("hive-kubernetes-agent-first-start").inputs)["spec"]["template"]["spec"]
    assert "lifecycle" not in starter["containers"][0] and "terminationGracePeriodSeconds" not in starter, (
        "the first start serves no one: its Job keeps the template it had, so an upgrade does not rerun it"
    )
