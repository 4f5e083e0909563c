"""Export the call graph with summaries on nodes and call-site state on edges.

DOT for graphviz, SVG and PNG rendered by Graphviz's `dot`, GraphML for Gephi/yEd,
JSON (networkx node-link) for scripts.  Nodes say what the function does to RCU and
references, for its callers (its summary) and inside (its read-side sections, the
references it takes and drops, its grace-period points); edges say at how many call
sites and whether the caller held RCU at each.  A legend explains every style.
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
TAKES = "lightblue"      # takes or releases an RCU read-side section (or has one inside)
REQUIRES = "red"         # needs its caller to hold one (outline)
REFS = "palegreen"       # returns a reference, or gets/puts one (inside or on a parameter)
SLEEPS = "orange"        # may sleep (double outline)
GRACE = "purple"         # waits for or defers past a grace period (rounded, bold)
HELD = "blue"            # edge: the caller holds RCU at the call (bold: always)
API = "gray90"           # --apis: a modelled kernel API (small ellipse)

# steps of a function's story (interproc.story), grouped for the node's lines
SECTION_KINDS = ("lock", "lock-if", "unlock")
REF_KINDS = ("get", "tryget", "put", "ref")
GRACE_KINDS = ("grace", "defer")
READ_KINDS = ("read", "walk")


def _lines(steps, kinds) -> str:
    """`rcu_read_lock() 524, 546; shrinker_try_get(shrinker) 547`: one entry per API and
    object, with every line it happens on."""
    seen: dict[tuple[str, str], list[int]] = {}
    for st in steps:
        if st.kind in kinds:
            seen.setdefault((st.api, st.what if st.kind not in SECTION_KINDS else ""),
                            []).append(st.line)
    return "; ".join(f"{api}({what}) {','.join(map(str, sorted(set(ls))))}"
                     for (api, what), ls in seen.items())


def annotated(graph: nx.DiGraph, summaries: dict, function: str | None = None, depth: int = 1,
              rel=lambda path: path, stories: dict | None = None, apis: bool = False,
              link: str | None = None) -> nx.DiGraph:
    """A copy of a run's call graph with flat, exportable attributes and tree-relative ids.

    `summaries` maps node ids to the functions' summaries; edges carry their call sites;
    `stories` maps node ids to what each does inside (interproc.story); with `apis`, the
    modelled APIs they call are nodes of their own; `link` is the base of each node's
    link to its source line (default: a file:// address).
    """
    import networkx as nx

    g = nx.DiGraph()
    stories = stories or {}

    def nid_of(nid: str) -> str:
        file, sep, name = nid.rpartition(":")
        return f"{rel(file)}:{name}" if sep else nid

    for nid, data in graph.nodes(data=True):
        s = summaries.get(nid)
        steps = stories.get(nid, [])
        where = rel(data["file"])
        url = f"{link.rstrip('/')}/{where}#L{data['line']}" if link else \
            f"file://{data['file']}#L{data['line']}"
        attrs = {"name": data["name"], "file": where, "line": data["line"],
                 "header": data["header"], "url": url,
                 "sections": _lines(steps, SECTION_KINDS), "refs": _lines(steps, REF_KINDS),
                 "grace": _lines(steps, GRACE_KINDS), "reads": _lines(steps, READ_KINDS)}
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
        # a call site is recorded once per path that reaches it: count places, not visits
        by_place: dict[tuple[int, int], set[bool]] = {}
        refs: set[str] = set()
        for site in data.get("sites", []):
            by_place.setdefault((site.loc.line, site.loc.col), set()).add(site.rcu_held)
            refs |= set(site.refs)
        places = sorted(by_place.items())
        per_site = [("always" if h == {True} else "never" if h == {False} else "sometimes")
                    for _, h in places]
        state = "unknown" if not per_site else per_site[0] \
            if len(set(per_site)) == 1 else "sometimes"
        g.add_edge(nid_of(u), nid_of(v), calls=len(places), rcu_held=state,
                   refs_held=",".join(sorted(refs)),
                   lines=",".join(str(line) for (line, _), _ in places),
                   held_at=",".join(f"{line}:{h}" for ((line, _), _), h in
                                    zip(places, per_site, strict=True)))
    if apis:
        for nid in graph.nodes:
            calls: dict[str, list] = {}
            for st in stories.get(nid, []):
                if st.modelled:
                    calls.setdefault(st.api, []).append(st)
            for api, steps in calls.items():
                aid = f"api:{api}"
                if aid not in g:
                    g.add_node(aid, name=api, file="", line=0, header=True, api=True,
                               kinds=",".join(sorted({st.kind for st in steps})), url="")
                g.add_edge(nid_of(nid), aid, calls=len({st.line for st in steps}),
                           rcu_held="", refs_held="", held_at="",
                           lines=",".join(str(x) for x in sorted({st.line for st in steps})))
    if function is not None:
        funcs = g.subgraph([n for n, d in g.nodes(data=True) if not d.get("api")])
        roots = [n for n, d in funcs.nodes(data=True) if d["name"] == function]
        keep: set[str] = set()
        for r in roots:
            keep |= set(nx.ego_graph(funcs.to_undirected(as_view=True), r, radius=depth))
        # the APIs of every function shown, whatever the radius
        keep |= {a for n in list(keep) for a in g.successors(n) if g.nodes[a].get("api")}
        g = g.subgraph(keep).copy()
    return g


def to_dot(g: nx.DiGraph) -> str:
    def q(s: object) -> str:
        return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def label(*lines: str) -> str:
        # `\l` ends a left-aligned DOT line: joined after quoting, so it is not escaped
        return q(lines[0])[:-1] + "".join("\\l" + q(ln)[1:-1] for ln in lines[1:]) + \
            ("\\l" if len(lines) > 1 else "") + '"'

    out = ["digraph rcucheck {", "  rankdir=LR;",
           "  node [shape=box, style=filled, fillcolor=white, fontname=monospace];"]
    for nid in sorted(g.nodes):
        d = g.nodes[nid]
        if d.get("api"):
            kinds = d.get("kinds", "").split(",")
            fill = TAKES if any(k in SECTION_KINDS + READ_KINDS for k in kinds) else \
                REFS if any(k in REF_KINDS for k in kinds) else API
            border = f', color="{GRACE}", penwidth=2' if any(k in GRACE_KINDS
                                                              for k in kinds) else ""
            out.append(f"  {q(nid)} [label={q(d['name'])}, shape=ellipse, fontsize=10, "
                       f'fillcolor="{fill}"{border}];')
            continue
        tags = [t for t in (
            f"takes {d['takes_rcu']}" if d.get("takes_rcu") else "",
            f"releases {d['releases_rcu']}" if d.get("releases_rcu") else "",
            f"requires {d['requires_rcu']}" if d.get("requires_rcu") else "",
            "returns ref" if d.get("returns_ref") else "",
            f"gets param {d['gets_params']}" if d.get("gets_params") else "",
            f"puts param {d['puts_params']}" if d.get("puts_params") else "",
            "may sleep" if d.get("may_sleep") else "") if t]
        lines = [d["name"]] + ([", ".join(tags)] if tags else [])
        for key, title in (("sections", "RCU"), ("reads", "reads"), ("refs", "refs"),
                           ("grace", "grace")):
            if d.get(key):
                lines.append(f"{title}: {d[key]}")
        inside_rcu = d.get("takes_rcu") or d.get("releases_rcu") or d.get("sections")
        inside_refs = d.get("returns_ref") or d.get("gets_params") or \
            d.get("puts_params") or d.get("refs")
        shape = ["filled"] + (["striped"] if inside_rcu and inside_refs else []) + \
            (["rounded"] if d.get("grace") else [])
        style = [f"style={q(','.join(shape))}"]
        if inside_rcu and inside_refs:
            style.append(f'fillcolor="{TAKES}:{REFS}"')
        elif inside_rcu:
            style.append(f'fillcolor="{TAKES}"')
        elif inside_refs:
            style.append(f'fillcolor="{REFS}"')
        if d.get("grace"):
            style.append(f'color="{GRACE}", penwidth=2')
        elif d.get("requires_rcu"):
            style.append(f'color="{REQUIRES}", penwidth=2')
        if d.get("may_sleep"):
            style.append(f'peripheries=2, color="{SLEEPS}"'
                         if not (d.get("requires_rcu") or d.get("grace")) else "peripheries=2")
        if d.get("header"):
            style.append('fontcolor="gray40"')
        if d.get("url"):
            style.append(f"URL={q(d['url'])}, tooltip={q(d['file'] + ':' + str(d['line']))}")
        style = [x for x in style if x]
        out.append(f"  {q(nid)} [label={label(*lines)}"
                   f"{', ' + ', '.join(style) if style else ''}];")
    for u, v in sorted(g.edges):
        d = g.edges[u, v]
        if g.nodes[v].get("api"):
            out.append(f"  {q(u)} -> {q(v)} [label={q(d['lines'])}, style=dotted, "
                       'color="gray50", fontsize=9];')
            continue
        calls = f"{d['calls']} calls, " if d.get("calls", 1) > 1 else ""
        attrs = [f"label={q(calls + 'RCU ' + d['rcu_held'])}"]
        if d["rcu_held"] == "always":
            attrs.append(f'color="{HELD}", style=bold')
        elif d["rcu_held"] == "sometimes":
            attrs.append(f'color="{HELD}", style=dashed')
        out.append(f"  {q(u)} -> {q(v)} [{', '.join(attrs)}];")
    out += _legend(any(g.nodes[n].get("api") for n in g.nodes))
    out.append("}")
    return "\n".join(out) + "\n"


def _legend(apis: bool) -> list[str]:
    rows = [
        (f'bgcolor="{TAKES}"', "an RCU read-side section inside, or taken or released for "
                               "the caller"),
        (f'bgcolor="{REFS}"', "references taken or dropped inside, returned, or got/put "
                              "on a parameter"),
        (f'bgcolor="{TAKES}:{REFS}"', "both (striped)"),
        (f'bgcolor="white" color="{REQUIRES}" border="2"', "requires the caller's RCU"),
        (f'bgcolor="white" color="{GRACE}" border="2"', "a grace-period point: waits "
                                                        "(synchronize_rcu) or defers "
                                                        "(call_rcu, kfree_rcu)"),
        (f'bgcolor="white" color="{SLEEPS}" border="2"', "may sleep (double outline)"),
        ('bgcolor="white"', "gray text: a static inline from a header"),
        ('bgcolor="white"', f'<font color="{HELD}">bold edge: RCU held at every call '
                            "site; dashed: at some; thin: at none</font>"),
        ('bgcolor="white"', "edge label: how many call sites, when more than one"),
    ]
    if apis:
        rows.append((f'bgcolor="{API}"', "ellipse: a kernel API of the model (dotted edge: "
                                         "the lines it is called on)"))
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
