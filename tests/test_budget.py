"""Bounded work per function: past its budget a function is finished, not abandoned."""

from pathlib import Path

from analyzer.driver.session import Budget
from tests.fixture_check import run_generated


def many_sections(n: int) -> str:
    """`n` read-side sections behind independent flag tests, then a section left held."""
    lines = ["#include <linux/rcupdate.h>",
             "struct item { int v; struct item __rcu *next; };",
             "int many(struct item *head, unsigned long mask)", "{", "\tint sum = 0;",
             "\tstruct item *p;"]
    for i in range(n):
        lines += [f"\tif (mask & {1 << (i % 60)}UL) {{", "\t\trcu_read_lock();",
                  "\t\tp = rcu_dereference(head->next);", "\t\tif (p)", "\t\t\tsum += p->v;",
                  "\t\trcu_read_unlock();", "\t}"]
    lines += ["\trcu_read_lock();", "\tif (sum > 3)",
              "\t\treturn sum;\t/* left held */", "\trcu_read_unlock();", "\treturn 0;", "}"]
    return "\n".join(lines) + "\n"


def run(tmp_path: Path, text: str, budget: Budget):
    unit, _ = run_generated(tmp_path / "many.c", text, budget)
    return unit.result


def test_past_the_budget_the_function_is_finished(tmp_path):
    text = many_sections(300)
    result = run(tmp_path, text, Budget(steps=2_000, seconds=600))
    held = text.splitlines().index("\t\treturn sum;\t/* left held */") + 1
    # the imbalance at the very end is still found, once
    assert [(f.loc.line, f.rule) for f in result.findings] == [(held, "rcu-unbalanced")]
    (problem,) = result.problems
    assert problem.startswith("many() at line 3: analysed only partly") and "2000 steps" in problem
    assert result.steps <= 4 * 2_000


def test_within_the_budget_nothing_changes(tmp_path):
    text = many_sections(3)
    small = run(tmp_path, text, Budget())
    tight = run(tmp_path, text, Budget(steps=10_000, seconds=600))
    assert small.problems == [] == tight.problems
    assert [(f.loc.line, f.rule) for f in small.findings] == \
        [(f.loc.line, f.rule) for f in tight.findings] != []
