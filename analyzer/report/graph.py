"""Export the call graph with summaries on nodes and call-site state on edges.

DOT for graphviz, SVG and PNG rendered by Graphviz's `dot`, GraphML for Gephi/yEd,
JSON (networkx node-link) for scripts.  Nodes say what the function does to RCU and
references; edges say whether the caller held RCU at the call.  A legend explains
the colours and styles.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

from analyzer.errors import InputError

# node colours and edge styles, explained by the legend
TAKES = "lightblue"      # takes or releases an RCU read-side section
REQUIRES = "red"         # needs its caller to hold one (outline)
REFS = "palegreen"       # returns a reference, or gets/puts one on a parameter
SLEEPS = "orange"        # may sleep (double outline)
HELD = "blue"            # edge: the caller holds RCU at the call (bold: always)


def annotated(graph: nx.DiGraph, summaries: dict, function: str | None = None, depth: int = 1,
              rel=lambda path: path) -> nx.DiGraph:
    """A copy of a run's call graph with flat, exportable attributes and tree-relative ids.

    `summaries` maps node ids to the functions' summaries; edges carry their call sites.
    """
    import networkx as nx

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

    out = ["digraph rcucheck {", "  rankdir=LR;",
           "  node [shape=box, style=filled, fillcolor=white, fontname=monospace];"]
    for nid in sorted(g.nodes):
        d = g.nodes[nid]
        tags = [t for t in (
            f"takes {d['takes_rcu']}" if d.get("takes_rcu") else "",
            f"releases {d['releases_rcu']}" if d.get("releases_rcu") else "",
            f"requires {d['requires_rcu']}" if d.get("requires_rcu") else "",
            "returns ref" if d.get("returns_ref") else "",
            f"gets param {d['gets_params']}" if d.get("gets_params") else "",
            f"puts param {d['puts_params']}" if d.get("puts_params") else "",
            "may sleep" if d.get("may_sleep") else "") if t]
        # `\n` is DOT's line break: joined after quoting, so it is not escaped
        label = q(d["name"]) if not tags else \
            q(d["name"])[:-1] + "\\n" + q(", ".join(tags))[1:]
        style = []
        if d.get("takes_rcu") or d.get("releases_rcu"):
            style.append(f'fillcolor="{TAKES}"')
        elif d.get("returns_ref") or d.get("gets_params") or d.get("puts_params"):
            style.append(f'fillcolor="{REFS}"')
        if d.get("requires_rcu"):
            style.append(f'color="{REQUIRES}", penwidth=2')
        if d.get("may_sleep"):
            style.append(f'peripheries=2, color="{SLEEPS}"' if not d.get("requires_rcu")
                         else "peripheries=2")
        if d.get("header"):
            style.append('fontcolor="gray40"')
        out.append(f"  {q(nid)} [label={label}{', ' + ', '.join(style) if style else ''}];")
    for u, v in sorted(g.edges):
        d = g.edges[u, v]
        attrs = [f"label={q('RCU ' + d['rcu_held'])}"]
        if d["rcu_held"] == "always":
            attrs.append(f'color="{HELD}", style=bold')
        elif d["rcu_held"] == "sometimes":
            attrs.append(f'color="{HELD}", style=dashed')
        out.append(f"  {q(u)} -> {q(v)} [{', '.join(attrs)}];")
    out += _legend()
    out.append("}")
    return "\n".join(out) + "\n"


def _legend() -> list[str]:
    rows = [
        (f'bgcolor="{TAKES}"', "takes or releases RCU"),
        (f'bgcolor="{REFS}"', "returns, gets or puts a reference"),
        (f'bgcolor="white" color="{REQUIRES}" border="2"', "requires the caller's RCU"),
        (f'bgcolor="white" color="{SLEEPS}" border="2"', "may sleep (double outline)"),
        ('bgcolor="white"', f'<font color="{HELD}">bold edge: RCU held at every call; '
                            "dashed: at some</font>"),
    ]
    cells = "".join(f'<tr><td {attrs} width="18"> </td><td align="left">{text}</td></tr>'
                    for attrs, text in rows)
    return ["  subgraph cluster_legend {", '    label="legend"; fontname=monospace;',
            '    legend [shape=plaintext, style="", fontname=monospace, label=<'
            f'<table border="0" cellspacing="2">{cells}</table>>];', "  }"]


def render(g: nx.DiGraph, fmt: str) -> bytes:
    """SVG or PNG through Graphviz's `dot`; one sentence when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise InputError(f"rendering {fmt} needs Graphviz's dot: install it (Debian: "
                         "apt-get install graphviz) or use --format dot")
    proc = subprocess.run([dot, f"-T{fmt}"], input=to_dot(g).encode(), capture_output=True,
                          timeout=600)
    if proc.returncode != 0:
        first = proc.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise InputError(f"dot could not render the graph: {first[0] if first else 'failed'}")
    return proc.stdout


def to_graphml(g: nx.DiGraph) -> str:
    import networkx as nx

    return "\n".join(nx.generate_graphml(g)) + "\n"


def to_json(g: nx.DiGraph) -> str:
    import networkx as nx

    data = nx.node_link_data(g, edges="edges")
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


FORMATS = {"dot": to_dot, "graphml": to_graphml, "json": to_json}
RENDERED = ("svg", "png")
