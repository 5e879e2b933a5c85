"""A legacy install's PostgreSQL data folder, as ``--data-dir`` names it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hive_infra.core.errors import CommandError
from hive_infra.core.names import PG_VERSION_FILE, PGDATA_SUBDIR


@dataclass(frozen=True)
class DataDir:
    """A legacy PostgreSQL data directory: ``mount`` is what ``dataPath`` names."""

    mount: Path
    pgdata: Path
    version: str

    @property
    def legacy_layout(self) -> bool:
        return self.pgdata == self.mount / PGDATA_SUBDIR


def check_data_dir(raw: str) -> DataDir:
    """Resolve ``raw`` and check it holds a PostgreSQL cluster.

    Accepts the legacy bind mount (``./data/postgres``, cluster in ``pgdata/``),
    or the cluster folder itself; a cluster folder named ``pgdata`` is taken as
    the legacy layout and its parent becomes ``dataPath``.
    """
    path = Path(raw).expanduser().resolve()
    label = f"--data-dir {path}"
    if not path.exists():
        raise CommandError(f"{label}: no such directory")
    if not path.is_dir():
        raise CommandError(f"{label}: is not a directory")
    try:
        for pgdata in (path / PGDATA_SUBDIR, path):
            marker = pgdata / PG_VERSION_FILE
            if marker.is_file():
                version = marker.read_text(encoding="ascii", errors="replace").strip()
                if pgdata == path and path.name == PGDATA_SUBDIR:
                    return DataDir(mount=path.parent, pgdata=path, version=version)
                return DataDir(mount=path, pgdata=pgdata, version=version)
    except PermissionError:
        raise CommandError(
            f"{label}: cannot be read by this user (the container's postgres user owns it); "
            "run adopt with the rights to read it, e.g. sudo"
        ) from None
    raise CommandError(
        f"{label}: does not look like a PostgreSQL data directory: there is no {PG_VERSION_FILE} "
        f"in it nor in {PGDATA_SUBDIR}/ (the legacy install kept it in ./data/postgres/{PGDATA_SUBDIR})"
    )


def image_major(image: str) -> str | None:
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    digits = ""
    for ch in tag:
        if not ch.isdigit():
            break
        digits += ch
    return digits or None
