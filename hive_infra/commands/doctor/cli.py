"""``python -m hive_infra doctor``: its command line, and the order of the checks."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

from hive_infra.commands.contract import Command, Context
from hive_infra.commands.doctor import checks, cluster, images, own, probe
from hive_infra.commands.doctor.checks import FAIL, WARN, PulumiFacts, Verdict
from hive_infra.config import HiveConfig
from hive_infra.core.errors import ExitCode


@dataclass(frozen=True)
class DoctorOptions:
    stack: str | None = None


def _arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--stack", metavar="NAME", help="the stack to check (default: the selected one)")


def to_options(args: argparse.Namespace) -> DoctorOptions:
    return DoctorOptions(stack=args.stack)


def diagnose(stack: str | None, machine: Context) -> list[Verdict]:
    """Every check, in order; later ones are skipped (a ``warn``) when what they need is missing."""
    pulumi = probe.pulumi_facts(machine)
    verdicts = [checks.check_pulumi(pulumi)]
    name = probe.stack_name(machine, pulumi, stack)
    verdicts.append(checks.check_secrets(probe.secrets_facts(machine, name)))
    if pulumi.version is None:
        cfg = None
        verdicts.append(Verdict(WARN, "config", "not checked: it is read through the Pulumi CLI"))
    else:
        listing = probe.config_listing(machine, pulumi, stack)
        if isinstance(listing, str) and checks.is_missing_stack(listing) and name:
            verdicts.append(
                Verdict(
                    WARN,
                    f"stack {name}",
                    f"does not exist yet (`make up` creates it); checking Pulumi.yaml's defaults and "
                    f"Pulumi.{name}.yaml instead",
                )
            )
            listing = probe.file_config_listing(machine, name)
        cfg, config_verdicts = checks.check_config(listing, name)
        verdicts += config_verdicts

    containers = probe.containers(machine) if checks.needs_docker(cfg) else None
    verdicts.append(checks.check_docker(containers, cfg))
    if cfg is None:
        verdicts.append(Verdict(WARN, "ports and containers", "not checked: the configuration could not be read"))
    else:
        label = probe.stack_label(machine, name or "")
        listed = containers if isinstance(containers, list) else None
        if listed is not None:
            verdicts += checks.check_containers(listed, cfg, label)
            verdicts += own.check_own_containers(listed, cfg, label, probe.own_facts(machine, cfg, listed, label))
            verdicts += _image_verdicts(machine, cfg, pulumi, name or "")
        ports = probe.probe_ports(cfg.bind_address, checks.published_ports(cfg))
        verdicts += checks.check_ports(cfg, ports, listed, label)
        if cfg.kubernetes:
            facts = cluster.cluster_facts(cfg, machine.environ)
            if facts.cluster_error is None and facts.namespace_owner is None and name:
                # Missing: free for a new stack, or deleted by hand under a deployed one.
                held = probe.state_holds(machine, pulumi, name, cluster.NAMESPACE_TYPE)
                facts = replace(facts, namespace_in_state=held)
            verdicts += cluster.check_cluster(cfg, facts, str(probe.project(machine).get("name", "")), name or "")
    verdicts.append(checks.check_disk(probe.disk_facts(machine)))
    return verdicts


def _image_verdicts(machine: Context, cfg: HiveConfig, pulumi: PulumiFacts, stack: str) -> list[Verdict]:
    """Each image the stack runs or builds on: present, pullable, or a FAIL naming the fix."""
    wanted = images.stack_images(cfg)
    facts = probe.image_facts(machine, wanted.values())
    if all(f.present or f.pull_error is None for f in facts.values()):
        data = images.StackData(None, None)  # not asked: no fix depends on it
    else:
        data = probe.stack_data(machine, pulumi, stack, cfg.names.postgres_volume)
    return images.check_images(cfg, facts, data, stack, cfg.names.postgres_volume)


def run(options: DoctorOptions, context: Context) -> ExitCode:
    """Carry out ``doctor``."""
    out = context.stdout
    verdicts = diagnose(options.stack, context)
    for verdict in verdicts:
        print(verdict.line(), file=out)
    failed = sum(1 for v in verdicts if v.status == FAIL)
    if failed:
        print(
            f"doctor: {failed} check{'s' if failed != 1 else ''} failed; fix {'them' if failed != 1 else 'it'} "
            "before `pulumi up`",
            file=out,
        )
        return ExitCode.FAILED
    return ExitCode.OK


COMMAND = Command(
    name="doctor",
    summary="check that this machine is ready for `pulumi up` (Pulumi, passphrase, config, Docker, ports, disk)",
    description=(
        "Check the Pulumi CLI, the passphrase or backend, the stack's configuration, the Docker engine, "
        "containers and ports in the way, and the free disk space; one line per check, with a fix for "
        "each failure."
    ),
    exit_codes={ExitCode.OK: "when no check FAILs", ExitCode.FAILED: "otherwise"},
    options=to_options,
    run=run,
    arguments=_arguments,
)
