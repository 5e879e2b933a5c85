"""One command contract: every handler takes ``(args, context)``, returns an exit code
of ``ExitCode``, and what stops it is a ``CommandError``."""

from __future__ import annotations

import inspect
import io
import re

import pytest

from hive_infra.__main__ import COMMANDS, main
from hive_infra.commands.contract import Context
from hive_infra.core.errors import CommandError, ExitCode


def test_the_exit_codes_are_declared_once_with_their_documented_values() -> None:
    assert {c.name: c.value for c in ExitCode} == {"OK": 0, "FAILED": 1, "REFUSED": 2, "NOTHING": 3}, (
        "the values every command's help documents"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_handler_takes_the_arguments_and_one_context(command) -> None:
    parameters = list(inspect.signature(command.handler).parameters)
    assert parameters == ["args", "context"], f"{command.name}: handler(args, context), nothing injected by keyword"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_documented_exit_code_is_one_of_exit_code(command) -> None:
    codes = {int(code) for code in re.findall(r"\b(\d+)\b", command.exit_codes)}
    assert codes and codes <= {int(c) for c in ExitCode}, f"{command.name}: {command.exit_codes!r}"


def test_a_command_error_keeps_every_problem_and_its_code() -> None:
    error = CommandError(["first: do this", "second: do that"], ExitCode.NOTHING)
    assert error.problems == ["first: do this", "second: do that"] and error.code is ExitCode.NOTHING, "as given"
    assert str(error) == "first: do this; second: do that", "one line for a log or a provider's error"
    assert CommandError("one").code is ExitCode.REFUSED, "refused before acting, unless said otherwise"


def test_main_writes_to_the_context_it_is_given() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["status", "workspace", "-o", "env"], Context(out, err))
    assert code == ExitCode.REFUSED, "-o env without --show-secrets is refused as bad usage"
    assert "needs --show-secrets" in err.getvalue() and out.getvalue() == "", "the refusal goes to the context's stderr"
