"""What ``adopt`` prints: the summary and warnings (stderr) and the config lines (stdout)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from hive_infra.commands.adopt.settings import Setting
from hive_infra.config import KEYS_BY_NAME, NAMESPACE
from hive_infra.core.modes import MODES
from hive_infra.core.names import DATA_MOUNT, LEGACY_NAMES, PG_VERSION_FILE, PGDATA, PGDATA_SUBDIR
from hive_infra.legacy.data_dir import DataDir, image_major
from hive_infra.legacy.env_files import Adoption


def config_set_line(
    setting: Setting,
    stack: str | None,
    show_secrets: bool,
    secret_source: Sequence[str],
) -> str:
    """One shell line that sets ``setting``; a secret comes through a pipe unless shown."""
    cmd = ["pulumi", "config", "set"]
    if stack:
        cmd += ["--stack", stack]
    if setting.secret:
        cmd.append("--secret")
    cmd.append(f"{NAMESPACE}:{setting.key}")
    if setting.secret and not show_secrets:
        producer = [*secret_source, "--print-secret", setting.key]
        return f"{shlex.join(producer)} | {shlex.join(cmd)}"
    if setting.value.startswith("-"):
        cmd.append("--")  # keep a value such as '-abc' from reading as a flag
    cmd.append(setting.value)
    return shlex.join(cmd)


def summary_lines(
    adoption: Adoption, settings: Sequence[Setting], data_dir: DataDir | None, postgres_image: str
) -> list[str]:
    """What was found (secrets only as lengths), then every warning."""
    by_key = {s.key: s for s in settings}
    lines = ["adopt: found in " + ", ".join(f.label for f in adoption.files) + ":"]
    if "dbUser" in by_key:
        lines.append(f"  database user     {by_key['dbUser'].value}  ({by_key['dbUser'].origin})")
    elif "dbPassword" in by_key:
        # A legacy user the new database cannot take (see the warning): the default user, the old password.
        lines.append(
            f"  database user     {KEYS_BY_NAME['dbUser'].default}  (the default; the legacy user is not kept)"
        )
    if "dbPassword" in by_key:
        password = by_key["dbPassword"]
        lines.append(f"  database password {len(password.value)} characters  ({password.origin})")
    else:
        lines.append("  database user/password: none (the stack will generate them)")
    if "database" in by_key:
        lines.append(f"  database          {by_key['database'].value}  ({by_key['database'].origin})")
    if adoption.port is not None:
        lines.append(f"  database port     {adoption.port.value}  ({adoption.port.where})")
    if "apiKeyBase" in by_key:
        base = by_key["apiKeyBase"]
        lines.append(f"  API key base      {len(base.value)} characters  ({base.origin})")
    else:
        lines.append("  API key base: none (the stack will generate one; clients need the new keys)")
    if data_dir is None:
        lines.append(
            "  data: not adopted (no --data-dir): `pulumi up` starts an EMPTY database with these "
            "credentials; pass --data-dir ./data/postgres to keep the legacy data"
        )
    else:
        layout = (
            f"legacy layout, cluster in {PGDATA_SUBDIR}/"
            if data_dir.legacy_layout
            else "cluster directly in the folder"
        )
        lines.append(f"  data directory    {data_dir.mount}  (PostgreSQL {data_dir.version}, {layout})")
    lines += [f"warning: {w}" for w in adoption.warnings]
    if data_dir is not None:
        user = by_key["dbUser"].value if "dbUser" in by_key else "<user>"
        lines += [f"warning: {w}" for w in data_dir_warnings(data_dir, user, postgres_image)]
    return lines


def data_dir_warnings(data_dir: DataDir, user: str, postgres_image: str) -> list[str]:
    """What a user must know before the stack starts on a legacy data folder."""
    legacy_servers = ", ".join(LEGACY_NAMES.legacy_postgres_container(m) for m in MODES.values())
    warnings = [
        (
            f"the legacy container was initialised with POSTGRES_USER={user}, so {user!r} is the "
            f"superuser of this data directory and it has no 'postgres' role: the stack must connect as "
            f"{NAMESPACE}:adminUser={user} with the same password (set below), and {user!r} stays "
            "both the admin and the application role (it owns the legacy tables)"
        ),
        (
            f"stop the legacy PostgreSQL container ({legacy_servers}) before "
            "`pulumi up`; two servers must never run on one data directory. Back the folder up first."
        ),
    ]
    if not data_dir.legacy_layout:
        warnings.append(
            f"{PG_VERSION_FILE} sits directly in {data_dir.mount}; the legacy layout mounts the "
            f"folder at {DATA_MOUNT} with PGDATA={PGDATA}: check "
            "that the stack uses this folder as PGDATA itself, or it will initialise a new, empty cluster"
        )
    if (data_dir.pgdata / "postmaster.pid").exists():
        warnings.append(
            "postmaster.pid exists in the data directory: a server is running on it or was not "
            "shut down cleanly; stop the legacy container (docker stop) before `pulumi up`"
        )
    major = image_major(postgres_image)
    if major is not None and data_dir.version.split(".")[0] != major:
        warnings.append(
            f"the data directory is PostgreSQL {data_dir.version} but {NAMESPACE}:postgresImage "
            f"is {postgres_image} (PostgreSQL {major}); PostgreSQL only starts a data directory of its "
            "own major version: set a matching image or pg_upgrade first"
        )
    return warnings
