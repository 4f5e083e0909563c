"""A run over one or more translation units: call graph, summaries, checks.

Every definition is a node of its own, named by its file (`mm/a.c:helper`), so
two files that define the same global function — two modules with the same
non-exported helper, a `__weak` default and its override, a copy of a file —
are both analysed and reported in their own files.  A call resolves to the
definition in the calling unit, then a strong definition elsewhere, then any.

The work comes in two steps that can run apart:

- `summarize`: the call graph (networkx), condensed into strongly connected
  components and walked bottom-up; each function is run with its callees'
  summaries in hand, recursion iterated to a fixpoint (or cut off after a few
  rounds).  A function is run again only when what it consumes changed: every
  summary records the digest of its inputs (the summaries of the definitions its
  calls reach), so a summary made earlier — in a worker, in an earlier run — is
  reused as it is.  Bodies are fetched one at a time (`load`), so the whole
  graph's summaries fit where its IR would not.
- `check_unit`: one unit's functions run with every checker, against summaries
  that no longer change; its findings and the facts its rules emit come back.

A summary always comes from a run with every checker subscribed (their slots
keep paths apart, so a run without them could summarise differently), and that
run's findings are kept with the inputs it saw: a check whose function's inputs
are still those reuses them instead of running the function again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from analyzer.engine import counters
from analyzer.engine.beliefs import Belief
from analyzer.engine.run import Budget, FunctionRun, RunContext
from analyzer.engine.sections import Flavours
from analyzer.frontend import deepstack
from analyzer.interproc.observer import CallSite, SummaryObserver
from analyzer.interproc.summaries import Summary, summarize
from analyzer.ir import Call, Finding, Function, Loc
from analyzer.lower.tu import LoweredTU, internal_error
from analyzer.model import ApiModel, FnModel

if TYPE_CHECKING:
    import networkx as nx

SCC_ROUNDS = 3


@dataclass
class Node:
    """A definition as the call graph sees it, without its body."""

    nid: str
    name: str
    file: str
    line: int
    static: bool = False
    weak: bool = False
    unit: str | None = None   # the unit it belongs to; None: a header inline
    tu: str = ""              # the stored entry that holds its body
    # the names it calls, and those it passes by address (RCU callbacks): both are
    # summarised before it is run
    callees: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    # the counters it changes, as (get/put/tryget, owner type, path, the owner is a
    # parameter): `engine.counters`
    counting: tuple[tuple[str, str, str, bool], ...] = ()


@dataclass
class UnitInfo:
    """One translation unit of the run, without its IR."""

    path: str
    tu: str = ""
    functions: list[str] = field(default_factory=list)    # node ids, in source order
    headers: dict[str, str] = field(default_factory=dict)  # callee name -> header node id
    problems: list[str] = field(default_factory=list)


def node_of(fn: Function, nid: str, unit: str | None, tu: str = "",
            model: ApiModel | None = None) -> Node:
    names: list[str] = []
    for b in fn.blocks:
        for ev in b.events:
            if isinstance(ev, Call):
                for name in (ev.callee, *(a.text for a in ev.args if a.kind == "func")):
                    if name and name not in names:
                        names.append(name)
    counting = tuple(dict.fromkeys((u.kind, u.owner_type, u.path, u.param)
                                   for u in counters.uses(fn, model))) if model else ()
    return Node(nid, fn.name, fn.loc.file, fn.loc.line, fn.is_static, fn.is_weak, unit, tu,
                tuple(names), tuple(fn.unsupported), counting)


def split_unit(low: LoweredTU, tu: str = "", model: ApiModel | None = None
               ) -> tuple[UnitInfo, list[Node], dict[str, Function]]:
    """A lowered unit as graph nodes and bodies; header inlines another unit lowered
    are referred to by node id only."""
    info = UnitInfo(low.path, tu, problems=list(low.problems))
    nodes: list[Node] = []
    bodies: dict[str, Function] = {}
    for name, (key, fn) in low.headers.items():
        nid = header_nid(key, name)
        info.headers[name] = nid
        if fn is not None:
            nodes.append(node_of(fn, nid, None, tu, model))
            bodies[nid] = fn
    for fn in low.functions:
        nid = f"{low.path}:{fn.name}"
        info.functions.append(nid)
        nodes.append(node_of(fn, nid, low.path, tu, model))
        bodies[nid] = fn
    return info, nodes, bodies


def header_nid(key: tuple[str, int, str], name: str) -> str:
    return f"{key[0]}:{name}"


@dataclass
class UnitResult:
    """Findings of one translation unit and what they cost."""

    path: str
    functions: int
    analysis_seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0


@dataclass
class Checked:
    """What checking one unit gave: its result and the facts its rules emitted."""

    result: UnitResult
    facts: list[tuple[str, str, tuple]] = field(default_factory=list)  # (rule, node, fact)


class Program:
    """The functions of every unit of a run, their call graph and their summaries."""

    def __init__(self, model: ApiModel, checkers=(), budget: Budget | None = None,
                 load: Callable[[Node], Function] | None = None) -> None:
        self.model = model
        self.budget = budget or Budget()
        self.flavours = Flavours(model)
        self.checkers = list(checkers)
        self.units: dict[str, UnitInfo] = {}
        self.nodes: dict[str, Node] = {}
        self.bodies: dict[str, Function] = {}
        # a body not in memory: fetched when the function must be run, then let go
        self.load = load
        # global definitions by name, strong ones first
        self.externs: dict[str, list[str]] = {}
        # header inlines by name, from every unit that brought them: what a header inline
        # calls in another header (`virt_to_folio()` → `_compound_head()`) is found here
        self.header_names: dict[str, str] = {}
        self.summaries: dict[str, Summary] = {}
        # (unit, callee name) -> the first function (by node) of the unit whose own code
        # releases that callee's result: (node, its name, the releasing call, line, file)
        self.elsewhere: dict[tuple[str, str], tuple[str, str, str, int, str]] = {}
        self.digests: dict[str, str] = {}     # node -> digest of its summary
        self.inputs: dict[str, str] = {}      # node -> digest of what its summary consumed
        self.sites: dict[str, list[CallSite]] = {}
        # summaries made before (a worker's, an earlier run's): (node, inputs) -> ...
        self.known: Callable[[Node, str], tuple[Summary, list[CallSite]] | None] | None = None
        # summaries made by this program's own runs, for a store to keep
        self.made: list[tuple[Node, str, Summary, list[CallSite]]] = []
        # per caller, the definition each name reaches, when decided elsewhere
        self.fixed: dict[str, dict[str, str | None]] = {}
        self.callers: set[str] | None = None  # nodes with callers, when decided elsewhere
        # the latest run of each function with the checkers: (inputs, has callers, run)
        self.runs: dict[str, tuple[str, bool, object]] = {}
        # the call graph, once `summarize` built it (networkx loads only then)
        self.graph: nx.DiGraph | None = None
        self.summary_seconds = 0.0
        self.summary_runs = 0
        self.results: dict[str, UnitResult] = {}
        # facts the checkers' runs emitted, per rule: (emitting node, fact)
        self.facts: dict[str, list[tuple[str, tuple]]] = {}
        # functions of files followed for their definitions (`driver/follow`)
        self.followed: set[str] = set()
        # the counters the run's puts show to be reference counts (`engine.counters`)
        self.refcounts: frozenset[tuple[str, str]] = frozenset()

    # --- what the program is made of --------------------------------------------------
    def add(self, low: LoweredTU, tu: str = "") -> UnitInfo:
        """A lowered unit, bodies and all."""
        info, nodes, bodies = split_unit(low, tu, self.model)
        self.add_unit(info, nodes)
        for nid, fn in bodies.items():
            if self.nodes[nid].tu == tu:
                self.bodies[nid] = fn
        return info

    def add_unit(self, info: UnitInfo, nodes: list[Node]) -> None:
        """A unit as its nodes: bodies come from `load` when needed."""
        self.units[info.path] = info
        for name, nid in info.headers.items():
            self.header_names.setdefault(name, nid)
        for node in nodes:
            if node.unit is None and node.nid in self.nodes:
                continue  # a header inline another unit brought already
            self.nodes[node.nid] = node
            if node.unit is not None and not node.static:
                defs = self.externs.setdefault(node.name, [])
                defs.append(node.nid)
                defs.sort(key=lambda n: self.nodes[n].weak)

    def body(self, nid: str) -> Function:
        fn = self.bodies.get(nid)
        if fn is None:
            if self.load is None:
                raise KeyError(nid)
            fn = self.load(self.nodes[nid])
        return fn

    def resolve(self, nid: str, name: str | None) -> str | None:
        """The definition a call from `nid` reaches: its own unit's, a strong one, any."""
        if not name:
            return None
        fixed = self.fixed.get(nid)
        if fixed is not None:
            return fixed.get(name)
        node = self.nodes[nid]
        local = f"{node.unit or node.file}:{name}"
        if local in self.nodes:
            return local
        unit = self.units.get(node.unit) if node.unit else None
        if unit is not None and name in unit.headers and unit.headers[name] in self.nodes:
            return unit.headers[name]
        if node.unit is None and self.header_names.get(name) in self.nodes:
            return self.header_names[name]
        defs = self.externs.get(name)
        return defs[0] if defs else None

    def resolution(self, nid: str) -> dict[str, str | None]:
        return {name: self.resolve(nid, name) for name in self.nodes[nid].callees}

    def build_graph(self) -> nx.DiGraph:
        import networkx as nx

        g = self.graph = nx.DiGraph()
        for nid, node in self.nodes.items():
            g.add_node(nid, name=node.name, file=node.file, line=node.line,
                       header=node.unit is None)
        for nid, node in self.nodes.items():
            for name in node.callees:
                callee = self.resolve(nid, name)
                if callee is not None and callee in self.nodes:
                    g.add_edge(nid, callee, sites=[])
        return g

    def has_callers(self, nid: str) -> bool:
        if self.callers is not None:
            return nid in self.callers
        return any(True for _ in self.graph.predecessors(nid))

    # --- summaries --------------------------------------------------------------------
    def inputs_of(self, nid: str) -> str:
        """The digest of what `nid`'s summary consumes: the definitions its calls reach
        and their summaries."""
        h = hashlib.sha256()
        for _, owner, path, _ in self.nodes[nid].counting:
            h.update(f"{owner}{path}\0{(owner, path) in self.refcounts}\n".encode())
        for name in sorted(self.nodes[nid].callees):
            callee = self.resolve(nid, name)
            h.update(f"{name}\0{callee}\0{self.digests.get(callee, '-')}\n".encode())
        return h.hexdigest()[:24]

    def summarize(self) -> None:
        """Every summary, bottom-up; only what changed inputs is run again."""
        import networkx as nx

        t0 = time.perf_counter()
        self.refcounts = counters.reference_counts(
            ((n.name, n.callees, n.counting) for n in self.nodes.values()), self.model)
        g = self.build_graph()
        cond = nx.condensation(g)
        order = list(reversed(list(nx.topological_sort(cond))))

        def run_all() -> None:
            for comp in order:
                members = sorted(cond.nodes[comp]["members"])
                recursive = len(members) > 1 or g.has_edge(members[0], members[0])
                rounds = SCC_ROUNDS if recursive else 1
                for _ in range(rounds):
                    before = {m: self.digests.get(m) for m in members}
                    for m in members:
                        self.summary_of(m)
                    if all(self.digests.get(m) == before[m] for m in members):
                        break

        deepstack.run(run_all)
        self.gather_elsewhere()
        for nid, sites in self.sites.items():
            by_callee: dict[str, list[CallSite]] = {}
            for site in sites:
                callee = self.resolve(nid, site.callee)
                if callee is not None and g.has_edge(nid, callee):
                    by_callee.setdefault(callee, []).append(site)
            for callee in g.successors(nid):
                g.edges[nid, callee]["sites"] = by_callee.get(callee, [])
        self.summary_seconds += time.perf_counter() - t0

    def summary_of(self, nid: str) -> None:
        node = self.nodes[nid]
        inputs = self.inputs_of(nid)
        if self.inputs.get(nid) == inputs:
            return
        known = self.known(node, inputs) if self.known is not None else None
        if known is None:
            try:
                fn = self.body(nid)
            except KeyError:
                return
            res = self.engine_run(nid, fn, checks=bool(self.checkers))
            if res is None:
                return
            if self.checkers and node.unit is not None:
                self.runs[nid] = (inputs, self.has_callers(nid), _kept(res))
            facts = res.subscriber(SummaryObserver).facts
            known = summarize(fn, res.exit_states, facts, self.flavours), facts.calls
            self.summary_runs += 1
            self.made.append((node, inputs, *known))
        self.set_summary(nid, inputs, *known)

    def set_summary(self, nid: str, inputs: str, summary: Summary,
                    sites: list[CallSite]) -> None:
        self.summaries[nid] = summary
        self.digests[nid] = summary_digest(summary)
        self.inputs[nid] = inputs
        self.sites[nid] = sites

    def gather_elsewhere(self) -> None:
        """What the summaries say their functions release of callees' results: the
        evidence each other caller of such a callee in the same unit is run with
        (`engine.beliefs`).  Only within a unit, and only where at least half of the
        unit's callers of the callee release its result: a convention of one file, not
        one function's reading of a generic accessor (`pci_get_drvdata()` released by
        a driver's remove, which drops its own reference)."""
        callers: dict[tuple[str, str], int] = {}
        for node in self.nodes.values():
            if node.unit is not None:
                for c in set(node.callees):
                    callers[(node.unit, c)] = callers.get((node.unit, c), 0) + 1
        releasers: dict[tuple[str, str], list[tuple[str, str, str, int, str]]] = {}
        for nid in sorted(self.summaries):
            s, node = self.summaries[nid], self.nodes.get(nid)
            if node is None or node.unit is None:
                continue
            for callee, api, line in s.releases_results:
                releasers.setdefault((node.unit, callee), []).append(
                    (nid, s.name, api, line, s.file))
        self.elsewhere = {k: rs[0] for k, rs in releasers.items()
                          if 2 * len(rs) >= callers.get(k, 0)}

    def elsewhere_for(self, nid: str) -> dict[str, tuple[str, str, str, int, str]]:
        """The entries another function of its unit gives for the callees `nid` calls."""
        node = self.nodes.get(nid)
        if node is None or node.unit is None:
            return {}
        got = {c: self.elsewhere.get((node.unit, c)) for c in node.callees}
        return {c: e for c, e in got.items() if e is not None and e[0] != nid}

    def released_elsewhere(self, nid: str) -> Callable[[str], Belief | None]:
        mine = self.elsewhere_for(nid)

        def lookup(name: str) -> Belief | None:
            got = mine.get(name)
            if got is None:
                return None
            _, where, api, line, file = got
            return Belief(name, Loc(file, line, 0), api, where)
        return lookup

    def lookup_for(self, nid: str) -> Callable[[str], FnModel | None]:
        def lookup(name: str) -> FnModel | None:
            callee = self.resolve(nid, name)
            s = self.summaries.get(callee) if callee else None
            if s is None:
                return None
            fm = s.to_model()
            if callee in self.followed:
                fm = replace(fm, followed=True)
            return fm
        return lookup

    def engine_run(self, nid: str, fn: Function, checks: bool):
        context = RunContext(has_callers=self.has_callers(nid), node=nid,
                             resolve=lambda name: self.resolve(nid, name),
                             released_elsewhere=self.released_elsewhere(nid),
                             refcounts=self.refcounts)
        subscribers = [SummaryObserver, *(self.checkers if checks else ())]
        try:
            return FunctionRun(fn, self.model, subscribers, lookup=self.lookup_for(nid),
                               context=context, flavours=self.flavours,
                               budget=self.budget).run()
        except Exception as exc:
            unit = self.nodes[nid].unit
            if checks and unit in self.results:
                self.results[unit].problems.append(internal_error(fn.name, exc))
            return None

    # --- checks -----------------------------------------------------------------------
    def check_unit(self, path: str) -> Checked:
        """Every checker over one unit's functions, with the summaries as they stand."""
        info = self.units[path]
        out = self.results[path] = UnitResult(path, len(info.functions),
                                              problems=list(info.problems))
        facts: list[tuple[str, str, tuple]] = []

        def run_all() -> None:
            for nid in info.functions:
                t0 = time.perf_counter()
                res = self.reusable(nid)
                if res is None:
                    fn = self.body(nid)
                    res = self.engine_run(nid, fn, checks=True)
                    if res is None:
                        continue
                    res = _kept(res)
                facts.extend((rid, nid, fact) for rid, fact in res.facts)
                out.findings.extend(res.findings)
                out.steps += res.steps
                out.analysis_seconds += time.perf_counter() - t0
                out.problems.extend(f"{res.name}(): {u}" for u in res.unsupported)
                if res.partial:
                    out.problems.append(f"{res.name}() at line {res.line}: {res.partial}")

        deepstack.run(run_all)
        out.findings.sort(key=Finding.sort_key)
        return Checked(out, facts)

    def reusable(self, nid: str):
        """The run the summary came from, if its inputs are still the function's."""
        got = self.runs.get(nid)
        if got is None or got[0] != self.inputs_of(nid) or got[1] != self.has_callers(nid):
            return None
        if self.elsewhere_for(nid):
            return None  # run before the other functions' evidence was gathered
        return got[2]

    def checkable(self, path: str) -> bool:
        """Every function of the unit has a run to reuse: checking it costs nothing."""
        return all(self.reusable(nid) is not None for nid in self.units[path].functions)

    def analyze(self, paths: list[str] | None = None) -> dict[str, UnitResult]:
        """Summaries, then every unit checked (or those of `paths`: the others only
        give summaries), then conditional findings decided."""
        self.summarize()
        checked = [self.check_unit(path) for path in (self.units if paths is None else paths)]
        resolve_conditions(self.checkers, [c.result for c in checked],
                           [f for c in checked for f in c.facts])
        return self.results


