"""Finding the external programs the commands run (pulumi, docker, pg_dump)."""

from __future__ import annotations

import os
import shutil


def find_executable(env_var: str, default: str) -> tuple[str, str | None]:
    """The program ``$env_var`` names (else ``default``) and its path on PATH, or None when absent."""
    name = os.environ.get(env_var) or default
    return name, shutil.which(name)
