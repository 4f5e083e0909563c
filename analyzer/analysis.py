"""A run over one or more translation units: lowering, call graph, summaries, checks.

Phase 1 (per TU, `Program.add`): lower every function the file defines, plus the
static inline helpers from headers that its calls reach (each lowered once per
run).  The TU can then be dropped.  Phase 2 (`Program.analyze`): build the call
graph with networkx, condense it into strongly connected components and walk
them bottom-up, so every function is checked with its callees' summaries in
hand; recursion is iterated to a fixpoint (or cut off after a few rounds).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

import networkx as nx

from analyzer import deepstack, summaries
from analyzer.engine import FunctionRun
from analyzer.findings import Finding
from analyzer.frontend import ParsedTU
from analyzer.ir import Call, Function
from analyzer.lower import LowerContext, lower_function
from analyzer.model import ApiModel, FnModel
from analyzer.summaries import Summary

HEADER_DEPTH = 3
SCC_ROUNDS = 3


@dataclass
class LoweredTU:
    """Phase 1's output for one TU: plain data, so it crosses processes and caches."""

    path: str
    parse_seconds: float
    lower_seconds: float = 0.0
    functions: list[Function] = field(default_factory=list)
    # callee name -> (header key, its lowered body, or None when already known)
    headers: dict[str, tuple[tuple[str, int, str], Function | None]] = field(
        default_factory=dict)
    problems: list[str] = field(default_factory=list)
    cached: bool = False


def lower_tu(parsed: ParsedTU, model: ApiModel,
             known: set[tuple[str, int, str]] | frozenset = frozenset()) -> LoweredTU:
    """Lower a parsed TU's functions and the header inlines its calls reach."""
    out = LoweredTU(str(parsed.path), parsed.parse_seconds)
    t0 = time.perf_counter()
    deepstack.run(lambda: _lower(parsed, model, known, out))
    out.lower_seconds = time.perf_counter() - t0
    return out


def _lower(parsed: ParsedTU, model: ApiModel, known, out: LoweredTU) -> None:
    ctx = LowerContext.for_tu(parsed, model)
    for fdef in parsed.functions:
        try:
            out.functions.append(lower_function(ctx, fdef.cursor))
        except Exception as exc:  # one bad function must not stop the file
            out.problems.append(_internal(fdef.name, exc))
    done: set[str] = set()
    for _ in range(HEADER_DEPTH):
        todo = [(n, d) for n, d in ctx.header_defs.items() if n not in done]
        if not todo:
            break
        for name, cursor in todo:
            done.add(name)
            loc = cursor.location
            key = (loc.file.name if loc.file else "?", loc.line, name)
            if key in known:
                out.headers[name] = (key, None)
                continue
            try:
                out.headers[name] = (key, lower_function(ctx, cursor))
            except Exception as exc:
                out.problems.append(_internal(name, exc))


@dataclass
class Unit:
    """One translation unit, lowered."""

    path: str
    functions: list[Function]
    headers: dict[str, str]  # callee name -> node id of a header inline
    parse_seconds: float
    lower_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    cached: bool = False


@dataclass
class TUResult:
    """Findings of one translation unit and what it cost."""

    path: str
    functions: int
    parse_seconds: float
    analysis_seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0


def checker_classes(rules: list[str] | None = None):
    from checkers import REGISTRY

    if rules is None:
        return [REGISTRY[k] for k in sorted(REGISTRY)]
    return [REGISTRY[r] for r in rules]


