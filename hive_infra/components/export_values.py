"""The shapes of the stack's outputs: pure functions of plain values.

``HiveStack`` calls these inside ``Output.apply`` (or with plain values where
nothing is secret or unknown), so every output's shape is tested without Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from hive_infra.config import HiveConfig
from hive_infra.core.modes import Mode
from hive_infra.core.names import local_host_for
from hive_infra.core.placement import Placement
from hive_infra.core.platform import in_cluster_url
from hive_infra.core.rendering import EnvEntries, env_file_path, env_text, url_host


def postgres_summary(cfg: HiveConfig, host: str, container: str | None) -> dict[str, Any]:
    """``{mode, isolation, container, host, port, database, user, sslmode}``:
    where the server is (no secret); ``database`` is the base name (see
    ``databases``), ``sslmode`` the one the stack connects with (the URLs carry
    it in external mode only)."""
    return {
        "mode": cfg.postgres_mode,
        "isolation": cfg.isolation,
        "container": container,
        "host": host,
        "port": cfg.db_port,
        "database": cfg.database,
        "user": cfg.db_user,
        "sslmode": cfg.effective_ssl_mode,
    }


def api_urls(cfg: HiveConfig) -> dict[str, str]:
    """``{mode: http://host:port}``: where a program on this machine reaches each
    mode's API (``localhost`` for a loopback or wildcard ``bindAddress``); on Kubernetes,
    where a pod of the cluster reaches its Service."""
    if cfg.kubernetes:
        names = cfg.kube_names
        return {m.name: in_cluster_url(names.service(m), names.namespace, cfg.ports(m).api) for m in cfg.mode_table}
    host = url_host(local_host_for(cfg.bind_address))
    return {m.name: f"http://{host}:{cfg.ports(m).api}" for m in cfg.mode_table}


def env_file_paths(cfg: HiveConfig) -> dict[str, str]:
    """``{mode: path}``: each mode's .env file (``envDir`` joined with its name)."""
    return {m.name: env_file_path(cfg.env_dir, m) for m in cfg.mode_table}


def ports(cfg: HiveConfig) -> dict[str, dict[str, int]]:
    """``{mode: {db, api}}``."""
    return {m.name: asdict(cfg.ports(m)) for m in cfg.mode_table}


def schemas(modes: Sequence[Mode]) -> dict[str, str]:
    """``{mode: schema}``."""
    return {m.name: m.schema for m in modes}


def databases(placements: Sequence[Placement]) -> dict[str, str]:
    """``{mode: database}``."""
    return {p.mode.name: p.database for p in placements}


def entry_of(entries: Mapping[str, EnvEntries], key: str) -> dict[str, str]:
    """``{mode: value}`` of one .env key (``HIVE_DATABASE_URL``, ``HIVE_API_KEY``)."""
    return {mode: e.as_dict()[key] for mode, e in entries.items()}


def env_files(
    modes: Sequence[Mode], entries: Mapping[str, EnvEntries], env_dir: str, header: str
) -> dict[str, dict[str, str]]:
    """``{mode: {path, content}}``: each mode's .env file as the stack would write it new."""
    return {m.name: {"path": env_file_path(env_dir, m), "content": env_text(entries[m.name], header)} for m in modes}
