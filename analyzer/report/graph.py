"""Export the call graph with summaries on nodes and call-site state on edges.

DOT for graphviz (`dot -Tsvg`), GraphML for Gephi/yEd, JSON (networkx node-link)
for scripts.  Nodes say what the function does to RCU and references; edges say
whether the caller held RCU at the call.
"""

from __future__ import annotations

import json

import networkx as nx


def annotated(graph: nx.DiGraph, summaries: dict, function: str | None = None, depth: int = 1,
              rel=lambda path: path) -> nx.DiGraph:
    """A copy of a run's call graph with flat, exportable attributes and tree-relative ids.

    `summaries` maps node ids to the functions' summaries; edges carry their call sites.
    """
    g = nx.DiGraph()

    def nid_of(nid: str) -> str:
        file, sep, name = nid.rpartition(":")
        return f"{rel(file)}:{name}" if sep else nid

    for nid, data in graph.nodes(data=True):
        s = summaries.get(nid)
        attrs = {"name": data["name"], "file": rel(data["file"]), "line": data["line"],
                 "header": data["header"]}
        if s is not None:
            attrs.update({
                "takes_rcu": s.enters or (f"{s.enters_if} if true" if s.enters_if else ""),
                "releases_rcu": s.exits or "",
                "requires_rcu": s.requires or "",
                "returns_ref": s.returns_ref,
                "may_sleep": s.may_sleep,
                "puts_params": ",".join(map(str, s.puts)),
                "gets_params": ",".join(map(str, s.gets)),
            })
        g.add_node(nid_of(nid), **attrs)
    for u, v, data in graph.edges(data=True):
        sites = data.get("sites", [])
        held = {site.rcu_held for site in sites}
        state = "always" if held == {True} else "never" if held == {False} else \
            "sometimes" if held else "unknown"
        refs = sorted({r for site in sites for r in site.refs})
        lines = ",".join(str(site.loc.line) for site in sites)
        g.add_edge(nid_of(u), nid_of(v), calls=len(sites), rcu_held=state, refs_held=",".join(refs),
                   lines=lines)
    if function is not None:
        roots = [n for n, d in g.nodes(data=True) if d["name"] == function]
        keep: set[str] = set()
        for r in roots:
            keep |= set(nx.ego_graph(g.to_undirected(as_view=True), r, radius=depth))
        g = g.subgraph(keep).copy()
    return g


def to_dot(g: nx.DiGraph) -> str:
    def q(s: object) -> str:
        return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph rcucheck {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    for nid in sorted(g.nodes):
        d = g.nodes[nid]
        tags = [t for t in (
            f"takes {d['takes_rcu']}" if d.get("takes_rcu") else "",
            f"releases {d['releases_rcu']}" if d.get("releases_rcu") else "",
            f"requires {d['requires_rcu']}" if d.get("requires_rcu") else "",
            "returns ref" if d.get("returns_ref") else "",
            "may sleep" if d.get("may_sleep") else "") if t]
        label = d["name"] + ("\\n" + ", ".join(tags) if tags else "")
        style = []
        if d.get("requires_rcu"):
            style.append('color="red"')
        if d.get("takes_rcu") or d.get("releases_rcu"):
            style.append('style="filled", fillcolor="lightblue"')
        if d.get("may_sleep"):
            style.append('peripheries=2')
        if d.get("header"):
            style.append('fontcolor="gray40"')
        out.append(f"  {q(nid)} [label={q(label).replace(chr(92) * 2 + 'n', chr(92) + 'n')}"
                   f"{', ' + ', '.join(style) if style else ''}];")
    for u, v in sorted(g.edges):
        d = g.edges[u, v]
        attrs = [f"label={q('RCU ' + d['rcu_held'])}"]
        if d["rcu_held"] in ("always", "sometimes"):
            attrs.append('color="blue"')
        out.append(f"  {q(u)} -> {q(v)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_graphml(g: nx.DiGraph) -> str:
    return "\n".join(nx.generate_graphml(g)) + "\n"


def to_json(g: nx.DiGraph) -> str:
    data = nx.node_link_data(g, edges="edges")
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


FORMATS = {"dot": to_dot, "graphml": to_graphml, "json": to_json}