class Program:
    def __init__(self, model: ApiModel, rules: list[str] | None = None) -> None:
        self.model = model
        self.classes = checker_classes(rules)
        self.units: list[Unit] = []
        self.nodes: dict[str, tuple[Unit | None, Function]] = {}
        self.externs: dict[str, str] = {}
        self.header_nodes: dict[tuple[str, int, str], str] = {}
        self.summaries: dict[str, Summary] = {}
        self.graph = nx.DiGraph()
        self.summary_seconds = 0.0
        self.results: dict[str, TUResult] = {}

    # --- phase 1 ----------------------------------------------------------------------
    def add(self, parsed: ParsedTU) -> Unit:
        """Lower in this process (header inlines already known are not lowered again)."""
        return self.add_lowered(lower_tu(parsed, self.model, set(self.header_nodes)))

    def add_lowered(self, low: LoweredTU) -> Unit:
        unit = Unit(low.path, low.functions, {}, low.parse_seconds, low.lower_seconds,
                    list(low.problems), low.cached)
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
            nid = self.node_id(unit, fn)
            self.nodes[nid] = (unit, fn)
            if not fn.is_static:
                self.externs.setdefault(fn.name, nid)
        return unit

    @staticmethod
    def node_id(unit: Unit, fn: Function) -> str:
        return f"{unit.path}:{fn.name}" if fn.is_static else fn.name

    def resolve(self, unit: Unit | None, fn: Function, name: str | None) -> str | None:
        if not name:
            return None
        if unit is not None:
            local = f"{unit.path}:{name}"
            if local in self.nodes:
                return local
            if name in unit.headers:
                return unit.headers[name]
        else:
            local = f"{fn.loc.file}:{name}"
            if local in self.nodes:
                return local
        return self.externs.get(name)

    # --- phase 2 ----------------------------------------------------------------------
    def analyze(self) -> dict[str, TUResult]:
        t0 = time.perf_counter()
        g = self.graph
        owners = {}
        for nid, (unit, fn) in self.nodes.items():
            g.add_node(nid, name=fn.name, file=fn.loc.file, line=fn.loc.line,
                       header=unit is None)
            owners[nid] = unit
            for b in fn.blocks:
                for ev in b.events:
                    if isinstance(ev, Call):
                        # callees, and functions passed by address (RCU callbacks):
                        # both are summarised before this function is checked
                        names = [ev.callee, *(a.text for a in ev.args if a.kind == "func")]
                        for name in names:
                            callee = self.resolve(unit, fn, name)
                            if callee is not None:
                                g.add_edge(nid, callee)
        for unit in self.units:
            self.results[unit.path] = TUResult(unit.path, len(unit.functions),
                                               unit.parse_seconds, problems=list(unit.problems))
        cond = nx.condensation(g)
        order = list(reversed(list(nx.topological_sort(cond))))

        def run_all(work) -> None:
            for comp in order:
                members = sorted(cond.nodes[comp]["members"])
                recursive = len(members) > 1 or g.has_edge(members[0], members[0])
                if recursive:
                    for _ in range(SCC_ROUNDS):
                        before = {m: self.summaries.get(m) for m in members}
                        for m in members:
                            self.run(m, owners[m], checks=False)
                        if all(self.summaries.get(m) == before[m] for m in members):
                            break
                for m in members:
                    self.run(m, owners[m], checks=owners[m] is not None)

        deepstack.run(lambda: run_all(None))
        self._drop_requires_notes()
        for res in self.results.values():
            res.findings.sort(key=Finding.sort_key)
        self.summary_seconds = time.perf_counter() - t0
        return self.results

    def run(self, nid: str, unit: Unit | None, checks: bool) -> None:
        _, fn = self.nodes[nid]

        def lookup(name: str) -> FnModel | None:
            callee = self.resolve(unit, fn, name)
            s = self.summaries.get(callee) if callee else None
            return s.to_model() if s is not None else None

        t0 = time.perf_counter()
        try:
            res = FunctionRun(fn, self.model, self.classes if checks else [],
                              lookup=lookup).run()
        except Exception as exc:
            if unit is not None and checks:
                self.results[unit.path].problems.append(_internal(fn.name, exc))
            return
        self.summaries[nid] = summaries.summarize(fn, res)
        for site in res.facts.calls:
            callee = self.resolve(unit, fn, site.callee)
            if callee is None or not self.graph.has_edge(nid, callee):
                continue
            data = self.graph.edges[nid, callee]
            data.setdefault("sites", []).append(site)
        if checks and unit is not None:
            out = self.results[unit.path]
            out.findings.extend(res.findings)
            out.steps += res.steps
            out.analysis_seconds += time.perf_counter() - t0
            out.problems.extend(f"{fn.name}(): {u}" for u in fn.unsupported)

    def _drop_requires_notes(self) -> None:
        """A helper that requires RCU is checked at its call sites, not inside itself."""
        for unit in self.units:
            res = self.results[unit.path]
            kept = []
            for f in res.findings:
                if f.key == "requires-caller":
                    nid = next((self.node_id(unit, fn) for fn in unit.functions
                                if fn.name == f.function), None)
                    if nid is not None and any(True for _ in self.graph.predecessors(nid)):
                        continue
                kept.append(f)
            res.findings = kept


def analyze_tu(parsed: ParsedTU, model: ApiModel, rules: list[str] | None = None) -> TUResult:
    """One translation unit on its own (its calls into other files stay unknown)."""
    prog = Program(model, rules)
    prog.add(parsed)
    result = prog.analyze()[str(parsed.path)]
    result.analysis_seconds = prog.summary_seconds + prog.units[0].lower_seconds
    return result


def _internal(name: str, exc: Exception) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (f"{name}(): internal error {type(exc).__name__}: {exc} "
            f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
