"""A run over one or more lowered translation units: call graph, summaries, checks.

Every definition is a node of its own, named by its file (`mm/a.c:helper`), so
two files that define the same global function — two modules with the same
non-exported helper, a `__weak` default and its override, a copy of a file —
are both analysed and reported in their own files.  A call resolves to the
definition in the calling unit, then a strong definition elsewhere, then any.

`analyze` builds the call graph with networkx, condenses it into strongly
connected components and walks them bottom-up, so every function is checked
with its callees' summaries in hand; recursion is iterated to a fixpoint (or cut
off after a few rounds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import networkx as nx

from analyzer.engine.run import Budget, FunctionRun, RunContext
from analyzer.engine.sections import Flavours
from analyzer.frontend import deepstack
from analyzer.interproc.observer import SummaryObserver
from analyzer.interproc.summaries import Summary, summarize
from analyzer.ir import Call, Finding, Function
from analyzer.lower.tu import LoweredTU, internal_error
from analyzer.model import ApiModel, FnModel

SCC_ROUNDS = 3


@dataclass
class Unit:
    """One translation unit of the run: its lowered form, its calls into header inlines."""

    lowered: LoweredTU
    headers: dict[str, str] = field(default_factory=dict)  # callee name -> node id

    @property
    def path(self) -> str:
        return self.lowered.path

    @property
    def functions(self) -> list[Function]:
        return self.lowered.functions


@dataclass
class UnitResult:
    """Findings of one translation unit and what they cost."""

    path: str
    functions: int
    analysis_seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0


class Program:
    """The functions of every unit of a run, their call graph and their summaries."""

    def __init__(self, model: ApiModel, checkers=(), budget: Budget | None = None) -> None:
        self.model = model
        self.budget = budget or Budget()
        self.flavours = Flavours(model)
        self.checkers = list(checkers)
        self.units: list[Unit] = []
        self.nodes: dict[str, tuple[Unit | None, Function]] = {}
        # global definitions by name, strong ones first
        self.externs: dict[str, list[str]] = {}
        self.header_nodes: dict[tuple[str, int, str], str] = {}
        self.summaries: dict[str, Summary] = {}
        self.graph = nx.DiGraph()
        self.summary_seconds = 0.0
        self.results: dict[str, UnitResult] = {}
        # facts the checkers' runs emitted, per rule: (emitting node, fact)
        self.facts: dict[str, list[tuple[str, tuple]]] = {}

    # --- phase 1's output -------------------------------------------------------------
    def add(self, low: LoweredTU) -> Unit:
        unit = Unit(low)
        for name, (key, fn) in low.headers.items():
            nid = self.header_nodes.get(key)
            if nid is None:
                if fn is None:
                    continue
                nid = f"{key[0]}:{name}"
                self.header_nodes[key] = nid
                self.nodes[nid] = (None, fn)
            unit.headers[name] = nid
        self.units.append(unit)
        for fn in unit.functions:
            nid = f"{unit.path}:{fn.name}"
            self.nodes[nid] = (unit, fn)
            if not fn.is_static:
                defs = self.externs.setdefault(fn.name, [])
                defs.append(nid)
                defs.sort(key=lambda n: self.nodes[n][1].is_weak)
        return unit

    def known_headers(self) -> set[tuple[str, int, str]]:
        """Header inlines lowered already: another unit need not lower them again."""
        return set(self.header_nodes)

    def resolve(self, unit: Unit | None, fn: Function, name: str | None) -> str | None:
        """The definition a call from `fn` reaches: its own unit's, a strong one, any."""
        if not name:
            return None
        local = f"{unit.path if unit is not None else fn.loc.file}:{name}"
        if local in self.nodes:
            return local
        if unit is not None and name in unit.headers:
            return unit.headers[name]
        defs = self.externs.get(name)
        return defs[0] if defs else None

    # --- phase 2 ----------------------------------------------------------------------
    def analyze(self) -> dict[str, UnitResult]:
        t0 = time.perf_counter()
        g = self.graph
        for nid, (unit, fn) in self.nodes.items():
            g.add_node(nid, name=fn.name, file=fn.loc.file, line=fn.loc.line,
                       header=unit is None)
            for b in fn.blocks:
                for ev in b.events:
                    if isinstance(ev, Call):
                        # callees, and functions passed by address (RCU callbacks):
                        # both are summarised before this function is checked
                        for name in (ev.callee, *(a.text for a in ev.args if a.kind == "func")):
                            callee = self.resolve(unit, fn, name)
                            if callee is not None:
                                g.add_edge(nid, callee)
        for unit in self.units:
            self.results[unit.path] = UnitResult(unit.path, len(unit.functions),
                                                 problems=list(unit.lowered.problems))
        cond = nx.condensation(g)
        order = list(reversed(list(nx.topological_sort(cond))))

        def run_all() -> None:
            for comp in order:
                members = sorted(cond.nodes[comp]["members"])
                recursive = len(members) > 1 or g.has_edge(members[0], members[0])
                if recursive:
                    for _ in range(SCC_ROUNDS):
                        before = {m: self.summaries.get(m) for m in members}
                        for m in members:
                            self.run(m, checks=False)
                        if all(self.summaries.get(m) == before[m] for m in members):
                            break
                for m in members:
                    self.run(m, checks=self.nodes[m][0] is not None)

        deepstack.run(run_all)
        self.resolve_conditions()
        for res in self.results.values():
            res.findings.sort(key=Finding.sort_key)
        self.summary_seconds = time.perf_counter() - t0
        return self.results

    def resolve_conditions(self) -> None:
        """Each rule decides its conditional findings with the whole program's facts."""
        for cls in self.checkers:
            rid = cls.rule.id
            mine = [f for r in self.results.values() for f in r.findings if f.rule == rid]
            if not any(f.conditions for f in mine):
                continue
            kept = {id(f) for f in cls.resolve(mine, self.facts.get(rid, []))}
            for r in self.results.values():
                r.findings = [f for f in r.findings if f.rule != rid or id(f) in kept]

    def run(self, nid: str, checks: bool) -> None:
        unit, fn = self.nodes[nid]

        def lookup(name: str) -> FnModel | None:
            callee = self.resolve(unit, fn, name)
            s = self.summaries.get(callee) if callee else None
            return s.to_model() if s is not None else None

        t0 = time.perf_counter()
        context = RunContext(has_callers=any(True for _ in self.graph.predecessors(nid)),
                             node=nid, resolve=lambda name: self.resolve(unit, fn, name))
        subscribers = [SummaryObserver, *(self.checkers if checks else ())]
        try:
            res = FunctionRun(fn, self.model, subscribers, lookup=lookup, context=context,
                              flavours=self.flavours, budget=self.budget).run()
        except Exception as exc:
            if unit is not None and checks:
                self.results[unit.path].problems.append(internal_error(fn.name, exc))
            return
        facts = res.subscriber(SummaryObserver).facts
        self.summaries[nid] = summarize(fn, res.exit_states, facts, self.flavours)
        # each run records its own call sites: a recursive component's earlier rounds
        # must not leave theirs behind
        sites: dict[str, list] = {}
        for site in facts.calls:
            callee = self.resolve(unit, fn, site.callee)
            if callee is not None and self.graph.has_edge(nid, callee):
                sites.setdefault(callee, []).append(site)
        for callee in self.graph.successors(nid):
            self.graph.edges[nid, callee]["sites"] = sites.get(callee, [])
        if checks and unit is not None:
            for rid, fact in res.facts:
                self.facts.setdefault(rid, []).append((nid, fact))
            out = self.results[unit.path]
            out.findings.extend(res.findings)
            out.steps += res.steps
            out.analysis_seconds += time.perf_counter() - t0
            out.problems.extend(f"{fn.name}(): {u}" for u in fn.unsupported)
            if res.partial:
                out.problems.append(f"{fn.name}() at line {fn.loc.line}: {res.partial}")
