"""Parsing fixtures with the stand-in headers; the macro index."""

from pathlib import Path

import pytest

from analyzer.errors import InputError
from analyzer.frontend.parse import parse_file
from tests.conftest import FIXTURE_ARGS, FIXTURES

FIXTURE_FILES = sorted(FIXTURES.glob("*.c"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_parses_without_errors(path):
    parsed = parse_file(path, FIXTURE_ARGS)
    assert parsed.errors == []
    assert parsed.functions, "every fixture defines functions"


def test_functions_and_macro_index():
    parsed = parse_file(FIXTURES / "shapes.c", FIXTURE_ARGS)
    names = [f.name for f in parsed.functions]
    assert names[:2] == ["shape_goto_ladder", "shape_switch"]
    assert "shape_guards" in names
    assert all(f.is_static for f in parsed.functions)
    derefs = parsed.macros.by_name("rcu_dereference")
    assert [u.arguments() for u in derefs] == [["head->next"], ["head->next"]]
    use = derefs[0]
    assert parsed.macros.at(use.start, "rcu_dereference") is use
    assert parsed.macros.at(use.start, "kmalloc") is None
    kmallocs = parsed.macros.by_name("kmalloc")
    assert kmallocs[0].arguments() == ["16", "GFP_KERNEL"]
    guard = parsed.function("shape_guards")
    inside = parsed.macros.within(guard.cursor.extent.start.offset, guard.cursor.extent.end.offset)
    assert {u.name for u in inside} >= {"scoped_guard", "rcu_dereference", "guard"}


def test_only_main_file_functions_are_listed():
    parsed = parse_file(FIXTURES / "shapes.c", FIXTURE_ARGS)
    # static inlines from the stand-in headers (rcu_read_lock, ...) are not the file's own
    assert parsed.function("rcu_read_lock") is None


def test_binary_file_rejected(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_bytes(b"\x7fELF\x00\x01\x02")
    with pytest.raises(InputError, match="not C source"):
        parse_file(bad, FIXTURE_ARGS)


def test_broken_c_reports_errors(tmp_path):
    bad = tmp_path / "broken.c"
    bad.write_text("int f(void) { return ; \n")
    parsed = parse_file(Path(bad), FIXTURE_ARGS)
    assert parsed.errors
    assert parsed.errors[0].line >= 1
