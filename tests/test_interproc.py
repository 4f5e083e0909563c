"""Summaries, the call graph, and checks that see through calls."""

import json
from collections import Counter

import pytest

from analyzer.interproc.summaries import Summary
from tests.conftest import FIXTURES
from tests.fixture_check import expected, run_fixtures

MULTI = FIXTURES / "multi"


def program(*paths):
    return run_fixtures(*paths).program


def found(prog, path):
    return Counter((f.loc.line, f.rule, f.level) for f in prog.results[str(path)].findings)


def test_cross_file_summaries_feed_the_caller():
    consumer = MULTI / "consumer.c"
    together = program(MULTI / "provider.c", consumer)
    assert found(together, consumer) == expected(consumer)
    assert found(together, MULTI / "provider.c") == Counter()
    alone = program(consumer)
    # without the provider's bodies the helpers are unknown; only the consumer's own
    # release of memcg_grab()'s result says that it returns a reference
    assert found(alone, consumer) == Counter({(33, "ref-leak", "warning"): 1})
    (leak,) = alone.results[str(consumer)].findings
    assert "released by mem_cgroup_put() at line 34 on another path" in leak.message
    assert leak.confidence == "medium"  # the evidence is the function's own code only
    (known,) = [f for f in together.results[str(consumer)].findings if f.rule == "ref-leak"]
    assert known.confidence == "high"  # the provider's body shows the reference


def test_summaries_of_fixture_helpers():
    prog = program(FIXTURES / "interproc.c")
    s = {k.rsplit(":", 1)[-1]: v for k, v in prog.summaries.items()}
    assert s["tbl_lock"].enters == "rcu" and s["tbl_unlock"].exits == "rcu"
    assert s["tbl_try_enter"].enters_if == "rcu" and s["tbl_try_enter"].enters is None
    assert s["tbl_cfg_rcu"].requires == "rcu" and s["tbl_cfg_rcu"].returns_rcu
    assert s["memcg_get_id"].returns_ref
    assert [s[n].may_sleep for n in ("tbl_sync3", "tbl_sync2", "tbl_sync1")] == [True] * 3
    assert s["tbl_sync1"].sleep_chain[0].startswith("tbl_sync2() at interproc.c:")
    assert s["ping"].may_sleep and s["pong"].may_sleep  # mutual recursion converges
    assert s["tnode_sum"].requires == "rcu"
    assert s["cfg_weight_ok"].requires is None
    # a sleep under a mode flag is conditional on it; a caller's test of the flag decides
    assert s["tbl_sync"].sleeps_when == [[[1, "", "&", 1, False]]]
    assert s["tbl_req_finish"].sleeps_when == [[[0, "->flags", "&", 4, True]]]
    assert not s["tbl_req_quick"].may_sleep and not s["tbl_sync_nowait"].may_sleep


def test_summaries_say_what_a_helper_replaces_and_which_puts_free():
    prog = program(FIXTURES / "rcu_free_replaced.c")
    s = {k.rsplit(":", 1)[-1]: v for k, v in prog.summaries.items()}
    group = [0, "->group", "struct tgroup"]
    assert s["tproc_move"].replaces == [group] and s["tproc_clear"].replaces == [group]
    assert s["tproc_migrate"].replaces == [group]  # one call further down
    # it loads the old group itself, or waits for readers: nothing left to its caller
    assert s["tproc_swap"].replaces == [] and s["tproc_move_sync"].replaces == []
    assert s["tgroup_put"].frees_on_last == [0] and s["tgroup_put"].to_model().put_frees
    assert s["tgroup_put_rcu"].frees_on_last == []
    assert not s["tgroup_put_rcu"].to_model().put_frees


def test_summary_round_trips_as_json():
    prog = program(FIXTURES / "interproc.c")
    for summary in prog.summaries.values():
        again = Summary.from_dict(json.loads(json.dumps(summary.to_dict())))
        assert again == summary


