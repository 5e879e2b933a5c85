"""The API image the stack builds when ``apiImage`` is unset.

Its build context is ``hive_infra/image`` (the Dockerfile, the app's pins and the
script that scaffolds the image's own hive project). The tag names what was
built: ``hive-infra/hive-api:<apiVersion>-<digest>``, the digest covering the
context's files, the base image and the version, so that a change of any of them
is a new tag, which replaces the image resource and, through its id, the API
containers, and nothing else. The built image stays local (never pushed, kept
by a destroy so that a second stack on the machine does not lose it).

Pure: the digest of the context's files is ``machine.image_context``'s, read
while the program runs.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The app version the pins (``image/requirements-app.txt``) and every tier test;
#: ``apiVersion``'s default. A test checks the two agree.
PINNED_APP_VERSION = "1.0.0rc7"
#: ``apiBaseImage``'s default: the Python the pins are made for.
DEFAULT_BASE_IMAGE = "python:3.11-slim"
#: The build context as the provider gets it: relative to the project folder (where
#: Pulumi runs the program), so that a checkout moved elsewhere changes nothing.
CONTEXT_INPUT = "hive_infra/image"
REPOSITORY = "hive-infra/hive-api"
#: The 0.x application's image repository (the old default apiImage), whose API
#: answers ``/api/v1/health`` rather than ``/health``.
LEGACY_REPOSITORY = "ghcr.io/namastexlabs/automagik-hive"
CURRENT_HEALTH_PATH = "/health"
LEGACY_HEALTH_PATH = "/api/v1/health"


@dataclass(frozen=True)
class ImageBuild:
    """What the stack hands the docker provider to build the image."""

    tag: str
    context: str
    build_args: tuple[tuple[str, str], ...]


def default_health_path(api_image: str | None) -> str:
    """The healthcheck path when ``apiHealthPath`` is unset: the 0.x image's
    ``/api/v1/health`` for an image of its repository (a stack that set it keeps
    its probe), the current app's ``/health`` for the built image and any other."""
    if api_image is not None and image_repository(api_image) == LEGACY_REPOSITORY:
        return LEGACY_HEALTH_PATH
    return CURRENT_HEALTH_PATH


def image_repository(reference: str) -> str:
    """``reference`` without its tag or digest (a registry port is kept)."""
    name = reference.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def image_build(version: str, base_image: str, digest: str) -> ImageBuild:
    """The build of app ``version`` on ``base_image``; ``digest`` is ``machine.image_context.context_digest``'s."""
    return ImageBuild(
        tag=f"{REPOSITORY}:{version}-{digest[:12]}",
        context=CONTEXT_INPUT,
        build_args=(("APP_VERSION", version), ("BASE_IMAGE", base_image)),
    )
