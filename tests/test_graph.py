"""`rcucheck graph`: DOT, GraphML and JSON exports of the annotated call graph."""

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from analyzer.report import graph as graph_export
from tests.conftest import FIXTURES, run_cli
from tests.test_interproc import program


@pytest.fixture(scope="module")
def graph():
    prog = program(FIXTURES / "interproc.c")
    return graph_export.annotated(prog.graph, prog.summaries)


def node(g, name):
    return next(d for n, d in g.nodes(data=True) if d["name"] == name)


def test_nodes_carry_summaries(graph):
    assert node(graph, "tbl_lock")["takes_rcu"] == "rcu"
    assert node(graph, "tbl_unlock")["releases_rcu"] == "rcu"
    assert node(graph, "tbl_try_enter")["takes_rcu"] == "rcu if true"
    assert node(graph, "tbl_cfg_rcu")["requires_rcu"] == "rcu"
    assert node(graph, "memcg_get_id")["returns_ref"] is True
    assert node(graph, "tbl_sync1")["may_sleep"] is True


def test_neighbourhood(graph):
    prog = program(FIXTURES / "interproc.c")
    sub = graph_export.annotated(prog.graph, prog.summaries, "tbl_sync2", depth=1)
    assert {d["name"] for _, d in sub.nodes(data=True)} == {"tbl_sync1", "tbl_sync2",
                                                            "tbl_sync3"}


def test_formats_parse_back(graph):
    dot = graph_export.to_dot(graph)
    assert dot.startswith("digraph rcucheck {") and dot.rstrip().endswith("}")
    assert 'label="RCU always"' in dot and "may sleep" in dot
    ET.fromstring(graph_export.to_graphml(graph))
    data = json.loads(graph_export.to_json(graph))
    again = nx.node_link_graph(data, edges="edges")
    assert again.number_of_edges() == graph.number_of_edges()


@pytest.mark.realtree
def test_graph_cli_on_real_file(kernel_tree, tmp_path):
    out = tmp_path / "g.dot"
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/memcontrol-v1.c", "--function",
                  "folio_memcg_lock", "-o", str(out))
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert '"mm/memcontrol-v1.c:folio_memcg_lock" [label="folio_memcg_lock\\ntakes rcu"' in text
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--format", "json")
    data = json.loads(res.stdout)
    names = {n["name"] for n in data["nodes"]}
    assert {"shrink_slab", "shrink_slab_memcg", "do_shrink_slab"} <= names
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--function", "nope")
    assert res.returncode == 2 and "no function nope" in res.stderr
