"""The built API image: its tag, its rebuild digest (``machine.image_context``), the default health path."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hive_infra.config.rules import IMAGE_REFERENCE
from hive_infra.core import api_image
from hive_infra.core.api_image import (
    DEFAULT_BASE_IMAGE,
    PINNED_APP_VERSION,
    default_health_path,
    image_build,
    image_repository,
)
from hive_infra.machine.image_context import CONTEXT, context_digest


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A copy of the real build context, to change."""
    copy = tmp_path / "image"
    shutil.copytree(CONTEXT, copy, ignore=shutil.ignore_patterns("*.whl"))
    return copy


def test_the_pinned_version_is_the_one_requirements_app_pins() -> None:
    pins = (CONTEXT / "requirements-app.txt").read_text()
    assert f"automagik-hive=={PINNED_APP_VERSION}\n" in pins, "apiVersion's default is the version the pins install"
    constraints = (CONTEXT / "constraints-app.txt").read_text()
    assert f"\nautomagik-hive=={PINNED_APP_VERSION}\n" in constraints, "and the constraints pin the same version"


def test_the_dockerfile_defaults_agree_with_the_config() -> None:
    dockerfile = (CONTEXT / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE={DEFAULT_BASE_IMAGE}\n" in dockerfile, "a plain docker build uses apiBaseImage's default"
    assert re.search(r"^USER hive$", dockerfile, re.M), "the app runs as the non-root user hive"
    assert dockerfile.rstrip().endswith('CMD ["hive", "serve"]'), "the container serves the project"
    assert "--no-index" in dockerfile and "wheels" in dockerfile, "wheels in the context are installed offline"
    assert (CONTEXT / "wheels" / "README.md").is_file(), "the wheels folder exists in a checkout (COPY needs it)"


def test_the_build_is_tagged_by_version_and_digest() -> None:
    build = image_build("1.0.0rc7", "python:3.11-slim", "ab" * 32)
    assert build.tag == "hive-infra/hive-api:1.0.0rc7-" + "ab" * 6, "a local repository, the version, 12 digits"
    assert IMAGE_REFERENCE.fullmatch(build.tag), "the tag is a valid image reference"
    assert build.context == "hive_infra/image", "the context is relative to the project folder"
    assert dict(build.build_args) == {"APP_VERSION": "1.0.0rc7", "BASE_IMAGE": "python:3.11-slim"}, (
        "the version and the base reach the Dockerfile's arguments"
    )


def test_the_digest_depends_on_what_the_context_holds_not_where(context: Path, tmp_path: Path) -> None:
    first = context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context)
    assert context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context) == first, "the same inputs, the same tag"
    elsewhere = shutil.copytree(context, tmp_path / "moved" / "image")
    assert context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, elsewhere) == first, (
        "a checkout moved elsewhere builds the same tag: nothing to replace"
    )


def test_every_input_changes_the_digest(context: Path) -> None:
    base = context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context)
    assert context_digest("1.0.0", DEFAULT_BASE_IMAGE, context) != base, "another app version is another image"
    assert context_digest("1.0.0rc7", "python:3.12-slim", context) != base, "another base is another image"
    (context / "Dockerfile").write_text((context / "Dockerfile").read_text() + "# changed\n")
    edited = context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context)
    assert edited != base, "an edited Dockerfile is rebuilt"
    (context / "wheels" / "agno-3.1.10-py3-none-any.whl").write_bytes(b"x" * 10)
    with_wheel = context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context)
    assert with_wheel != edited, "a wheel added to the context is rebuilt from"
    (context / "wheels" / "agno-3.1.10-py3-none-any.whl").write_bytes(b"y" * 10)
    assert context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context) == with_wheel, (
        "a wheel counts by name and size (its name carries its version): not read on every preview"
    )
    (context / "wheels" / "README.md").write_text("other words\n")
    assert context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context) == with_wheel, "the wheels README is not built"
    (context / "__pycache__").mkdir()
    (context / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert context_digest("1.0.0rc7", DEFAULT_BASE_IMAGE, context) == with_wheel, "caches are not inputs"


@pytest.mark.parametrize(
    ("image", "path"),
    [
        (None, "/health"),
        ("ghcr.io/namastexlabs/automagik-hive:latest", "/api/v1/health"),
        ("ghcr.io/namastexlabs/automagik-hive", "/api/v1/health"),
        ("ghcr.io/namastexlabs/automagik-hive@sha256:" + "a" * 64, "/api/v1/health"),
        ("ghcr.io/namastexlabs/automagik-hive-other:1", "/health"),
        ("localhost:5000/namastexlabs/automagik-hive:1", "/health"),
        ("my/hive:1.0.0", "/health"),
    ],
)
def test_the_default_health_path_follows_the_image(image: str | None, path: str) -> None:
    assert default_health_path(image) == path, f"{image}: the 0.x repository keeps /api/v1/health, others /health"


@given(
    repo=st.from_regex(r"(localhost:5000/)?[a-z0-9]+(/[a-z0-9]+){0,2}", fullmatch=True),
    tag=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
    digest=st.one_of(st.none(), st.just("sha256:" + "b" * 64)),
)
def test_image_repository_drops_tag_and_digest(repo: str, tag: str | None, digest: str | None) -> None:
    reference = repo + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    assert image_repository(reference) == repo, f"{reference}: a registry's port is not a tag"


def test_the_repository_is_local() -> None:
    assert "." not in api_image.REPOSITORY.split("/")[0], "no registry host: the built image is never pushed or pulled"
