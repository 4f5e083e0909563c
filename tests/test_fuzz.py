"""Generated kernel-style functions through lowering, summaries and every rule.

Sections of every flavour, gets/trygets/puts, goto ladders, loops with break and
continue, switch fall-through, statement expressions and cleanup guards, nested at
random: no exception may escape, no unit may fail, and every function must end within
its budget.  CI runs a bounded number of examples (`RCUCHECK_FUZZ_EXAMPLES` raises it).
A failing example is kept by hypothesis's database and becomes a fixture once fixed.
"""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.driver.session import Budget
from tests.fixture_check import run_generated

EXAMPLES = int(os.environ.get("RCUCHECK_FUZZ_EXAMPLES", "40"))
BUDGET = Budget(steps=5_000, seconds=30)

PRELUDE = """#include <linux/rcupdate.h>
#include <linux/srcu.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/cleanup.h>

struct node { struct list_head list; struct node __rcu *next; int v; };
static struct srcu_struct fz_srcu;
static struct list_head fz_head;
"""

SIMPLE = [
    "rcu_read_lock();", "rcu_read_unlock();", "rcu_read_lock_bh();", "rcu_read_unlock_bh();",
    "idx = srcu_read_lock(&fz_srcu);", "srcu_read_unlock(&fz_srcu, idx);",
    "p = rcu_dereference(n->next);", "if (p) v += p->v;", "css_get(&memcg->css);",
    "css_put(&memcg->css);", "if (!css_tryget(&memcg->css)) goto out;",
    "ok = css_tryget(&memcg->css);", "cond_resched();", "kfree(p);", "v++;",
    "v = ({ int t = v; t * 2; });", "p = n;", "if (v > 3) return v;", "if (!p) goto err;",
    "n = rcu_dereference(n->next);",
]


def block(children: list[str], depth: int) -> str:
    pad = "\t" * depth
    return "".join(f"{pad}{c}\n" if not c.startswith("\t") and "\n" not in c else c
                   for c in children)


@st.composite
def statements(draw, depth: int = 1) -> str:
    pad = "\t" * depth
    n = draw(st.integers(min_value=1, max_value=4))
    out = []
    for _ in range(n):
        kind = draw(st.sampled_from(
            ["simple"] * 6 + (["if", "while", "for", "switch", "scoped"] if depth < 5 else [])))
        if kind == "simple":
            out.append(f"{pad}{draw(st.sampled_from(SIMPLE))}\n")
        elif kind == "if":
            then = draw(statements(depth + 1))
            if draw(st.booleans()):
                other = draw(statements(depth + 1))
                out.append(f"{pad}if (v & {draw(st.integers(1, 64))}) {{\n{then}{pad}}} "
                           f"else {{\n{other}{pad}}}\n")
            else:
                out.append(f"{pad}if (p && v) {{\n{then}{pad}}}\n")
        elif kind in ("while", "for"):
            body = draw(statements(depth + 1))
            extra = draw(st.sampled_from(["", "break;", "continue;", "if (v) break;",
                                          "if (!p) continue;"]))
            head = "while (v-- > 0)" if kind == "while" else \
                "list_for_each_entry_rcu(n, &fz_head, list)"
            out.append(f"{pad}{head} {{\n{body}{pad}\t{extra}\n{pad}}}\n")
        elif kind == "switch":
            cases = []
            for c in range(draw(st.integers(1, 3))):
                body = draw(statements(depth + 1))
                end = draw(st.sampled_from(["break;", "", "return 0;"]))  # "" falls through
                cases.append(f"{pad}case {c}:\n{body}{pad}\t{end}\n")
            out.append(f"{pad}switch (v) {{\n{''.join(cases)}{pad}default:\n{pad}\tbreak;\n"
                       f"{pad}}}\n")
        else:
            body = draw(statements(depth + 1))
            out.append(f"{pad}scoped_guard(rcu) {{\n{body}{pad}}}\n")
    return "".join(out)


@st.composite
def functions(draw) -> str:
    fns = []
    for i in range(draw(st.integers(1, 3))):
        body = draw(statements())
        fns.append(
            f"static int fz{i}(struct node *n, struct mem_cgroup *memcg, int v)\n{{\n"
            "\tstruct node *p = NULL;\n\tint idx = 0;\n\tbool ok = false;\n"
            f"{body}"
            "\treturn v + idx + ok;\nout:\n\tv = -1;\nerr:\n\treturn v;\n}\n")
    # a caller, so that summaries are used as well as made
    calls = "".join(f"\tv += fz{i}(n, memcg, v);\n" for i in range(len(fns)))
    fns.append(f"int fz_main(struct node *n, struct mem_cgroup *memcg, int v)\n{{\n{calls}"
               "\treturn v;\n}\n")
    return PRELUDE + "\n".join(fns)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=functions())
def test_generated_functions_never_break_the_engine(tmp_path, text):
    unit, res = run_generated(tmp_path / "fz.c", text, BUDGET)
    assert unit.analysed, unit.why_not
    # an exception inside the engine or a checker becomes a problem: there must be none,
    # and every function must finish (joined past its budget, never abandoned)
    assert not [p for p in unit.result.problems if "internal error" in p], \
        unit.result.problems
    assert unit.result.steps <= 4 * BUDGET.steps * (text.count("\n{\n") + 1)
    for f in res.findings:
        assert f.rule and f.loc.line > 0 and f.message
