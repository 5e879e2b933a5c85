"""platform=kubernetes under the mocks: what the program declares on a cluster, and that
platform=docker declares exactly what a stack without the key does (the state proof's
mock half; the engine tier's test_state_upgrade previews an old state with no change)."""

from __future__ import annotations

from typing import Any

import pytest

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
