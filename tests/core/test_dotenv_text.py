"""dotenv_text.merge: which lines the stack added, and which it found (the user's)."""

from __future__ import annotations

import io

import pytest
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hive_infra.core.dotenv_text import DotenvSyntaxError, merge, parse

SECRET = "s3cr3t-Pa55w0rd"


def keys_of(text: str) -> dict:
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def test_a_key_already_in_the_text_is_found_whatever_its_value():
    text = f"POSTGRES_PASSWORD={SECRET}\nHIVE_API_KEY=old\nBARE\n"
    owned = [["POSTGRES_PASSWORD", SECRET], ["HIVE_API_KEY", "new"], ["BARE", "v"], ["ADDED", "a"]]
    result = merge(text, owned, [], {})
    assert result.found == ["POSTGRES_PASSWORD", "HIVE_API_KEY", "BARE"], (
        "a line that was there before the stack took the key is the user's, whatever value it held"
    )
    assert set(result.written) == {"POSTGRES_PASSWORD", "HIVE_API_KEY", "BARE", "ADDED"}, "all are the stack's keys"


def test_a_seeded_default_is_never_found_and_a_users_default_is_not_taken():
    result = merge("HIVE_LOG_LEVEL=DEBUG\n", [], [["HIVE_LOG_LEVEL", "INFO"], ["SEEDED", "1"]], {})
    assert result.found == [], "the stack took no line of the user's"
    assert result.written == {"SEEDED": "1"}, "only the seeded default is the stack's"


def test_found_follows_the_line():
    first = merge("A=1\n", [["A", "1"]], [], {})
    assert first.found == ["A"], "found on the first merge"
    kept = merge("A=2\n", [["A", "3"]], [], first.written, old_found=first.found)
    assert kept.found == ["A"], "the user's line stays the user's when the stack sets another value in it"
    gone = merge("", [["A", "3"]], [], kept.written, old_found=kept.found)
    assert gone.found == [], "a line the stack appends again, after the user removed it, is the stack's"
    ours = merge(gone.text, [["A", "4"]], [], gone.written, old_found=gone.found)
    assert ours.found == [], "and stays the stack's"


def test_without_a_found_record_every_written_key_is_the_stacks():
    first = merge("A=1\n", [["A", "1"]], [], {})
    removed = merge(first.text, [], [], first.written)  # no old_found: state from before the record
    assert removed.text == "", "as before the record existed, a written key holding its value is removed"
    kept = merge(first.text, [], [], first.written, old_found=first.found)
    assert kept.text == "A=1\n" and kept.left_keys == [], "with the record, the user's line is left, silently"


_KEYS = st.sampled_from(["USER_A", "USER_B", "POSTGRES_PASSWORD", "HIVE_API_KEY", "HIVE_LOG_LEVEL"])
_VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("'\"#\\ ="), max_size=8)
_LINES = st.one_of(
    st.just(""),
    _VALUES.map(lambda s: "#" + s),
    st.tuples(_KEYS, _VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.tuples(_KEYS, _VALUES).map(lambda kv: f"export {kv[0]}='{kv[1]}'"),
    st.tuples(_KEYS, _VALUES).map(lambda kv: f'  {kv[0]} = "{kv[1]}"  # note'),
    _KEYS,
)
_TEXTS = st.tuples(st.lists(_LINES, max_size=8), st.sampled_from(["\n", "\r\n"]), st.booleans()).map(
    lambda t: t[1].join(t[0]) + (t[1] if t[2] else "")
)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from([SECRET, "other"]))
def test_destroy_after_create_leaves_exactly_the_users_keys(text, password):
    assume(not any(b.error for b in parse_stream(io.StringIO(text))))
    owned = [["POSTGRES_PASSWORD", password], ["HIVE_API_KEY", "k"], ["NEW_KEY", "n"]]
    defaults = [["HIVE_LOG_LEVEL", "INFO"], ["SEEDED", "1"]]
    created = merge(text, owned, defaults, {})
    destroyed = merge(created.text, [], [], created.written, old_found=created.found)
    before, after = keys_of(text), keys_of(destroyed.text)
    assert set(after) == set(before), "destroy removes every line the stack added and no line the user had"
    for key, value in before.items():
        expected = dict(owned).get(key, value)  # a user's line of an owned key holds the stack's value
        assert after[key] == expected, f"{key}: the user's line keeps its value (the stack's, if it owned the key)"
    assert destroyed.left_keys == [], "nothing was changed by hand in between: nothing to warn about"


def test_a_refused_statement_is_named_by_its_own_line_not_the_blank_lines_before_it():
    with pytest.raises(DotenvSyntaxError, match="at line 4;") as info:
        parse("A=1\n\n\n'unclosed\n", "f")
    assert "line 2" not in str(info.value), "python-dotenv's own count starts at the blank line after A=1"