@dataclass
class _Run:
    """What a check keeps of an engine run (not its states)."""

    name: str
    line: int
    unsupported: list[str]
    findings: list[Finding]
    facts: list
    steps: int
    partial: str | None


def _kept(res) -> _Run:
    fn = res.function
    return _Run(fn.name, fn.loc.line, list(fn.unsupported), res.findings, res.facts, res.steps,
                res.partial)


def check_inputs(prog: Program, path: str, key: str) -> str:
    """The digest of everything a unit's check consumes beyond its own bodies: the
    checks run (`key`), and per function its summary's inputs and whether it has
    callers."""
    h = hashlib.sha256(key.encode())
    for nid in prog.units[path].functions:
        h.update(f"{nid}\0{prog.inputs_of(nid)}\0{prog.has_callers(nid)}\0"
                 f"{sorted(prog.elsewhere_for(nid).items())}\n".encode())
    return h.hexdigest()[:24]


def resolve_conditions(checkers, results: list[UnitResult],
                       facts: list[tuple[str, str, tuple]]) -> None:
    """Each rule decides its conditional findings with the whole program's facts."""
    by_rule: dict[str, list[tuple[str, tuple]]] = {}
    for rid, nid, fact in facts:
        by_rule.setdefault(rid, []).append((nid, fact))
    for cls in checkers:
        rid = cls.rule.id
        mine = [f for r in results for f in r.findings if f.rule == rid]
        if not any(f.conditions for f in mine):
            continue
        kept = {id(f) for f in cls.resolve(mine, by_rule.get(rid, []))}
        for r in results:
            r.findings = [f for f in r.findings if f.rule != rid or id(f) in kept]


def summary_digest(summary: Summary) -> str:
    """What callers' runs depend on (`releases_results` is not: see `Program.elsewhere`)."""
    data = summary.to_dict()
    data.pop("releases_results", None)
    return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:24]
