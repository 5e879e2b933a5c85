"""The API image's build context (``hive_infra/image``), read: the digest its tag carries.

The tag (``core.api_image.image_build``) names what was built; its digest covers
the context's files, so that an edit of any of them is a new tag. Reading the
files is the machine's part, kept out of the pure core; the program and
``doctor`` call :func:`context_digest` while they run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The build context, to read.
CONTEXT = Path(__file__).resolve().parents[1] / "image"
#: Wheels the build installs from instead of an index, when the folder holds any.
WHEELS = "wheels"


def context_digest(version: str, base_image: str, context: Path = CONTEXT) -> str:
    """sha256 of the version, the base and the build context: every file's path and
    contents, wheels by name and size (their names carry their versions)."""
    digest = hashlib.sha256(f"version={version}\nbase={base_image}\n".encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        relative = path.relative_to(context).as_posix()
        if path.parent == context / WHEELS and path.suffix == ".whl":
            digest.update(f"wheel {relative} {path.stat().st_size}\n".encode())
        elif path.parent != context / WHEELS:
            digest.update(f"file {relative} {path.stat().st_size}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
