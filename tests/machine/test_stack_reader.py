"""Reading a stack's outputs through the Pulumi CLI (a fake one on PATH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hive_infra.machine.stack_reader import PULUMI_ENV, StackOutputsError, read_stack_outputs
from tests.support.fake_pulumi import make_fake_pulumi

OUTPUTS = {
    "ports": {"workspace": {"db": 5532, "api": 8886}},
    "databases": {"workspace": "hive"},
    "databaseUrls": {"workspace": "postgresql+psycopg://hive:pw@localhost:5532/hive"},
}


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def install(**kwargs):  # type: ignore[no-untyped-def]
        fake = make_fake_pulumi(tmp_path / "bin", OUTPUTS, **kwargs)
        monkeypatch.setenv("PATH", f"{fake.path.parent}:/usr/bin:/bin")
        monkeypatch.delenv(PULUMI_ENV, raising=False)
        return fake

    return install


def test_reads_the_outputs_of_the_named_stack_with_secrets(on_path) -> None:  # type: ignore[no-untyped-def]
    fake = on_path()
    outputs = read_stack_outputs("prod", show_secrets=True)
    assert outputs.get("databaseUrls")["workspace"].startswith("postgresql+psycopg://"), "secrets shown when asked"
    assert outputs.modes == ["workspace"], "the modes are the deployed ones"
    (call,) = fake.calls
    assert call[:3] == ["stack", "output", "--json"] and "--show-secrets" in call, "asks the CLI for JSON"
    assert call[call.index("--stack") + 1] == "prod", "of the named stack"


def test_without_show_secrets_the_cli_masks_them(on_path) -> None:  # type: ignore[no-untyped-def]
    fake = on_path()
    outputs = read_stack_outputs()
    assert outputs.get("databaseUrls") == "[secret]", "secrets stay masked unless asked for"
    assert "--show-secrets" not in fake.calls[0] and "--stack" not in fake.calls[0], "the selected stack, masked"


def test_a_failing_cli_is_reported_with_its_own_last_line(on_path) -> None:  # type: ignore[no-untyped-def]
    on_path(exit_code=255, stderr="error: no stack selected; use `pulumi stack select`\n")
    with pytest.raises(StackOutputsError, match="no stack selected"):
        read_stack_outputs()


def test_a_missing_cli_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(PULUMI_ENV, raising=False)
    with pytest.raises(StackOutputsError, match=r"not on PATH; install it .* HIVE_PULUMI"):
        read_stack_outputs()


def test_an_output_this_version_does_not_know_is_named(on_path) -> None:  # type: ignore[no-untyped-def]
    on_path()
    with pytest.raises(StackOutputsError, match="no output 'apiUrls'"):
        read_stack_outputs().get("apiUrls")
    with pytest.raises(StackOutputsError, match="mode 'genie' is not deployed"):
        read_stack_outputs().mode_value("databases", "genie")
