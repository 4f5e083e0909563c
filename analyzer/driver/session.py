"""One driver for every command: map → reduce → check, over a persistent store.

`scan`, `kbuild`, `check-patch` and `graph` all run through a `Session`:

- map (workers): each unit not in the store is parsed, lowered and summarised on
  its own (`phase1.map_unit`); the store keeps its nodes, bodies and summaries.
- reduce (here): the whole run's call graph — the run's units, and every other
  unit of the tree's latest analysis in the store — summarised bottom-up from
  summaries alone; a function is run again, its body fetched from the store,
  only when a summary it consumes changed.
- check (workers): each unit whose inputs (its bodies, the summaries its calls
  reach, its callers) changed since its last check is checked again
  (`checks.check_unit`); the others' findings come from the store.

Findings come out ordered with their fingerprints assigned once, before any
filtering.  Without a store (`--no-cache`) the run keeps one in a temporary file.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from analyzer.driver import phase1
from analyzer.driver import store as storage
from analyzer.driver.checks import CheckTask, check_unit
from analyzer.driver.executors import executor
from analyzer.driver.phase1 import Job, MapOutput, Outcome
from analyzer.interproc.program import (
    Budget,
    Checked,
    Program,
    UnitResult,
    check_inputs,
    resolve_conditions,
)
from analyzer.ir import Finding
from analyzer.model import ApiModel
from analyzer.report import fingerprints


@dataclass
class UnitReport:
    """One job's fate and cost, for `--stats`, notes on stderr and SARIF notifications."""

    outcome: Outcome
    result: UnitResult | None = None

    @property
    def name(self) -> str:
        return self.outcome.job.name

    @property
    def analysed(self) -> bool:
        return self.result is not None

    @property
    def why_not(self) -> str:
        """One sentence: why the unit was not analysed."""
        errs = self.outcome.parse_errors
        if errs:
            return (f"not analysed: {len(errs)} parse problems, first at line "
                    f"{errs[0].line}: {errs[0].message}")
        return f"not analysed: {self.outcome.error}"


@dataclass
class RunResult:
    findings: list[Finding]
    units: list[UnitReport]
    program: Program
    seconds: float = 0.0
    # findings of other units of the tree that this run's changes affect
    elsewhere: list[Finding] = field(default_factory=list)
    # what the run took from the store, and what it had to make
    reused: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[UnitReport]:
        return [u for u in self.units if not u.analysed]


@dataclass
class Session:
    """A model, the checkers to run, and how the work runs (executor, store, libclang)."""

    model: ApiModel
    checkers: list = field(default_factory=list)
    workers: int = 1
    # the store file; None: a temporary one for the run
    store_path: Path | None = None
    libclang: str | None = None
    # tree-relative names for report order and fingerprints
    rel: Callable[[str], str] = str
    # where a run reports how far it got (`files(n)`, `stage(text)`), or None
    progress: object | None = None
    # the most work one function may take
    budget: Budget = field(default_factory=Budget)
    # "local" (forked processes) or "dask", and the Dask scheduler's address
    executor: str = "local"
    scheduler: str | None = None
    # the tree whose latest analysis the store keeps
    tree: str | None = None
    # see the rest of the tree through that analysis (`--summaries`)
    consult: bool = False
    # the run's program must have its graph and summaries (`graph`): no whole-run reuse
    need_program: bool = False
    # called with the finished program while the store is still open (its bodies can be
    # fetched): what `graph` reads off each function
    inspect: Callable[[object], None] | None = None
    # leave out findings whose evidence is weaker than this (`--min-confidence`)
    min_confidence: str = "low"
    # the directory of stored preambles, for jobs that ask for one (`Job.preamble_args`)
    preambles: str | None = None
    # callees in other files, followed through the tree's definition index (`follow`)
    follow: object | None = None

    def lower(self, jobs: list[Job]) -> list[Outcome]:
        """Phase 1 only, in this process's memory (`cfg`, the mutants, affected units)."""
        return phase1.lower_many(jobs, self.model, self.workers, self.libclang)

    # --- the run ----------------------------------------------------------------------
    def run(self, jobs: list[Job]) -> RunResult:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="rcucheck-") as tmp:
            path = self.store_path or Path(tmp) / storage.FILE_NAME
            store = storage.Store(path, self.model, self._libclang_version())
            ex = executor(self.executor, self.workers, self.scheduler)
            try:
                res = _Run(self, store, ex).run(jobs)
                if self.inspect is not None and res.program is not None:
                    self.inspect(res.program)
            finally:
                ex.close()
                store.close()
        res.seconds = time.perf_counter() - t0
        if self.min_confidence != "low":
            # (after the fingerprints are given: filtering never renumbers them)
            res.findings = [f for f in res.findings if confident(f, self.min_confidence)]
            res.elsewhere = [f for f in res.elsewhere if confident(f, self.min_confidence)]
        return res

    def _libclang_version(self) -> str:
        from analyzer.frontend import clang as clangsetup
        return clangsetup.libclang_version(clangsetup.load(self.libclang))

    def check_key(self) -> str:
        rules = ",".join(sorted(c.rule.id for c in self.checkers))
        off = ",".join(sorted(self.budget.disabled))
        return f"{rules}|{self.budget.steps}|{self.budget.seconds}|{off}"


