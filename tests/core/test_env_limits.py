"""What one container's environment can hold: each limit of ``env_limits``, at its edge."""

from __future__ import annotations

import pytest

from hive_infra.core import env_limits
from hive_infra.core.env_limits import MAX_ARG_STRLEN, USER_ENV_BUDGET, string_size, total_problem, value_problem


def test_a_string_counts_key_equals_value_and_its_nul_in_utf8_bytes() -> None:
    assert string_size("K", "v") == 4, "K=v and the NUL execve copies"
    assert string_size("K", "é") == 5, "é is two bytes of UTF-8"


def test_a_value_at_the_kernels_limit_passes_and_one_byte_more_is_refused() -> None:
    key = "BIG"
    fits = "x" * (MAX_ARG_STRLEN - len("BIG=") - 1)
    assert value_problem(key, fits) is None, "KEY=value and its NUL exactly MAX_ARG_STRLEN: execve takes it"
    problem = value_problem(key, fits + "x")
    assert problem is not None and "argument list too long" in problem and "BIG" in problem, (
        "one byte past MAX_ARG_STRLEN makes execve fail with E2BIG: refused, naming the key"
    )
    assert "xxxx" not in problem, "the message never quotes the value"


@pytest.mark.parametrize(("char", "named"), [("\0", "NUL"), ("\x1b", "U+001B"), ("\r", "U+000D"), ("\x7f", "U+007F")])
def test_nul_and_other_control_characters_are_refused(char: str, named: str) -> None:
    problem = value_problem("KEY", f"sk-secret{char}tail")
    assert problem is not None and named in problem and "KEY" in problem, (
        f"{named}: Docker refuses NUL, and a control character reaches the app garbled: refused, naming it"
    )
    assert "sk-secret" not in problem, "the message never quotes the value"


def test_tab_and_newline_are_values_like_any_other() -> None:
    assert value_problem("PEM", "-----BEGIN KEY-----\nabc\n-----END KEY-----") is None, "a multi-line value"
    assert value_problem("T", "a\tb") is None, "a tab"


def test_the_whole_environment_is_held_to_arg_max_less_the_margin() -> None:
    each = MAX_ARG_STRLEN // 2
    count = USER_ENV_BUDGET // (each + 8)
    values = {f"K{i:03}": "v" * (each - len(f"K{i:03}=") - 1) for i in range(count)}
    assert total_problem(values) is None, "just under the budget: the container starts"
    values["K999"] = "v" * (each - len("K999=") - 1)
    problem = total_problem(values)
    assert problem is not None and str(env_limits.ARG_MAX) in problem and "K" in problem, (
        "past the budget execve fails with E2BIG although every value alone fits: refused, naming the largest keys"
    )
    assert "vvvv" not in problem, "the message never quotes a value"
