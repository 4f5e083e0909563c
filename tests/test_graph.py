"""`rcucheck graph`: DOT, GraphML and JSON exports of the annotated call graph."""

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from analyzer.driver.phase1 import Job
from analyzer.interproc.story import story
from analyzer.report import graph as graph_export
from tests.conftest import FIXTURE_ARGS, FIXTURES, run_cli
from tests.fixture_check import session
from tests.test_interproc import program


def with_stories(path):
    """The program of a fixture run, and what each function does inside (read while the
    run's store is open, as `rcucheck graph` reads it)."""
    stories = {}
    ses = session(None, str)

    def read(prog):
        stories.update({nid: story(prog.body(nid), prog.model, prog.lookup_for(nid))
                        for nid in prog.graph.nodes})

    ses.inspect = read
    ses.need_program = True
    res = ses.run([Job(str(path), tuple(FIXTURE_ARGS), str(path))])
    return res.program, stories


@pytest.fixture(scope="module")
def graph():
    prog, stories = with_stories(FIXTURES / "interproc.c")
    return graph_export.annotated(prog.graph, prog.summaries, stories=stories, apis=True)


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
    # the APIs of the functions shown come along, and link no other function in
    prog, stories = with_stories(FIXTURES / "interproc.c")
    sub = graph_export.annotated(prog.graph, prog.summaries, "memcg_get_id", depth=0,
                                 stories=stories, apis=True)
    assert {d["name"] for _, d in sub.nodes(data=True)} == {
        "memcg_get_id", "rcu_read_lock", "rcu_read_unlock", "mem_cgroup_from_id",
        "css_tryget"}


def test_nodes_tell_the_story_inside(graph):
    """What a function does inside, not only what its callers see."""
    get_id = node(graph, "memcg_get_id")
    assert get_id["sections"] == "rcu_read_lock() 65; rcu_read_unlock() 69"
    assert get_id["refs"] == "css_tryget(&memcg->css) 67"
    assert get_id["reads"] == "mem_cgroup_from_id() 66"
    # a caller that takes nothing itself: its reference comes from the helper's summary
    assert node(graph, "memcg_id_ok")["refs"] == \
        "memcg_get_id() 226; mem_cgroup_put(memcg) 232"
    assert node(graph, "tbl_sync_inside")["sections"] == \
        "rcu_read_lock() 296; rcu_read_unlock() 298"
    assert node(graph, "rcu_read_lock")["api"] is True
    assert "lock" in node(graph, "rcu_read_lock")["kinds"]
    # a call site counts once, however many paths reach it
    for _, _, d in graph.edges(data=True):
        assert d["calls"] == len(d["lines"].split(","))


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
    assert '"mm/memcontrol-v1.c:folio_memcg_lock" [label="folio_memcg_lock\\ltakes rcu' in text
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--format", "json")
    data = json.loads(res.stdout)
    names = {n["name"] for n in data["nodes"]}
    assert {"shrink_slab", "shrink_slab_memcg", "do_shrink_slab"} <= names
    # the RCU story of shrink_slab's neighbourhood, and the APIs it is told with
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--apis", "--format",
                  "json")
    data = json.loads(res.stdout)
    by = {n["name"]: n for n in data["nodes"]}
    memcg = by["shrink_slab_memcg"]
    assert "rcu_read_lock()" in memcg["sections"] and "rcu_read_unlock()" in memcg["sections"]
    assert "shrinker_try_get(shrinker)" in memcg["refs"] and "shrinker_put(" in memcg["refs"]
    assert "idr_find()" in memcg["reads"]
    assert "call_rcu(" in by["shrinker_free"]["grace"]
    assert {"rcu_read_lock", "shrinker_try_get", "shrinker_put", "idr_find",
            "call_rcu"} <= {n["name"] for n in data["nodes"] if n.get("api")}
    for e in data["edges"]:
        assert e["calls"] == len({x for x in e["lines"].split(",") if x}), e
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--function", "nope")
    assert res.returncode == 2 and "no function nope" in res.stderr


def _needs_dot():
    import os
    import shutil

    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Graphviz's dot is missing: scripts/test installs it")
        pytest.skip("Graphviz's dot is not installed")


def test_svg_has_nodes_styles_and_legend(graph):
    _needs_dot()
    svg = graph_export.render(graph, "svg").decode()
    root = ET.fromstring(svg)
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert "tbl_lock" in texts and "legend" in texts
    assert any(t and t.startswith("an RCU read-side section inside") for t in texts)
    assert any(t and t.startswith("a grace-period point") for t in texts)
    assert graph_export.TAKES in svg and graph_export.HELD in svg  # styles reach the picture
    links = [a.get("{http://www.w3.org/1999/xlink}href")
             for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert any(h and h.startswith("file://") and "interproc.c#L" in h for h in links)


def test_without_dot_one_sentence(graph, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(graph_export.InputError, match="apt-get install graphviz"):
        graph_export.render(graph, "svg")


@pytest.mark.realtree
def test_graph_pictures_from_the_cli(kernel_tree, tmp_path):
    _needs_dot()
    png = tmp_path / "g.png"
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--function",
                  "shrink_slab", "--format", "png", "-o", str(png))
    assert res.returncode == 0, res.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--function",
                  "shrink_slab", "--format", "svg")
    assert res.returncode == 0 and "shrink_slab_memcg" in res.stdout
    ET.fromstring(res.stdout)
    res = run_cli("graph", "--tree", str(kernel_tree), "mm/shrinker.c", "--format", "svg",
                  env={"PATH": "/nonexistent"})
    assert res.returncode == 2 and "apt-get install graphviz" in res.stderr
    assert "Traceback" not in res.stderr
