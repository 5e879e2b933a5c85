"""One command contract: every command declares one ``COMMAND`` with its handler ``run(options,
context)``, its typed options made from the arguments in one place, and its exit codes, written
once and rendered into its epilog and the README; what stops it is a ``CommandError``, which
``python -m hive_infra`` alone prints."""

from __future__ import annotations

import dataclasses
import inspect
import io
import re
import sys
import types
import typing
from typing import Any

import pytest

from hive_infra.__main__ import main
from hive_infra.commands import catalog
from hive_infra.commands.catalog import COMMANDS
from hive_infra.commands.contract import Command, Context
from hive_infra.core.errors import CommandError, ExitCode
from tests.support.program import PROJECT_DIR


def test_the_exit_codes_are_declared_once_with_their_documented_values() -> None:
    assert {c.name: c.value for c in ExitCode} == {"OK": 0, "FAILED": 1, "REFUSED": 2, "NOTHING": 3}, (
        "the values every command's help documents"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_has_the_same_shape(command: Command[Any]) -> None:
    assert command.run.__name__ == "run", f"{command.name}: the handler is `run` in every command"
    assert list(inspect.signature(command.run).parameters) == ["options", "context"], (
        f"{command.name}: run(options, context), nothing injected by keyword"
    )
    assert command.options.__name__ == "to_options", f"{command.name}: the options are made in `to_options`"
    declared = sys.modules[command.options.__module__]
    assert getattr(declared, "COMMAND", None) is command, f"{command.name}: its module declares it as `COMMAND`"
    hints = typing.get_type_hints(command.options, vars(declared))
    made = hints["return"]
    kinds = typing.get_args(made) if isinstance(made, types.UnionType) else (made,)
    for kind in kinds:
        assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen, (  # type: ignore[attr-defined]
            f"{command.name}: its options ({kind}) are a frozen dataclass"
        )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_declares_success_and_its_epilog_renders_its_table(command: Command[Any]) -> None:
    assert ExitCode.OK in command.exit_codes, f"{command.name}: what 0 means"
    for code, meaning in command.exit_codes.items():
        assert f"{int(code)} {meaning}" in command.epilog, f"{command.name}: {code.name} is in its --help"


def test_the_readmes_command_table_is_the_declarations() -> None:
    readme = catalog.README.read_text()
    assert catalog.with_readme_table(readme) == readme, (
        "README's command table differs from the commands' declarations: run `make docs`"
    )
    for command in COMMANDS:
        assert command.epilog.removeprefix("Exit status: ").removesuffix(".") in readme, command.name


def test_no_page_writes_exit_codes_outside_the_generated_table() -> None:
    pages = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        if page == catalog.README:
            head, _, rest = text.partition(catalog.TABLE_BEGIN)
            text = head + rest.partition(catalog.TABLE_END)[2]
        found = re.findall(r"[Ee]xit (?:status|codes?):? \d.*", text)
        assert not found, f"{page.name} writes exit codes again (point at README: Commands): {found}"


def test_a_command_error_keeps_every_problem_and_its_code() -> None:
    error = CommandError(["first: do this", "second: do that"], ExitCode.NOTHING)
    assert error.problems == ["first: do this", "second: do that"] and error.code is ExitCode.NOTHING, "as given"
    assert str(error) == "first: do this; second: do that", "one line for a log or a provider's error"
    assert CommandError("one").code is ExitCode.REFUSED, "refused before acting, unless said otherwise"
    assert CommandError("one").unchanged and not CommandError("one", ExitCode.FAILED).unchanged, (
        "a refusal changed nothing; a failure may have, unless its raiser says otherwise"
    )
    assert CommandError("one", ExitCode.FAILED, unchanged=True).unchanged, "as the raiser says"


def test_main_writes_to_the_context_it_is_given() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["status", "workspace", "-o", "env"], Context(out, err))
    assert code == ExitCode.REFUSED, "-o env without --show-secrets is refused as bad usage"
    assert "needs --show-secrets" in err.getvalue() and out.getvalue() == "", "the refusal goes to the context's stderr"


def _raising(error: CommandError, changes: bool) -> Command[None]:
    def run(options: None, context: Context) -> int:
        raise error

    return Command("x", "x", "x", {ExitCode.OK: "done"}, options=lambda args: None, run=run, changes=changes)


@pytest.mark.parametrize(
    ("error", "changes", "printed"),
    [
        (CommandError(["one", "two"]), True, "x y: error: one\nx y: error: two\nx y: nothing was changed\n"),
        (CommandError("one", ExitCode.FAILED), True, "x y: error: one\n"),
        (CommandError("one", ExitCode.FAILED, unchanged=True), True, "x y: error: one\nx y: nothing was changed\n"),
        (CommandError("none here", ExitCode.NOTHING), True, "x y: none here\nx y: nothing was changed\n"),
        (CommandError("one"), False, "x y: error: one\n"),
    ],
)
def test_an_error_is_printed_one_problem_a_line(error: CommandError, changes: bool, printed: str) -> None:
    err = io.StringIO()
    _raising(error, changes).report(error, "x y", err)
    assert err.getvalue() == printed, "each problem on its line; 'nothing was changed' where it holds and matters"


def test_main_prints_the_error_once_and_exits_with_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import hive_infra.__main__ as cli

    command = _raising(CommandError("no way", ExitCode.NOTHING), changes=False)
    monkeypatch.setattr(cli, "COMMANDS", (command,))
    out, err = io.StringIO(), io.StringIO()
    assert main(["x"], Context(out, err)) == ExitCode.NOTHING, "the error's code"
    assert (out.getvalue(), err.getvalue()) == ("", "x: no way\n"), "on stderr, with the command's name"
