"""The project image: a user's hive project (``apiProjectDir``) baked into a layer over the
app image, for a cluster, whose pods cannot bind-mount a folder of this machine.

What goes in: every file of the project folder but what must not reach a registry or
belongs to the pod: ``.env*`` at any depth (keys), ``.git/`` at any depth (a remote's
URL can hold a token), the top-level ``data/`` and ``logs/`` (each pod's own folders),
the top-level ``.venv/`` (this machine's interpreter), ``__pycache__/`` and ``*.pyc``
(written whenever the project runs here: counted, they would roll the pods for
nothing). The layer replaces the app image's own project in ``/app``, owned by the
app's user (uid 1000).

The staged build context is named by a digest of its content (``machine.project_image``)
and the tag by the digest of that and the app image it goes on, so an unchanged project
is the same tag (nothing to build, push or roll) and any change of either is a new one.
Pure: the files are read, copied and hashed by ``machine.project_image``.
"""

from __future__ import annotations

import hashlib

#: The local repository of the built project images, and the one they are pushed to under ``imageRegistry``.
REPOSITORY = "hive-infra/hive-project"
#: Where the staged build contexts live, relative to the Pulumi project folder (the program's working
#: folder): the same input on every machine and checkout, so the provider sees no change for the same project.
STAGING_DIR = ".hive-build/project-images"
#: The staged context's folder holding the project's files, beside ``Dockerfile``.
PROJECT_FOLDER = "project"
#: The build argument naming the image the layer goes on.
BASE_ARG = "APP_IMAGE"
#: Names left out wherever they are; ``.env`` files by prefix (``.env``, ``.env.agent``, ``.env.local``).
EXCLUDED_ANYWHERE = frozenset({".git", "__pycache__"})
EXCLUDED_PREFIX = ".env"
EXCLUDED_SUFFIX = ".pyc"
#: Top-level folders left out: the pod's own data and logs, and a virtual environment of this machine.
EXCLUDED_TOP = frozenset({"data", "logs", ".venv"})

#: The layer: the app image's project removed (its ``data/`` and ``logs/`` kept as the mount points of
#: the pod's folders), the user's copied in as uid 1000, which the pods run as. ``find`` and ``sh`` are in
#: every Debian-based image (``apiImage`` must be one).
DOCKERFILE = f"""\
# The project layer (hive-infra, docs/kubernetes.md: The project image): the user's hive
# project over the app image's own, without .env*, .git/, data/, logs/ or .venv/.
ARG {BASE_ARG}
FROM ${{{BASE_ARG}}}
USER 0
RUN mkdir -p /app/data /app/logs \\
    && find /app -mindepth 1 -maxdepth 1 ! -name data ! -name logs -exec rm -rf {{}} + \\
    && chown 1000:1000 /app /app/data /app/logs
COPY --chown=1000:1000 {PROJECT_FOLDER}/ /app/
USER 1000
WORKDIR /app
"""


def excluded(parts: tuple[str, ...], is_dir: bool) -> bool:
    """Whether the path ``parts`` (relative to the project folder) stays out of the image."""
    name = parts[-1]
    if name in EXCLUDED_ANYWHERE or name.startswith(EXCLUDED_PREFIX):
        return True
    if len(parts) == 1 and is_dir and name in EXCLUDED_TOP:
        return True
    return not is_dir and name.endswith(EXCLUDED_SUFFIX)


def project_tag(base_image: str, context_digest: str) -> str:
    """The project image's tag: ``hive-infra/hive-project:<digest>`` of the app image it goes on
    (its tag; the stack also rebuilds when that tag's image id changes) and the staged context."""
    digest = hashlib.sha256(f"base={base_image}\ncontext={context_digest}\n".encode()).hexdigest()
    return f"{REPOSITORY}:{digest[:16]}"
