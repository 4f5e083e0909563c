"""Registered exceptions: each silences the fixture case it names and no more, and the
switches turn it off."""

from __future__ import annotations

import json

import pytest

from analyzer.driver.phase1 import Job
from analyzer.engine.run import Budget
from checkers import exception_registry
from tests.conftest import FIXTURE_ARGS, FIXTURES, run_cli
from tests.fixture_check import session

REGISTRY = exception_registry()


def _warnings(path, rule: str, disabled=frozenset()):
    s = session()
    s.budget = Budget(disabled=frozenset(disabled))
    res = s.run([Job(str(path), tuple(FIXTURE_ARGS), str(path))])
    assert not res.failed, [u.why_not for u in res.failed]
    return [f for f in res.findings if f.rule == rule and f.level != "note"]


def _findings(path, rule: str, disabled=frozenset()):
    return {f.function for f in _warnings(path, rule, disabled)}


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
    off = _warnings(path, exc.rule, {exc.id})
    assert silenced not in on
    assert silenced in {f.function for f in off}, f"{exc.id} silences nothing in {exc.silences}"
    # the finding it no longer silences says which exception was off
    if exc.attributed:
        assert any(exc.id in f.waived_by for f in off if f.function == silenced), exc.id
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


def test_a_demoted_finding_names_its_exception_in_every_output(tmp_path):
    """The note a heuristic made of a warning says which heuristic: SARIF properties,
    HTML and `-v` text; with the exception off it is the rule's warning again."""
    from tests.conftest import fixture_tree

    exc = REGISTRY["rcu-use-after-unlock.second-hand"]
    path, function = _where(exc.silences)
    root = fixture_tree(tmp_path / "linux", {"mm/unit.c": path.read_text()})

    def results(*extra):
        res = run_cli("scan", "--tree", str(root), "--format", "sarif", *extra, "mm/unit.c")
        assert res.returncode == 1, res.stderr
        return [r for r in json.loads(res.stdout)["runs"][0]["results"]
                if r["properties"]["function"] == function]

    (demoted,) = results()
    assert demoted["level"] == "note"
    assert demoted["properties"]["demotedBy"] == [exc.id]
    (plain,) = results("--disable-exception", exc.id)
    assert plain["level"] == "warning" and "demotedBy" not in plain["properties"]

    text = run_cli("scan", "--tree", str(root), "-v", "mm/unit.c").stdout
    line = next(x for x in text.splitlines() if ": note: " in x and "what keeps" in x)
    assert line.endswith(f"[{exc.rule}; confidence: medium; demoted by {exc.id}]")
    assert "; confidence:" not in run_cli("scan", "--tree", str(root), "mm/unit.c").stdout

    html = run_cli("scan", "--tree", str(root), "--format", "html", "mm/unit.c").stdout
    assert f'<code class="exception">{exc.id}</code>' in html


def test_every_demotion_to_a_note_is_registered():
    """A checker makes a note of a warning only through a registered exception
    (`demote=`), or because its rule's level is note: no `level="note"` by hand."""
    import ast

    from tests.conftest import ROOT

    for path in sorted((ROOT / "checkers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "report":
                for kw in node.keywords:
                    assert kw.arg != "level", f"{path.name}:{node.lineno}: level= by hand"


def test_every_early_exit_is_in_the_ledger_and_every_heuristic_is_registered():
    """An `if COND: return`/`continue` in a checker or the engine is a decision about
    what is not reported: the ledger (analyzer/engine/early_exits.toml) says which
    kind each is, and a heuristic is a registered exception that asks `allows()`.
    A new exit, or one whose condition changed, fails here until it is classified."""
    from analyzer.engine import early_exits

    new, gone = early_exits.mismatches()
    assert not new, "exits not in analyzer/engine/early_exits.toml:\n" + "\n".join(new)
    assert not gone, "ledger entries the code no longer has:\n" + "\n".join(gone)
    for entry in early_exits.ledger():
        where = f"{entry['at']}: {entry['when']}"
        assert entry["kind"] in early_exits.KINDS, where
        asks = "allows(" in entry["when"]
        if entry["kind"] == "exception":
            assert entry["id"] in REGISTRY, where
            assert asks, f"{where}: an exception's exit must ask run.allows()"
        else:
            assert not asks, f"{where}: asks allows() but is not classified an exception"
            assert entry.get("why") or entry["kind"] in ("scope", "holds", "reported",
                                                          "algorithm"), where


def test_the_ledger_fails_on_an_unclassified_exit(tmp_path, monkeypatch):
    """The ledger check sees an exit a checker grows (so the test above can fail)."""
    import shutil

    from analyzer.engine import early_exits

    for top in early_exits.SCANNED:
        shutil.copytree(early_exits.ROOT / top, tmp_path / top)
    (tmp_path / "checkers" / "probe.py").write_text(
        "def on_call(st, ev, fm):\n    if fm.sleeps_when:\n        return\n")
    monkeypatch.setattr(early_exits, "ROOT", tmp_path)
    new, gone = early_exits.mismatches()
    assert new == ["checkers/probe.py:on_call: fm.sleeps_when"] and not gone