CONFIDENCE = ("low", "medium", "high")


def confident(f: Finding, least: str) -> bool:
    """Is the evidence behind `f` at least `least` (low < medium < high)?"""
    return CONFIDENCE.index(f.confidence) >= CONFIDENCE.index(least)


def run_digest(check_key: str, units: list[storage.StoredUnit]) -> str:
    """What a run's results depend on: the checks run and every unit, by key and content."""
    h = hashlib.sha256(check_key.encode())
    for su in sorted(units, key=lambda u: u.info.path):
        h.update(f"{su.info.path}\0{su.key}\0{su.version}\n".encode())
    return h.hexdigest()[:32]


class _Run:
    """One run's state: the units mapped or found, the program, the results."""

    def __init__(self, session: Session, store: storage.Store, ex) -> None:
        self.s = session
        self.store = store
        self.ex = ex
        self.reused = {"units": 0, "summaries": 0, "checks": 0, "runs": 0}
        # map outputs of followed files (their summaries), and those files' units
        self.followed_maps: list[MapOutput] = []
        self.context: set[str] = set()

    def run(self, jobs: list[Job]) -> RunResult:
        s = self.s
        units = self.map(jobs)
        prog = Program(s.model, s.checkers, s.budget, load=self.store.body)
        ours: dict[str, storage.StoredUnit] = {}
        for su in units.values():
            prog.add_unit(su.info, su.nodes)
            ours[su.info.path] = su
        followed: list[storage.StoredUnit] = []
        if s.follow is not None and ours:
            self.know(prog)
            s.follow.run(prog, list(ours), lambda jobs: self.followed(prog, jobs, followed))
        self.context = {su.info.path for su in followed}
        others = []
        if s.tree and s.consult:
            others = [su for su in self.store.latest(s.tree, skip={j.name for j in jobs})
                      if su.info.path not in prog.units]
            for su in others:
                prog.add_unit(su.info, su.nodes)
        digest = run_digest(s.check_key(), [*ours.values(), *others, *followed])
        results = None if s.need_program else self.store.run(digest)
        if results is not None:
            # the very same units as a run before: its results stand
            self.reused["runs"] = 1
            checked = {r.path: Checked(r) for r in results}
        else:
            checked = self.reduce_and_check(prog, ours, others)
            self.store.put_run(digest, [c.result for c in checked.values()])
        for c in checked.values():
            prog.results[c.result.path] = c.result
        if s.tree:
            self.store.set_latest(s.tree, [(j.name, self.keys[i]) for i, j in enumerate(jobs)
                                           if i in units and j.file == j.name])
        # units parsed from an overlay (a change being checked) are of no later use
        self.store.forget([self.keys[i] for i, j in enumerate(jobs) if j.file != j.name])
        reports = []
        for i in range(len(jobs)):
            res = checked[units[i].info.path].result if i in units else None
            reports.append(UnitReport(self.outcomes[i], res))
        mine = {units[i].info.path for i in units}
        found = [f for p in sorted(mine) for f in checked[p].result.findings]
        elsewhere = [f for p, c in sorted(checked.items()) if p not in mine
                     for f in c.result.findings]
        return RunResult(fingerprints.assign(found, s.rel), reports, prog,
                         elsewhere=fingerprints.assign(elsewhere, s.rel), reused=self.reused)

    def know(self, prog: Program) -> None:
        """Let `prog` take the summaries the map tasks made, or the store kept."""
        made: dict[tuple[str, str], tuple] = {}
        taken: set[int] = set()

        def known(node, inputs):
            for out in [*self.mapped.values(), *self.followed_maps]:
                if id(out) not in taken:
                    taken.add(id(out))
                    for n, i, summary, sites in out.summaries:
                        made[n.nid, i] = (summary, sites)
            got = made.get((node.nid, inputs))
            if got is None:
                got = self.store.summary(node, inputs)
                if got is not None:
                    self.reused["summaries"] += 1
            return got

        prog.known = known

    def reduce_and_check(self, prog: Program, ours: dict, others: list) -> dict[str, Checked]:
        s = self.s
        self.know(prog)
        self._stage(f"summaries of {len(prog.nodes)} functions", prog.summarize)
        self.store.put_summaries(prog.made)
        checked = self._stage("checks", lambda: self.check(prog, ours, others))
        results = [c.result for c in checked.values()]
        facts = [f for c in checked.values() for f in c.facts]
        resolve_conditions(s.checkers, results, facts)
        return checked

    def _stage(self, text: str, fn):
        if self.s.progress is not None and len(self.keys) > 1:
            with self.s.progress.stage(text):
                return fn()
        return fn()

    # --- map --------------------------------------------------------------------------
    def map(self, jobs: list[Job]) -> dict[int, storage.StoredUnit]:
        """Every job's unit, from the store or mapped; failures go to `outcomes`."""
        s = self.s
        self.keys = [self.store.key(job) for job in jobs]
        self.outcomes: dict[int, Outcome] = {}
        self.mapped: dict[int, MapOutput] = {}
        self.tick = None
        if s.progress is not None and len(jobs) > 1:
            with s.progress.files(len(jobs)) as self.tick:
                return self._units(jobs)
        return self._units(jobs)

    def _units(self, jobs: list[Job]) -> dict[int, storage.StoredUnit]:
        units: dict[int, storage.StoredUnit] = {}
        todo = []
        for i, job in enumerate(jobs):
            su = self.store.unit(job)
            if su is not None:
                units[i] = su
                self.reused["units"] += 1
                if self.tick:
                    self.tick(Outcome(job, meta=su.meta))
            else:
                todo.append(i)
                if self.s.preambles and self.s.tree and not job.preamble_args and \
                        job.file == job.name and self.store.analysed_before(self.s.tree,
                                                                            job.name):
                    # analysed before, changed since: a file being worked on, parsed
                    # against its stored include block
                    jobs[i] = replace(job, preamble_args=job.args)
        self._map(jobs, todo, units)
        for i, su in units.items():
            self.outcomes[i] = Outcome(jobs[i], meta=su.meta)
        # job order, whatever order the workers finished in: the first unit carrying a
        # header inline gives its body, the same on every executor
        return dict(sorted(units.items()))

    def _map(self, jobs, todo: list[int], units: dict) -> None:
        """Map `todo`.  Every unit lowers the header inlines its calls reach itself: which
        ones another unit of the run lowered first depends on the order workers finish in,
        and a stored unit must stand on its own in a later run."""
        s = self.s
        if not todo:
            return

        def done(k: int, r) -> None:
            i = todo[k]
            out = phase1.as_outcome(jobs[i], r)
            if isinstance(out, MapOutput):
                self.mapped[i] = out
                self.store.put_unit(self.keys[i], jobs[i].file, out.deps or [], out.meta,
                                    out.info, out.nodes, out.owned, out.bodies)
                self.store.put_summaries(out.summaries)
                out.bodies = {}  # in the store now
                units[i] = storage.StoredUnit(self.keys[i], out.meta, out.info, out.nodes,
                                              out.owned, storage.version(out.deps or []))
                self.outcomes.pop(i, None)
                report = Outcome(jobs[i], meta=out.meta)
            else:
                units.pop(i, None)
                self.outcomes[i] = report = out
            if self.tick:
                self.tick(report)

        self.ex.map(phase1.map_unit, [(jobs[i], self.keys[i], s.model, s.checkers,
                                       s.check_key(), s.budget, s.libclang, s.preambles)
                                      for i in todo],
                    done)

    def followed(self, prog: Program, jobs: list[Job],
                 into: list[storage.StoredUnit]) -> list[str]:
        """Units of files followed for their definitions (`follow`), from the store or
        mapped, added to `prog`; those that fail to parse are left out quietly (their
        calls stay unknown, as without following)."""
        s = self.s
        got, todo = [], []
        for job in jobs:
            su = self.store.unit(job)
            if su is not None:
                got.append(su)
            else:
                todo.append((job, self.store.key(job)))
        outs = self.ex.map(phase1.map_unit, [(job, key, s.model, s.checkers, s.check_key(),
                                              s.budget, s.libclang, None)
                                             for job, key in todo])
        for (job, key), r in zip(todo, outs, strict=True):
            out = phase1.as_outcome(job, r)
            if not isinstance(out, MapOutput):
                continue
            self.store.put_unit(key, job.file, out.deps or [], out.meta, out.info,
                                out.nodes, out.owned, out.bodies)
            self.store.put_summaries(out.summaries)
            self.followed_maps.append(out)
            out.bodies = {}
            got.append(storage.StoredUnit(key, out.meta, out.info, out.nodes, out.owned,
                                          storage.version(out.deps or [])))
        added = []
        for su in got:
            if su.info.path in prog.units:
                continue
            prog.add_unit(su.info, su.nodes)
            into.append(su)
            added.append(su.info.path)
        return added

    # --- check ------------------------------------------------------------------------
    def check(self, prog: Program, ours: dict, others: list) -> dict[str, Checked]:
        """Every unit of the run, and every other unit whose inputs changed since its
        last check: from the store when nothing changed, else in the workers."""
        s = self.s
        checked: dict[str, Checked] = {}
        todo: list[tuple[str, str, str]] = []
        candidates = [(p, su.key, True) for p, su in ours.items()] + \
            [(su.info.path, su.key, False) for su in others if su.info.path not in ours
             and su.info.path not in self.context]
        local = {out.info.path: out for out in self.mapped.values()}
        for path, key, mine in candidates:
            inputs = check_inputs(prog, path, s.check_key())
            out = local.get(path)
            if out is not None and out.check_inputs == inputs:
                # checked in its map task with the same inputs
                self.store.put_checked(key, inputs, out.checked)
                checked[path] = storage.CODEC.loads(out.checked)
                continue
            got = self.store.checked(key, inputs)
            if got is not None:
                checked[path] = got
                self.reused["checks"] += 1
            elif prog.checkable(path):
                # the reduce ran every function of the unit with these inputs already
                checked[path] = prog.check_unit(path)
                self.store.put_checked(key, inputs, storage.CODEC.dumps(checked[path]))
            elif mine or self.store.checked_before(key):
                todo.append((path, key, inputs))
        tasks = [(self.task(prog, path, key), s.model, s.checkers, s.budget)
                 for path, key, _ in todo]
        outs = self.ex.map(check_unit, tasks)
        for (path, key, inputs), r in zip(todo, outs, strict=True):
            if r.value is None:
                res = UnitResult(path, len(prog.units[path].functions),
                                 problems=[f"not checked: {r.error}"])
                checked[path] = Checked(res)
                continue
            self.store.put_checked(key, inputs, r.value)
            checked[path] = storage.CODEC.loads(r.value)
        return checked

    def task(self, prog: Program, path: str, key: str) -> CheckTask:
        info = prog.units[path]
        fixed = {nid: prog.resolution(nid) for nid in info.functions}
        reached = {c for r in fixed.values() for c in r.values() if c}
        return CheckTask(info, [prog.nodes[n] for n in info.functions],
                         self.store.bodies(key, info.functions), fixed,
                         {n for n in info.functions if prog.has_callers(n)},
                         {c: prog.summaries[c] for c in reached if c in prog.summaries},
                         {c: list(e) for n in info.functions
                          for c, e in prog.elsewhere_for(n).items()},
                         reached & prog.followed, prog.refcounts)
