"""Lowering kernel C into CFGs of events."""

from pathlib import Path

import pytest

from analyzer.frontend import deepstack
from analyzer.frontend.parse import parse_file
from analyzer.ir import Assign, Call, Dead, Deref, RcuAccess, Return, Walk
from analyzer.lower import LowerContext, lower_function
from analyzer.lower.values import val_from_text
from analyzer.model import ApiModel
from tests.conftest import FIXTURE_ARGS, FIXTURES


@pytest.fixture(scope="module")
def shapes():
    parsed = parse_file(FIXTURES / "shapes.c", FIXTURE_ARGS)
    ctx = LowerContext.for_tu(parsed, ApiModel.load())
    return {f.name: lower_function(ctx, f.cursor) for f in parsed.functions}


def paths(fn, limit=2000):
    """Every acyclic path from entry to exit, as lists of events."""
    out = []
    stack = [(fn.entry, [], frozenset())]
    while stack and len(out) < limit:
        bid, evs, seen = stack.pop()
        block = fn.blocks[bid]
        evs = evs + block.events
        if bid == fn.exit:
            out.append(evs)
            continue
        for succ, _ in block.succs:
            if succ not in seen:
                stack.append((succ, evs, seen | {bid}))
    return out


def calls(evs):
    return [e.callee for e in evs if isinstance(e, Call)]


def test_goto_ladder_frees_in_reverse(shapes):
    fn = shapes["shape_goto_ladder"]
    seqs = {tuple(c for c in calls(p) if c in ("kmalloc", "kzalloc", "kfree")) for p in paths(fn)}
    assert seqs == {("kmalloc",), ("kmalloc", "kzalloc", "kfree"),
                    ("kmalloc", "kzalloc", "kfree", "kfree")}
    assert all(isinstance([e for e in p if not isinstance(e, Dead)][-1], Return)
               for p in paths(fn))


def test_allocation_macro_is_one_call_with_its_arguments(shapes):
    fn = shapes["shape_goto_ladder"]
    km = [e for b in fn.blocks for e in b.events if isinstance(e, Call) and e.callee == "kmalloc"]
    assert len(km) == 1 and km[0].via_macro and km[0].arg_text == ("16", "GFP_KERNEL")
    # the expansion's own call (kmalloc_noprof) is hidden inside the macro event
    assert "kmalloc_noprof" not in calls(e for b in fn.blocks for e in b.events)


def test_switch_fallthrough_and_default(shapes):
    fn = shapes["shape_switch"]
    assigns = {tuple(e.target.text for e in p if isinstance(e, Assign)) for p in paths(fn)}
    # case 0 falls through into case 1/2; default skips both
    assert ("r", "r", "r") in assigns
    assert ("r", "r") in assigns
    assert len(paths(fn)) == 4


def test_loops_have_back_edges(shapes):
    fn = shapes["shape_loops"]
    backs = [b for b in fn.blocks if b.back_edge_to]
    assert len(backs) >= 4  # while+continue, do-while, for(;;), list walk


def test_short_circuit_splits_conditions(shapes):
    fn = shapes["shape_short_circuit"]
    conds = [b.cond.subject.text for b in fn.blocks if b.cond is not None]
    assert conds.count("a") >= 2 and "b" in conds


def test_statement_expression_value(shapes):
    fn = shapes["shape_stmt_expr"]
    evs = [e for b in fn.blocks for e in b.events]
    assert any(isinstance(e, Assign) and e.target.text == "v" and e.value.text == "__t"
               for e in evs)


def test_rcu_dereference_is_one_access_event(shapes):
    fn = shapes["shape_rcu"]
    evs = [e for b in fn.blocks for e in b.events]
    acc = [e for e in evs if isinstance(e, RcuAccess)]
    assert len(acc) == 1 and acc[0].ptr.text == "head->next" and acc[0].ptr.root == "head"
    # lockdep's rcu_read_lock_held() inside the expansion is not the function's own call
    assert calls(evs) == ["rcu_read_lock", "rcu_read_unlock"]
    assert any(isinstance(e, Deref) and e.ptr.text == "p" for e in evs)


def test_guards_end_at_every_scope_exit(shapes):
    fn = shapes["shape_guards"]
    for p in paths(fn):
        cs = calls(p)
        assert cs.count("class_rcu_constructor") == cs.count("class_rcu_destructor") == 1
        assert cs.count("class_mutex_constructor") == cs.count("class_mutex_destructor")
        assert cs.index("class_rcu_constructor") < cs.index("class_rcu_destructor")


def test_list_walk_events(tmp_path):
    src = tmp_path / "walk.c"
    src.write_text("""
#include <linux/rculist.h>
struct it { struct list_head node; int v; };
int sum(struct list_head *h)
{
	struct it *p;
	int s = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(p, h, node)
		s += p->v;
	rcu_read_unlock();
	return s;
}
""")
    parsed = parse_file(src, FIXTURE_ARGS)
    fn = lower_function(LowerContext.for_tu(parsed, ApiModel.load()), parsed.functions[0].cursor)
    walks = [e for b in fn.blocks for e in b.events if isinstance(e, Walk)]
    assert [(w.step, w.cursor.text, w.head) for w in walks] == [(False, "p", "h"),
                                                                 (True, "p", "h")]


def test_deep_nesting_does_not_hit_the_recursion_limit(tmp_path):
    depth = 1000  # libclang itself crashes near 2000 nested parentheses
    body = "x = " + "(" * depth + "x + 1" + ")" * depth + ";\n"
    body += "if (x) " * 400 + "x++;\n"
    src = tmp_path / "deep.c"
    src.write_text(f"int deep(int x)\n{{\n{body}return x;\n}}\n")
    parsed = parse_file(Path(src), [*FIXTURE_ARGS, "-fbracket-depth=5000"])
    ctx = LowerContext.for_tu(parsed, ApiModel.load())
    fn = deepstack.run(lambda: lower_function(ctx, parsed.functions[0].cursor))
    assert sum(1 for b in fn.blocks if b.cond is not None) == 400
    # on a default stack the bindings swallow the RecursionError and lose the operand
    assigns = [e for b in fn.blocks for e in b.events if isinstance(e, Assign)]
    assert assigns[0].value.text == "x + 1"


@pytest.mark.parametrize("text,kind,root,norm", [
    ("&memcg->css", "addr", "memcg", "&memcg->css"),
    ("(memcg)", "var", "memcg", "memcg"),
    ("(struct mem_cgroup *)memcg", "var", "memcg", "memcg"),
    ("info->unit[index]", "field", "info", "info->unit[index]"),
    ("NULL", "null", None, "NULL"),
    ("0", "const", None, "0"),
])
def test_val_from_text(text, kind, root, norm):
    v = val_from_text(text)
    assert (v.kind, v.root, v.text) == (kind, root, norm)
