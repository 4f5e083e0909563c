"""One driver for every command: jobs → phase 1 → summaries → checks → findings.

`scan`, `kbuild`, `check-patch`, `graph` and `cfg` all run through a `Session`,
so each gets the cache, worker processes and crash isolation, and findings come
out ordered with their fingerprints assigned once, before any filtering.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.driver import phase1
from analyzer.driver.phase1 import Job, Outcome
from analyzer.interproc.program import Budget, Program, UnitResult
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

    @property
    def failed(self) -> list[UnitReport]:
        return [u for u in self.units if not u.analysed]


@dataclass
class Session:
    """A model, the checkers to run, and how phase 1 runs (workers, cache, libclang)."""

    model: ApiModel
    checkers: list = field(default_factory=list)
    workers: int = 1
    cache_dir: Path | None = None
    libclang: str | None = None
    # tree-relative names for report order and fingerprints
    rel: Callable[[str], str] = str
    # where a run reports how far it got (`files(n)`, `stage(text)`), or None
    progress: object | None = None
    # the most work one function may take
    budget: Budget = field(default_factory=Budget)

    def lower(self, jobs: list[Job], progress=None) -> list[Outcome]:
        outcomes = phase1.run(jobs, self.model, self.workers, self.cache_dir, self.libclang,
                              progress)
        again = phase1.missing_headers(outcomes)
        if again:
            # each on its own, from scratch: it then carries every header it needs
            for i in again:
                (outcomes[i],) = phase1.run([jobs[i]], self.model, 1, self.cache_dir,
                                            self.libclang, use_cached=False)
        return outcomes

    def run(self, jobs: list[Job], progress=None) -> RunResult:
        t0 = time.perf_counter()
        if progress is None and self.progress is not None and len(jobs) > 1:
            with self.progress.files(len(jobs)) as tick:
                outcomes = self.lower(jobs, tick)
        else:
            outcomes = self.lower(jobs, progress)
        prog = Program(self.model, self.checkers, self.budget)
        for out in outcomes:
            if out.lowered is not None:
                prog.add(out.lowered)
        if self.progress is not None and len(jobs) > 1:
            with self.progress.stage(f"summaries and checks over {len(prog.nodes)} functions"):
                results = prog.analyze()
        else:
            results = prog.analyze()
        units = [UnitReport(out, results.get(out.lowered.path) if out.lowered else None)
                 for out in outcomes]
        found = [f for r in results.values() for f in r.findings]
        return RunResult(fingerprints.assign(found, self.rel), units, prog,
                         time.perf_counter() - t0)