def test_call_graph_edges_carry_the_state_at_the_call():
    prog = program(FIXTURES / "interproc.c")
    g = prog.graph
    by_name = {g.nodes[n]["name"]: n for n in g.nodes}
    edge = g.edges[by_name["cfg_sleep_deep"], by_name["tbl_sync1"]]
    assert [site.rcu_held for site in edge["sites"]] == [True]
    edge = g.edges[by_name["cfg_sleep_outside"], by_name["tbl_sync1"]]
    assert [site.rcu_held for site in edge["sites"]] == [False]
    assert g.has_edge(by_name["ping"], by_name["pong"]) and g.has_edge(by_name["pong"],
                                                                        by_name["ping"])


@pytest.mark.parametrize("name", ["rcu_read_lock", "parent_mem_cgroup"])
def test_header_inlines_are_summarised_once(name):
    # both files call parent_mem_cgroup(), a static inline of the stand-in memcontrol.h
    prog = program(FIXTURES / "ref_unchecked_tryget.c", FIXTURES / "ref_leak.c")
    nodes = [n for n in prog.graph.nodes if prog.graph.nodes[n]["name"] == name]
    # rcu_read_lock is in the model, so its body is not needed; parent_mem_cgroup is not
    assert len(nodes) == (0 if name == "rcu_read_lock" else 1)


def test_a_global_defined_twice_is_analysed_in_both_files():
    """Two modules with the same non-exported helper: each definition is checked."""
    a, b = MULTI / "dup_a.c", MULTI / "dup_b.c"
    prog = program(a, b)
    assert found(prog, a) == expected(a) and found(prog, b) == expected(b)
    assert {n for n in prog.nodes if n.endswith(":cfg_peek")} == {f"{a}:cfg_peek",
                                                                   f"{b}:cfg_peek"}
    # a call resolves to the definition in the calling unit
    assert prog.graph.has_edge(f"{a}:dup_a_user", f"{a}:cfg_peek")


def test_a_call_resolves_to_the_strong_definition_over_a_weak_default():
    weak, strong, user = MULTI / "hook_weak.c", MULTI / "hook_strong.c", MULTI / "hook_user.c"
    for order in ((weak, strong, user), (strong, weak, user)):
        prog = program(*order)
        assert prog.graph.has_edge(f"{user}:hook_user", f"{strong}:cfg_hook")
        assert found(prog, user) == Counter()
    # with only the weak default in the run, it is the one that runs: it sleeps
    prog = program(weak, user)
    assert [(f.rule, f.level) for f in prog.results[str(user)].findings] == \
        [("rcu-sleep-in-reader", "warning")]


def test_recursive_components_record_each_call_site_once():
    prog = program(FIXTURES / "interproc.c")
    g = prog.graph
    by_name = {g.nodes[n]["name"]: n for n in g.nodes}
    # ping() and pong() call each other once each; the component runs several rounds
    assert len(g.edges[by_name["ping"], by_name["pong"]]["sites"]) == 1
    assert len(g.edges[by_name["pong"], by_name["ping"]]["sites"]) == 1
    # tnode_sum() calls itself twice (left and right subtree)
    assert len(g.edges[by_name["tnode_sum"], by_name["tnode_sum"]]["sites"]) == 2


def test_one_leak_per_object_and_place_told_by_its_first_taking():
    # twatch_probe_or_find(): `w` from twatch_lookup() or twatch_create() leaks at one
    # return: one finding, naming the first
    path = FIXTURES / "ref_leak_handoff.c"
    lines = path.read_text().splitlines()
    start = lines.index("int twatch_probe_or_find(struct tparent *p, int dev)")
    taken = start + 1 + next(i for i, t in enumerate(lines[start:]) if "twatch_lookup(" in t)
    leak = start + 1 + next(i for i, t in enumerate(lines[start:]) if "-EBUSY" in t)
    res = run_fixtures(path)
    at = [f for f in res.findings if f.rule == "ref-leak" and f.loc.line == leak]
    assert len(at) == 1 and f"twatch_lookup() at line {taken}" in at[0].message
