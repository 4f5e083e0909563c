"""Registered exceptions: each silences the fixture case it names and no more, and the
switches turn it off."""

from __future__ import annotations

import pytest

from analyzer.driver.phase1 import Job
from analyzer.engine.run import Budget
from checkers import exception_registry
from tests.conftest import FIXTURE_ARGS, FIXTURES, run_cli
from tests.fixture_check import session

REGISTRY = exception_registry()


def _findings(path, rule: str, disabled=frozenset()):
    s = session()
    s.budget = Budget(disabled=frozenset(disabled))
    res = s.run([Job(str(path), tuple(FIXTURE_ARGS), str(path))])
    assert not res.failed, [u.why_not for u in res.failed]
    return {f.function for f in res.findings if f.rule == rule and f.level != "note"}


def _where(ref: str):
    file, _, function = ref.partition(":")
    return FIXTURES / file, function


def test_every_exception_names_its_rule_and_a_fixture_pair():
    assert REGISTRY
    for exc in REGISTRY.values():
        assert exc.id.startswith(exc.rule + ".") and exc.why and exc.summary
        for ref in (exc.silences, exc.must_report):
            path, function = _where(ref)
            assert path.is_file(), ref
            assert f"{function}(" in path.read_text(), ref


@pytest.mark.parametrize("exc_id", sorted(REGISTRY))
def test_exception_silences_its_case_and_only_when_on(exc_id):
    exc = REGISTRY[exc_id]
    path, silenced = _where(exc.silences)
    bug_path, bug = _where(exc.must_report)
    on = _findings(path, exc.rule)
    off = _findings(path, exc.rule, {exc.id})
    assert silenced not in on
    assert silenced in off, f"{exc.id} silences nothing in {exc.silences}"
    assert bug in _findings(bug_path, exc.rule), f"{exc.id} hides {exc.must_report}"
    assert silenced in _findings(path, exc.rule, {"all"})


def test_exceptions_command_and_explain_list_them():
    out = run_cli("exceptions")
    assert out.returncode == 0
    assert all(e in out.stdout for e in REGISTRY)
    some = next(iter(REGISTRY.values()))
    shown = run_cli("explain", some.rule)
    assert some.id in shown.stdout


def test_an_unknown_exception_is_one_sentence_and_exit_2(tmp_path):
    res = run_cli("scan", "--tree", str(tmp_path), "--disable-exception", "no-such.case",
                  "x.c")
    assert res.returncode == 2
    assert "no-such.case" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
